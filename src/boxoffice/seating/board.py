"""The seat board: a per-show hash of seat marks in Redis (or memory).

It is both the fast path of holds (an all-or-nothing Lua script marks the requested seats
or reports the taken ones, so contended requests are refused without touching the
database) and the availability snapshot the seat map is served from. It is never the
judge: the database's conditional claim is. A board can lose its keys at any time; it
then reports itself ``cold`` and is rebuilt from the database.

One hash per show, key ``<prefix>:seating:{<show_id>}:board`` (hash-tagged, so every
key of a show lives on one Redis Cluster slot). Fields: seat id -> ``state|owner|deadline``
(see :class:`~boxoffice.seating.domain.Mark`), ``~v`` the version (bumped on every
visible change) and ``~ready`` (set once the board was loaded from the database).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from boxoffice.platform.autopipeline import AutoPipeline
from boxoffice.platform.redisconn import RedisClient
from boxoffice.seating.domain import HELD_MARK, Mark

VERSION, READY = "~v", "~ready"


@dataclass(frozen=True)
class MarkOutcome:
    """``ok`` (all marked), ``taken`` (none marked; ``taken`` names the seats in the way) or
    ``cold`` (the board is not loaded; load it from the database and ask again)."""

    status: str
    taken: tuple[str, ...] = ()


class SeatBoard(Protocol):
    async def mark(
        self, show_id: str, seat_ids: Sequence[str], mark: Mark, now_ms: int
    ) -> MarkOutcome: ...

    async def settle(self, show_id: str, seat_ids: Sequence[str], mark: Mark) -> None:
        """Set these seats to ``mark``: the database has just said so (a committed hold or
        sale), whatever the board believed."""

    async def unmark(self, show_id: str, seat_ids: Sequence[str], owner: str) -> None:
        """Free these seats where ``owner`` still has them."""

    async def release(self, show_id: str, seat_ids: Sequence[str], owner: str) -> None:
        """The database has just freed these seats of ``owner``: free them on the board. On a
        cold board each is left as a lapsed mark (:func:`released`), so a load from a
        database read taken before the release cannot bring the seat back as taken."""

    async def load(self, show_id: str, marks: Iterable[tuple[str, Mark]]) -> None:
        """Fill a cold board from the database without overwriting newer marks (nor a board
        already loaded)."""

    async def version(self, show_id: str) -> int | None:
        """The board's version, ``None`` when cold."""

    async def read(self, show_id: str) -> tuple[int, dict[str, Mark]] | None:
        """Version and marks, ``None`` when cold."""

    async def forget(self, show_id: str) -> None:
        """Drop the show's board (tests and operators: it is rebuilt on demand)."""

    async def close(self) -> None:
        """Wait for the commands in flight (the process is stopping)."""


def released(owner: str) -> Mark:
    """What a release leaves on a cold board: a hold of ``owner`` that lapsed at the epoch,
    which every reader takes for a free seat and a load does not overwrite."""
    return Mark(HELD_MARK, owner, 0)


def board_key(prefix: str, show_id: str) -> str:
    return f"{prefix}:seating:{{{show_id}}}:board"


