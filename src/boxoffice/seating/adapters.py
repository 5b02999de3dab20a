"""seating's adapters of one process (``runtime.adapters.get(Seating)``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from boxoffice.platform.kv import RedisStore
from boxoffice.platform.runtime import Runtime
from boxoffice.seating.board import MemoryBoard, RedisBoard, SeatBoard
from boxoffice.seating.snapshot import SnapshotCache

# Called after a commit that ends an admitted person's hold: (show id, user id).
AdmissionFinished = Callable[[str, str], Awaitable[None]]


@dataclass
class Seating:
    board: SeatBoard
    snapshots: SnapshotCache
    admission_finished: AdmissionFinished | None = None


def build(runtime: Runtime, admission_finished: AdmissionFinished | None = None) -> Seating:
    """The seat board on Redis when the process has Redis, else in memory."""
    board: SeatBoard
    if isinstance(runtime.kv, RedisStore):
        board = RedisBoard(runtime.kv.client, runtime.kv.prefix)
    else:
        board = MemoryBoard()
    return Seating(
        board, SnapshotCache(board, partial(runtime.uow, read_only=True)), admission_finished
    )


def seating_of(runtime: Runtime) -> Seating:
    found = runtime.adapters.find(Seating)
    if found is None:
        raise RuntimeError("seating is not started in this process (boxoffice.seating.module)")
    return found
