"""How every Redis command client of the process is made: one configuration, one place.

A bounded pool that waits for a free connection (a burst queues instead of opening
thousands of sockets or failing with "too many connections"), and one retry on a
connection found dead: after Redis restarts, each pooled connection fails once when next
used, and an auto-pipelined batch on such a connection would fail every caller in it.
A retried batch is re-sent whole; the scripts sent this way are safe to repeat (a join
returns the same place, a mark is owned by its hold id). Pub/sub never borrows from
these pools (``platform/pubsub.py``).
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

HEALTH_CHECK_SECONDS = 30


def command_pool(
    url: str, *, max_connections: int, wait_seconds: float, decode_responses: bool = True
) -> BlockingConnectionPool:
    return BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=wait_seconds,
        decode_responses=decode_responses,
        health_check_interval=HEALTH_CHECK_SECONDS,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.02), retries=2),
        retry_on_error=[RedisConnectionError],
    )


def command_client(url: str, *, max_connections: int = 64, wait_seconds: float = 5.0) -> Redis:
    """A client on its own :func:`command_pool` (closing the client closes the pool)."""
    pool = command_pool(url, max_connections=max_connections, wait_seconds=wait_seconds)
    return Redis.from_pool(pool)