class MemoryBoard:
    """The embedded board: exact semantics of the Redis one, for one process."""

    def __init__(self) -> None:
        self._boards: dict[str, dict[str, Mark]] = {}
        self._versions: dict[str, int] = {}
        self._ready: set[str] = set()

    async def mark(
        self, show_id: str, seat_ids: Sequence[str], mark: Mark, now_ms: int
    ) -> MarkOutcome:
        board = self._boards.get(show_id)
        if board is None or show_id not in self._ready:
            return MarkOutcome("cold")
        taken = tuple(s for s in seat_ids if (m := board.get(s)) is not None and m.taken_at(now_ms))
        if taken:
            return MarkOutcome("taken", taken)
        for seat_id in seat_ids:
            board[seat_id] = mark
        return MarkOutcome("ok")

    async def settle(self, show_id: str, seat_ids: Sequence[str], mark: Mark) -> None:
        board = self._boards.setdefault(show_id, {})
        for seat_id in seat_ids:
            board[seat_id] = mark
        self._bump(show_id)

    async def unmark(self, show_id: str, seat_ids: Sequence[str], owner: str) -> None:
        board = self._boards.get(show_id)
        if board is None:
            return
        for seat_id in seat_ids:
            current = board.get(seat_id)
            if current is not None and current.owner == owner:
                del board[seat_id]
        self._bump(show_id)

    async def release(self, show_id: str, seat_ids: Sequence[str], owner: str) -> None:
        if show_id in self._ready:
            await self.unmark(show_id, seat_ids, owner)
            return
        board = self._boards.setdefault(show_id, {})
        for seat_id in seat_ids:
            current = board.get(seat_id)
            if current is None or current.owner == owner:
                board[seat_id] = released(owner)
        self._bump(show_id)

    async def load(self, show_id: str, marks: Iterable[tuple[str, Mark]]) -> None:
        if show_id in self._ready:
            return
        board = self._boards.setdefault(show_id, {})
        for seat_id, mark in marks:
            board.setdefault(seat_id, mark)
        self._ready.add(show_id)
        self._bump(show_id)

    async def version(self, show_id: str) -> int | None:
        return self._versions.get(show_id, 0) if show_id in self._ready else None

    async def read(self, show_id: str) -> tuple[int, dict[str, Mark]] | None:
        board = self._boards.get(show_id)
        if board is None or show_id not in self._ready:
            return None
        return self._versions.get(show_id, 0), dict(board)

    async def forget(self, show_id: str) -> None:
        self._boards.pop(show_id, None)
        self._versions.pop(show_id, None)
        self._ready.discard(show_id)

    async def close(self) -> None:
        return None

    def _bump(self, show_id: str) -> None:
        self._versions[show_id] = self._versions.get(show_id, 0) + 1


# KEYS[1] board; ARGV[1] now (ms), ARGV[2] the mark, ARGV[3..] seat ids.
# Returns {1} when every seat was marked, {0, taken...} when none was, {-1} when cold.
_MARK = """
if redis.call('HEXISTS', KEYS[1], '~ready') == 0 then return {-1} end
local now = tonumber(ARGV[1])
local taken = {0}
for i = 3, #ARGV do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v then
    local state, _, deadline = string.match(v, '^(%a)|([^|]*)|(%d+)$')
    if state == 's' or tonumber(deadline) > now then taken[#taken + 1] = ARGV[i] end
  end
end
if #taken > 1 then return taken end
for i = 3, #ARGV do redis.call('HSET', KEYS[1], ARGV[i], ARGV[2]) end
return {1}
"""

# KEYS[1] board; ARGV[1] the mark, ARGV[2..] seat ids.
_SETTLE = """
for i = 2, #ARGV do redis.call('HSET', KEYS[1], ARGV[i], ARGV[1]) end
return redis.call('HINCRBY', KEYS[1], '~v', 1)
"""

