"""How every Redis command client of the process is made: one configuration, one place.

A bounded pool that waits for a free connection (a burst queues instead of opening
thousands of sockets or failing with "too many connections"), and one retry on a
connection found dead: after Redis restarts, each pooled connection fails once when next
used, and an auto-pipelined batch on such a connection would fail every caller in it.
A retried batch is re-sent whole; the scripts sent this way are safe to repeat (a join
returns the same place, a mark is owned by its hold id). Pub/sub never borrows from
these pools (``platform/pubsub.py``).

``redis+cluster://host:port,host:port/0`` makes the same clients on a Redis Cluster
(docs/redis.md): every multi-key script and transaction keeps its keys in one slot by a
hash tag (``{show_id}``), non-transactional pipelines may span slots.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeAlias
from urllib.parse import unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

HEALTH_CHECK_SECONDS = 30
CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")
RedisClient: TypeAlias = Redis | RedisCluster
"""A single Redis or a Redis Cluster: the URL's scheme chooses (see :func:`command_client`)."""


class _Cluster(RedisCluster):
    """redis-py's cluster client, made to behave like the single-node command clients:

    - a burst waits for a connection instead of failing: at most ``max_connections``
      commands and pipelines are in flight at once (so no node is asked for more
      connections than that; redis-py raises MaxConnectionsError past it);
    - initialized (slots and nodes read) before its first command, once: redis-py 8.1 let
      concurrent first commands on a fresh client fail (a connection used while another
      task was still connecting it; 15 of 20 fresh clients with 20 concurrent SETs).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.in_flight = asyncio.Semaphore(int(kwargs["max_connections"]))

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        if self._initialize:
            await self.initialize()
        async with self.in_flight:
            return await super().execute_command(*args, **kwargs)

    def pipeline(self, transaction: Any | None = None, shard_hint: Any | None = None) -> Any:
        return _ClusterPipeline(self, transaction)  # type: ignore[abstract]


class _ClusterPipeline(ClusterPipeline):
    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        client = self.cluster_client
        if client._initialize:
            await client.initialize()
        async with client.in_flight:  # type: ignore[attr-defined]
            return await super().execute(*args, **kwargs)


def is_cluster(url: str) -> bool:
    """``redis+cluster://host:port,host:port/0`` (or ``rediss+cluster://``) names a cluster."""
    return urlsplit(url).scheme.lower() in CLUSTER_SCHEMES


def cluster_client(
    url: str, *, max_connections: int = 64, decode_responses: bool = True, **options: object
) -> RedisCluster:
    """A Redis Cluster client seeded with every node the URL lists. It finds the slots'
    owners itself and follows MOVED/ASK; a node's connections beyond ``max_connections``
    are refused (MaxConnectionsError) rather than waited for."""
    parts = urlsplit(url)
    nodes = []
    for node in parts.netloc.rsplit("@", 1)[-1].split(","):
        host, _, port = node.rpartition(":")
        nodes.append(ClusterNode(host or "127.0.0.1", int(port or 6379)))
    return _Cluster(
        startup_nodes=nodes,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        ssl=parts.scheme.lower().startswith("rediss"),
        decode_responses=decode_responses,
        max_connections=max_connections,
        health_check_interval=HEALTH_CHECK_SECONDS,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.02), retries=2),
        **options,  # type: ignore[arg-type]
    )


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


def command_client(
    url: str, *, max_connections: int = 64, wait_seconds: float = 5.0
) -> RedisClient:
    """A client on its own :func:`command_pool` (closing the client closes the pool), or a
    :func:`cluster_client` when the URL names a cluster (``redis+cluster://``)."""
    if is_cluster(url):
        return cluster_client(url, max_connections=max_connections)
    pool = command_pool(url, max_connections=max_connections, wait_seconds=wait_seconds)
    return Redis.from_pool(pool)
