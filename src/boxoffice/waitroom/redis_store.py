"""The Redis queue store: one Lua script per change, every key of a show hash-tagged ``{show_id}``.

Keys of a show (all in one Redis Cluster slot): ``meta`` (hash: issued, serving, opened,
last tick, carried allowance, measured rate), ``entries`` (hash: entry id -> JSON),
``users`` (user id -> entry id), ``numbers`` (number -> entry id), ``active`` (sorted
set: user id scored by admission expiry) and ``pre`` (the pre-queue, a list). The set of
shows with a queue is one key outside the shows' slots, touched by a separate command.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Sequence

import orjson

from boxoffice.platform.autopipeline import AutoPipeline
from boxoffice.platform.pubsub import RedisSubscriber, publish_command
from boxoffice.platform.redisconn import RedisClient, command_client
from boxoffice.waitroom.domain import (
    LINE_SAMPLES,
    AdmitResult,
    Entry,
    EntryLeft,
    LineSample,
    ServingState,
    parse_message,
)
from boxoffice.waitroom.store import (
    SCAN_SLACK,
    Admitting,
    Deliver,
    Joining,
    JoinLimited,
    OpeningNeeded,
    QueueStore,
    Resync,
)

# A process re-adds a show to the set of queued shows at most this often (the dispatcher
# reads that set; joins need not repeat the SADD every time).
_SHOWS_SET_REFRESH_SECONDS = 10.0

_JOIN = """
local meta, entries, users, numbers, pre = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local user, entry_id, now, mode, keep = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local window = tonumber(ARGV[8])
if window > 0 then
  -- sliding-window join limits (store.window_estimate), per user then per address, counted
  -- in one hash per fixed window: KEYS[6] this window's, KEYS[7] the previous one's
  local weight = 1 - (now % window) / window
  local limits = {{'u:' .. user, tonumber(ARGV[6]), 'user'},
                  {'a:' .. ARGV[9], tonumber(ARGV[7]), 'address'}}
  for _, limit in ipairs(limits) do
    local current = tonumber(redis.call('HGET', KEYS[6], limit[1]) or '0')
    local previous = tonumber(redis.call('HGET', KEYS[7], limit[1]) or '0')
    if previous * weight + current >= limit[2] then
      return {3, limit[3], window - now % window}
    end
    redis.call('HINCRBY', KEYS[6], limit[1], 1)
  end
  redis.call('PEXPIRE', KEYS[6], window * 2)
end
local existing = redis.call('HGET', users, user)
if existing then
  local raw = redis.call('HGET', entries, existing)
  if raw and cjson.decode(raw).st ~= 'l' then return {0, raw} end
end
local opened = redis.call('HGET', meta, 'opened')
if not opened and mode ~= 'pre' then
  if redis.call('LLEN', pre) > 0 then return {2, ''} end
  redis.call('HSET', meta, 'opened', '1')
  opened = '1'
end
local entry = {id = entry_id, u = user, j = now, st = 'w', x = false, n = false}
if opened then
  local number = redis.call('HINCRBY', meta, 'issued', 1)
  entry.n = number
  redis.call('HSET', numbers, number, entry_id)
else
  redis.call('RPUSH', pre, entry_id)
end
local raw = cjson.encode(entry)
redis.call('HSET', entries, entry_id, raw)
redis.call('HSET', users, user, entry_id)
for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], keep) end
return {1, raw}
"""

_LEAVE = """
local entries, users, active, pre = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local raw = redis.call('HGET', entries, ARGV[1])
if not raw then return false end
local entry = cjson.decode(raw)
if entry.st ~= 'l' then
  entry.st = 'l'
  raw = cjson.encode(entry)
  redis.call('HSET', entries, ARGV[1], raw)
  redis.call('LREM', pre, 0, ARGV[1])
  if redis.call('HGET', users, entry.u) == ARGV[1] then redis.call('ZREM', active, entry.u) end