# KEYS[1] board; ARGV[1] owner, ARGV[2..] seat ids.
_UNMARK = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 2, #ARGV do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v and string.match(v, '^%a|([^|]*)|') == ARGV[1] then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return redis.call('HINCRBY', KEYS[1], '~v', 1)
"""

# KEYS[1] board; ARGV[1] owner, ARGV[2] the lapsed mark, ARGV[3..] seat ids. A ready board
# drops the owner's marks; a cold one gets the lapsed mark where the seat is the owner's or
# unmarked, so a load from an older database read cannot bring the hold back.
_RELEASE = """
local cold = redis.call('HEXISTS', KEYS[1], '~ready') == 0
for i = 3, #ARGV do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  local owner = v and string.match(v, '^%a|([^|]*)|')
  if cold and (not v or owner == ARGV[1]) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[2])
  elseif owner == ARGV[1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return redis.call('HINCRBY', KEYS[1], '~v', 1)
"""

# KEYS[1] board; ARGV pairs of (seat id, mark): set where absent, then ready. A board some
# other loader made ready first is left alone (its releases since have deleted marks that
# this load's older read would bring back).
_LOAD = """
if redis.call('HEXISTS', KEYS[1], '~ready') == 1 then return 0 end
for i = 1, #ARGV, 2 do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], '~ready', '1')
return redis.call('HINCRBY', KEYS[1], '~v', 1)
"""

_FILL = """
if redis.call('HEXISTS', KEYS[1], '~ready') == 1 then return 0 end
for i = 1, #ARGV, 2 do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end
"""
_LOAD_BATCH = 2000  # seats per script call, so a 70,000-seat load never blocks Redis long


class RedisBoard:
    """The production board: one Lua script per change, atomic on one hash.

    Marks, the call every hold attempt makes, go through the platform's auto-pipeline:
    the marks of concurrent attempts in one event-loop turn travel in one pipeline (each
    script still atomic on its own), which costs a fraction of the client CPU of sending
    them one by one."""

    def __init__(self, client: RedisClient, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._batch = AutoPipeline(client)
        self._mark = client.register_script(_MARK)
        self._settle = client.register_script(_SETTLE)
        self._unmark = client.register_script(_UNMARK)
        self._release = client.register_script(_RELEASE)
        self._load = client.register_script(_LOAD)
        self._fill = client.register_script(_FILL)

    def _key(self, show_id: str) -> str:
        return board_key(self._prefix, show_id)

    async def mark(
        self, show_id: str, seat_ids: Sequence[str], mark: Mark, now_ms: int
    ) -> MarkOutcome:
        result = await self._batch.evalsha(
            _MARK, self._mark.sha, [self._key(show_id)], [now_ms, mark.encode(), *seat_ids]
        )
        code = int(result[0])
        if code == 1:
            return MarkOutcome("ok")
        if code == -1:
            return MarkOutcome("cold")
        return MarkOutcome("taken", tuple(str(s) for s in result[1:]))

    async def settle(self, show_id: str, seat_ids: Sequence[str], mark: Mark) -> None:
        keys, args = [self._key(show_id)], [mark.encode(), *seat_ids]
        await self._batch.evalsha(_SETTLE, self._settle.sha, keys, args)

    async def unmark(self, show_id: str, seat_ids: Sequence[str], owner: str) -> None:
        keys, args = [self._key(show_id)], [owner, *seat_ids]
        await self._batch.evalsha(_UNMARK, self._unmark.sha, keys, args)

    async def release(self, show_id: str, seat_ids: Sequence[str], owner: str) -> None:
        keys, args = [self._key(show_id)], [owner, released(owner).encode(), *seat_ids]
        await self._batch.evalsha(_RELEASE, self._release.sha, keys, args)

    async def load(self, show_id: str, marks: Iterable[tuple[str, Mark]]) -> None:
        pairs: list[str] = []
        for seat_id, mark in marks:
            pairs += [seat_id, mark.encode()]
        step = 2 * _LOAD_BATCH
        chunks = [pairs[i : i + step] for i in range(0, len(pairs), step)] or [[]]
        # Every chunk but the last leaves the board cold; the last one makes it ready.
        for chunk in chunks[:-1]:
            await self._fill(keys=[self._key(show_id)], args=chunk)
        await self._load(keys=[self._key(show_id)], args=chunks[-1])

    async def version(self, show_id: str) -> int | None:
        ready, version = await self._client.hmget(self._key(show_id), [READY, VERSION])
        return int(version or 0) if ready else None

    async def read(self, show_id: str) -> tuple[int, dict[str, Mark]] | None:
        fields = cast(dict[str, str], await self._client.hgetall(self._key(show_id)))
        if READY not in fields:
            return None
        version = int(fields.pop(VERSION, 0))
        fields.pop(READY)
        return version, {seat_id: Mark.decode(value) for seat_id, value in fields.items()}

    async def forget(self, show_id: str) -> None:
        await self._client.delete(self._key(show_id))

    async def close(self) -> None:
        await self._batch.close()
