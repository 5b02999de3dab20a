"""The flash sale's HTTP client (bench/flash/client.py) against real servers on loopback:
keep-alive reuse, a connection the server closed while idle, streamed bodies, and the
errors a buyer's code catches (``OSError``, ``TimeoutError``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from bench.flash.client import AnswerLost, Client


@pytest.fixture
async def server() -> AsyncIterator[tuple[int, list[tuple[str, int]]]]:
    """An aiohttp server that closes idle keep-alive connections after 0.2 s; the list
    collects the peer (address, port) of every request, so reuse shows as a repeated one."""
    peers: list[tuple[str, int]] = []

    async def echo(request: web.Request) -> web.Response:
        assert request.transport is not None
        peers.append(request.transport.get_extra_info("peername"))
        body = await request.json() if request.body_exists else None
        answer = {"method": request.method, "body": body, "auth": request.headers.get("X-Who")}
        return web.json_response(answer, status=201, headers={"ETag": '"v1"'})

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for number in range(3):
            await response.write(f"event: position\ndata: {number}\n\n".encode())
            await asyncio.sleep(0.01)
        if request.query.get("stall"):
            await asyncio.sleep(5)
        return response

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/events", events)
    runner = web.AppRunner(app, keepalive_timeout=0.2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield port, peers
    await runner.cleanup()


async def test_requests_reuse_one_connection_and_read_json_and_headers(
    server: tuple[int, list[tuple[str, int]]],
) -> None:
    port, peers = server
    client = Client("127.0.0.1", port, "127.0.0.2")
    seats = {"seat_ids": ["a"]}
    first = await client.request("POST", "/echo", json=seats, headers={"X-Who": "fan"})
    second = await client.request("DELETE", "/echo")
    client.close()

    assert (first.status, first.headers["etag"]) == (201, '"v1"')
    assert first.json() == {"method": "POST", "body": seats, "auth": "fan"}
    assert second.json()["method"] == "DELETE"
    assert peers[0] == peers[1]  # one keep-alive connection for both
    assert peers[0][0] == "127.0.0.2"  # from the household's own source address


async def test_a_connection_the_server_closed_while_idle_is_replaced(
    server: tuple[int, list[tuple[str, int]]],
) -> None:
    port, peers = server
    client = Client("127.0.0.1", port)
    await client.request("GET", "/echo")
    await asyncio.sleep(0.5)  # past the server's keep-alive timeout: it closes the connection
    answer = await client.request("GET", "/echo")
    client.close()

    assert answer.status == 201
    assert peers[0] != peers[1]


async def test_a_stream_yields_its_chunks_until_it_ends_or_stalls(
    server: tuple[int, list[tuple[str, int]]],
) -> None:
    port, _ = server
    client = Client("127.0.0.1", port)
    head, connection = await client.stream("/events", headers={"Accept": "text/event-stream"})
    received = b"".join([chunk async for chunk in connection.chunks(read_seconds=5)])
    connection.close()
    assert head.status == 200
    assert received.count(b"event: position") == 3

    _, stalled = await client.stream("/events?stall=1")
    with pytest.raises(TimeoutError):
        async for _chunk in stalled.chunks(read_seconds=0.3):
            pass
    stalled.close()


async def test_a_request_lost_on_a_reused_connection_is_sent_again_but_not_on_a_new_one() -> None:
    """A server that answers only a connection's first request and closes on the second:
    the client sends the second again on a new connection (nothing of an answer had come,
    as when a keep-alive connection is closed just as a request goes out); a new
    connection closed without an answer is the buyer's error."""
    connections = 0

    async def first_only(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        if connections == 3:  # the third connection answers nothing
            writer.close()
            return
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        with contextlib.suppress(asyncio.IncompleteReadError):  # or the client closed it
            await reader.readuntil(b"\r\n\r\n")
        writer.close()  # the second request on this connection: closed unanswered

    server = await asyncio.start_server(first_only, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = Client("127.0.0.1", port)
    try:
        assert (await client.request("GET", "/")).status == 200
        assert (await client.request("GET", "/")).status == 200  # sent again, connection 2
        assert connections == 2
        await asyncio.sleep(0)
        client.close()
        with pytest.raises(AnswerLost):
            await client.request("GET", "/")  # connection 3, new: closed unanswered
    finally:
        server.close()
        await server.wait_closed()


async def test_an_answer_that_is_not_http_and_a_refused_connection_are_os_errors() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        await writer.drain()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(AnswerLost, match="not an HTTP answer"):
            await Client("127.0.0.1", port).request("GET", "/")
    finally:
        server.close()
        await server.wait_closed()
    with pytest.raises(ConnectionRefusedError):  # an OSError: nothing listens there now
        await Client("127.0.0.1", port).request("GET", "/")