end
return raw
"""

_OPEN = """
local meta, entries, numbers, pre = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if redis.call('HGET', meta, 'opened') then return 0 end
local waiting = {}
for _, id in ipairs(redis.call('LRANGE', pre, 0, -1)) do waiting[id] = true end
local order = {}
for i = 1, #ARGV do order[#order + 1] = ARGV[i] end
for _, id in ipairs(redis.call('LRANGE', pre, 0, -1)) do order[#order + 1] = id end
local numbered = 0
for _, id in ipairs(order) do
  if waiting[id] then
    waiting[id] = nil
    local number = redis.call('HINCRBY', meta, 'issued', 1)
    local entry = cjson.decode(redis.call('HGET', entries, id))
    entry.n = number
    redis.call('HSET', entries, id, cjson.encode(entry))
    redis.call('HSET', numbers, number, id)
    numbered = numbered + 1
  end
end
redis.call('DEL', pre)
redis.call('HSET', meta, 'opened', '1')
return numbered
"""

_ADMIT = """
local meta, entries, numbers, active = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, rate, max_active = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local ttl, burst, slack = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', active, '-inf', now)
local m = redis.call('HMGET', meta, 'issued', 'serving', 'last', 'carry')
local issued, serving = tonumber(m[1] or '0'), tonumber(m[2] or '0')
local last, carry = tonumber(m[3] or ARGV[1]), tonumber(m[4] or '0')
local elapsed = math.min(math.max(now - last, 0), burst)
local allowance = carry + rate * elapsed / 1000
local whole = math.floor(allowance)
local count = redis.call('ZCARD', active)
local budget = math.min(whole, math.max(max_active - count, 0))
local admitted = {}
local limit = math.min(issued, serving + budget + slack)
while #admitted < budget and serving < limit do
  serving = serving + 1
  local id = redis.call('HGET', numbers, serving)
  local raw = id and redis.call('HGET', entries, id)
  if raw then
    local entry = cjson.decode(raw)
    if entry.st == 'w' then
      entry.st = 'a'
      entry.x = now + ttl
      redis.call('HSET', entries, id, cjson.encode(entry))
      redis.call('ZADD', active, now + ttl, entry.u)
      admitted[#admitted + 1] = id
      redis.call('PEXPIRE', active, ttl)
    end
  end
end
redis.call('HSET', meta, 'serving', serving, 'last', now, 'carry', tostring(allowance - whole))
return {serving, issued, redis.call('ZCARD', active), admitted}
"""


# A sale's line chart outlives its sale by a day, then Redis forgets it.
LINE_HISTORY_SECONDS = 24 * 3600


class RedisQueueStore(QueueStore):
    """Queues in Redis: any number of API processes and dispatchers share them."""

    def __init__(
        self, url: str, prefix: str, *, retention_ms: int, max_connections: int = 64
    ) -> None:
        # A join burst queues for one of these connections (platform/redisconn.py).
        self._client: RedisClient = command_client(
            url, max_connections=max_connections, wait_seconds=10
        )
        self._prefix = prefix
        self._retention_ms = retention_ms
        self._join = self._client.register_script(_JOIN)
        self._batch = AutoPipeline(self._client)
        self._shows_added: dict[str, float] = {}  # show -> when this process last SADDed it
        self._leave = self._client.register_script(_LEAVE)
        self._open = self._client.register_script(_OPEN)
        self._admit = self._client.register_script(_ADMIT)
        # Serving updates arrive on a connection of their own, never one of the pool above.
        self._deliver: Deliver | None = None
        self._resync: Resync | None = None
        self._publish = publish_command(self._client)  # SPUBLISH on a cluster
        self._subscriber = RedisSubscriber(
            url, self._received, on_reconnect=self._reconnected, name=f"{prefix}:wr:subscriber"
        )

    def _key(self, show_id: str, part: str) -> str:
        return f"{self._prefix}:wr:{{{show_id}}}:{part}"

    def _channel(self, show_id: str) -> str:
        return f"{self._prefix}:wr:serving:{show_id}"

    @property
    def _shows_key(self) -> str:
        return f"{self._prefix}:wr:shows"

    async def enter(self, joining: Joining) -> tuple[Entry, bool]:
        show_id, limits, now_ms = joining.show_id, joining.limits, joining.now_ms
        keys = [self._key(show_id, p) for p in ("meta", "entries", "users", "numbers", "pre")]
        window = limits.window_ms if limits is not None else 0
        at = now_ms // window if window else 0
        keys += [self._key(show_id, f"rl:{at}"), self._key(show_id, f"rl:{at - 1}")]
        args: list[str | int] = [
            joining.user_id,
            joining.entry_id,
            now_ms,
            "pre" if joining.pre_queue else "open",
            self._retention_ms,
            limits.per_user if limits is not None else 0,
            limits.per_address if limits is not None else 0,
            window,
            limits.address if limits is not None else "",
        ]
        await self._remember_show(show_id)
        reply = await self._batch.evalsha(_JOIN, self._join.sha, keys, args)
        code = int(reply[0])
        if code == 3:
            raise JoinLimited(str(reply[1]), int(reply[2]))
        if code == 2:
            raise OpeningNeeded(show_id)
        return Entry.from_record(show_id, orjson.loads(reply[1])), code == 1

    async def _remember_show(self, show_id: str) -> None:
        now = time.monotonic()
        if self._shows_added.get(show_id, -math.inf) + _SHOWS_SET_REFRESH_SECONDS > now:
            return
        await self._batch.execute("SADD", self._shows_key, show_id)
        self._shows_added[show_id] = now

    async def get(self, show_id: str, entry_id: str) -> Entry | None:
        # Through the turn's pipeline: every fan of an arriving crowd opens a stream, and
        # each stream reads its entry (bench/arrival.py).
        raw = await self._batch.execute("HGET", self._key(show_id, "entries"), entry_id)
        return Entry.from_record(show_id, json.loads(raw)) if raw else None

    async def leave(self, show_id: str, entry_id: str) -> Entry | None:
        keys = [self._key(show_id, p) for p in ("entries", "users", "active", "pre")]
        raw = await self._leave(keys=keys, args=[entry_id])
        return Entry.from_record(show_id, json.loads(raw)) if raw else None

    async def pre_queue(self, show_id: str) -> list[str]:
        items = await self._client.lrange(self._key(show_id, "pre"), 0, -1)  # type: ignore[misc]
        return [str(item) for item in items]

    async def open(self, show_id: str, order: Sequence[str]) -> int:
        keys = [self._key(show_id, p) for p in ("meta", "entries", "numbers", "pre")]
        return int(await self._open(keys=keys, args=list(order)))

    async def is_open(self, show_id: str) -> bool:
        return bool(await self._client.hget(self._key(show_id, "meta"), "opened"))  # type: ignore[misc]

    async def admit_next(self, admitting: Admitting) -> AdmitResult:
        keys = [self._key(admitting.show_id, p) for p in ("meta", "entries", "numbers", "active")]
        args: list[str | int] = [
            admitting.now_ms,
            repr(float(admitting.rate)),
            admitting.max_active,
            admitting.ttl_ms,
            admitting.burst_ms,
            SCAN_SLACK,
        ]
        serving, issued, active, admitted = await self._admit(keys=keys, args=args)
        return AdmitResult(int(serving), int(issued), int(active), tuple(admitted))

    async def finish(self, show_id: str, user_id: str) -> None:
        # Through the turn's pipeline: every purchase of a queued sale ends here.
        await self._batch.execute("ZREM", self._key(show_id, "active"), user_id)

    async def state(self, show_id: str, now_ms: int) -> ServingState:
        serving, issued, rate, sold_out, last = await self._client.hmget(  # type: ignore[misc]
            self._key(show_id, "meta"), ["serving", "issued", "rate", "sold_out", "last"]
        )
        # Stamped with the tick that produced it (not the read's moment), so a read that
        # raced a newer published tick stays older than it (board.ServingBoard.deliver).
        return ServingState(
            show_id,
            int(serving or 0),
            int(issued or 0),
            float(rate or 0),
            int(last) if last else 0,
            sold_out=sold_out == "1",
        )

    async def publish(self, state: ServingState) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.hset(
                self._key(state.show_id, "meta"),
                mapping={"rate": repr(state.rate), "sold_out": "1" if state.sold_out else "0"},
            )
            message = json.dumps(state.to_message())
            pipe.execute_command(self._publish, self._channel(state.show_id), message)
            await pipe.execute()

    async def record_line(self, show_id: str, sample: LineSample) -> None:
        key = self._key(show_id, "line")
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.rpush(key, sample.encode())
            pipe.ltrim(key, -LINE_SAMPLES, -1)
            pipe.expire(key, LINE_HISTORY_SECONDS)
            await pipe.execute()

    async def line_history(self, show_id: str) -> list[LineSample]:
        raw = await self._client.lrange(self._key(show_id, "line"), 0, -1)  # type: ignore[misc]
        return [LineSample.decode(item) for item in raw]

    async def announce_left(self, left: EntryLeft) -> None:
        message = json.dumps(left.to_message())
        await self._client.execute_command(self._publish, self._channel(left.show_id), message)

    async def shows(self) -> list[str]:
        members = await self._client.smembers(self._shows_key)  # type: ignore[misc]
        return sorted(str(member) for member in members)

    async def forget(self, show_id: str) -> None:
        self._shows_added.pop(show_id, None)
        await self._client.srem(self._shows_key, show_id)  # type: ignore[misc]

    async def watch(self, show_id: str) -> None:
        # Single-flight: concurrent first joins of a show share one SUBSCRIBE, made by the
        # subscriber's own task on its own connection. Unconfirmed in time (Redis away),
        # the channel stays asked for; the board re-reads stale shows meanwhile.
        await self._subscriber.subscribe(self._channel(show_id))

    async def listen(self, deliver: Deliver, resync: Resync | None = None) -> None:
        self._deliver, self._resync = deliver, resync
        self._subscriber.start()
        await self._subscriber.wait_closed()

    def _received(self, _channel: str, data: str) -> None:
        if self._deliver is not None:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                self._deliver(parse_message(json.loads(data)))

    def _reconnected(self) -> None:
        if self._resync is not None:
            self._resync()  # updates published while we were away are lost: read again

    async def ping(self) -> bool:
        """Commands answer and, once serving updates are listened to, their subscription
        is connected: a process that cannot hear the line move is not ready."""
        answered = bool(await self._client.ping())  # type: ignore[misc]
        return answered and (self._subscriber.connected or not self._subscriber.started)

    async def close(self) -> None:
        await self._subscriber.close()
        await self._batch.close()
        await self._client.aclose()
