"""The buyers' HTTP/1.1 client: keep-alive connections from one source address, answers
parsed by httptools (uvicorn's parser), and nothing more.

The flash sale's load generator shares the two cores with the servers it measures, so
every millisecond it spends is one the servers lose. With aiohttp, half of a generator
process's samples (py-spy, during a full sale) were its per-request machinery: request and
response objects, header multidicts, payload writers, connector bookkeeping. A buyer needs
none of it: it sends a few headers and a JSON body to one gateway and reads a JSON answer
or a Server-Sent Events stream. ``bench.common.Connection`` (the purchase, holds and
catalog benches) is leaner still but cannot serve here: it reads Content-Length bodies
only (a stream is chunked), keeps no answer headers (``ETag``, ``Retry-After``), and is one
connection with no source address of its own. ``bench/arrival.py`` goes further (one
protocol per fan, no client at all); this keeps the buyers' code a sequence of awaited
requests.

Errors are what a buyer's code catches: ``OSError`` (``ConnectionError``: refused, reset,
closed before the answer was whole, or an answer that is not HTTP) and ``TimeoutError``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

import httptools
import orjson

CONNECT_SECONDS = 30.0


class AnswerLost(ConnectionError):
    """The connection closed before the answer was whole, or it was not HTTP."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes

    def json(self) -> dict[str, Any]:
        """The body's JSON object; ``{"raw": …}`` when it is not one (an nginx error page)."""
        try:
            body = orjson.loads(self.body) if self.body else {}
        except orjson.JSONDecodeError:
            return {"raw": self.body[:200].decode("utf-8", "replace")}
        return body if isinstance(body, dict) else {"raw": str(body)[:200]}


class Connection(asyncio.Protocol):
    """One keep-alive connection, one request at a time: an answer is whole at the parser's
    message end or, for a stream, at its head, after which the body's chunks go to a queue."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.reused = False  # it has carried an answer before the current request
        self.answering = False  # a byte of the current answer has arrived
        self._waiter: asyncio.Future[Answer] | None = None
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._chunks: asyncio.Queue[bytes | None] | None = None  # set while streaming

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.answering = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._lost(AnswerLost(f"not an HTTP answer: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost(AnswerLost(f"connection closed: {exc}" if exc else "connection closed"))

    # httptools' callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        if self._chunks is not None and self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(self._answer(b""))

    def on_body(self, body: bytes) -> None:
        if self._chunks is not None:
            self._chunks.put_nowait(body)
        else:
            self._body.append(body)

    def on_message_complete(self) -> None:
        if self._chunks is not None:
            self._chunks.put_nowait(None)
        elif self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(self._answer(b"".join(self._body)))
        if not self.parser.should_keep_alive():
            self.close()

    # the client's side

    def send(self, request: bytes, *, stream: bool) -> asyncio.Future[Answer]:
        if self.transport is None or self.closed:
            raise AnswerLost("closed before the request was sent")
        self._headers, self._body, self.answering = {}, [], False
        self._chunks = asyncio.Queue() if stream else None
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self._waiter

    async def chunks(self, read_seconds: float) -> AsyncIterator[bytes]:
        """A streamed body's chunks as they arrive, until it ends or the connection closes;
        ``TimeoutError`` after ``read_seconds`` without one (a timer per wait, not per chunk)."""
        assert self._chunks is not None
        while True:
            if self._chunks.empty():
                async with asyncio.timeout(read_seconds):
                    chunk = await self._chunks.get()
            else:
                chunk = self._chunks.get_nowait()
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _answer(self, body: bytes) -> Answer:
        return Answer(self.parser.get_status_code(), self._headers, body)

    def _lost(self, error: Exception) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)
        if self._chunks is not None:
            self._chunks.put_nowait(None)  # the stream ends here; its reader reconnects


class Client:
    """Requests to one gateway (``host:port``) from one source address, over keep-alive
    connections reused while they stay open (as many at once as requests in flight).

    A request has no read timeout: the gateway answers each within its
    ``proxy_read_timeout`` (a 504 at worst). A stream's reader sets its own."""

    def __init__(self, host: str, port: int, source_address: str | None = None) -> None:
        self.host, self.port = host, port
        self.local_addr = (source_address, 0) if source_address else None
        self._idle: list[Connection] = []

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> Answer:
        body = b"" if json is None else orjson.dumps(json)
        answer, connection = await self._exchange(self._head(method, path, headers, body) + body)
        if not connection.closed:
            connection.reused = True
            self._idle.append(connection)
        return answer

    async def stream(
        self, path: str, *, headers: Mapping[str, str] | None = None
    ) -> tuple[Answer, Connection]:
        """A GET whose answer's head comes back with the connection to read the body's chunks
        from (``Connection.chunks``); the caller closes that connection, never reused."""
        return await self._exchange(self._head("GET", path, headers, b""), stream=True)

    def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()

    def _head(
        self, method: str, path: str, headers: Mapping[str, str] | None, body: bytes
    ) -> bytes:
        lines = [f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"]
        if headers:
            lines.extend(f"{name}: {value}\r\n" for name, value in headers.items())
        if body:
            lines.append(f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n")
        elif method != "GET":
            lines.append("Content-Length: 0\r\n")
        lines.append("\r\n")
        return "".join(lines).encode("latin-1")

    async def _exchange(self, request: bytes, *, stream: bool = False) -> tuple[Answer, Connection]:
        while True:
            connection = await self._connection()
            try:
                return await connection.send(request, stream=stream), connection
            except AnswerLost:
                connection.close()
                if connection.reused and not connection.answering:
                    continue  # the server closed it, idle, as this was sent: send it again
                raise
            except BaseException:
                connection.close()
                raise

    async def _connection(self) -> Connection:
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                return connection
        loop = asyncio.get_running_loop()
        _, connection = await asyncio.wait_for(
            loop.create_connection(Connection, self.host, self.port, local_addr=self.local_addr),
            CONNECT_SECONDS,
        )
        return connection
