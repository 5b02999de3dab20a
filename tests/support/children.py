"""Servers a test process starts for itself (a Redis Cluster, a tansu broker), stopped when
the process ends: at pytest's unconfigure and, outside pytest, at interpreter exit.
pytest-xdist's workers end without running ``atexit`` handlers, so those alone left the
nodes and brokers of every CI run behind."""

from __future__ import annotations

import atexit
from collections.abc import Callable

_stops: list[Callable[[], None]] = []


def stop_at_end(stop: Callable[[], None]) -> None:
    """Run ``stop`` when this test process ends (once)."""
    _stops.append(stop)


def stop_all() -> None:
    while _stops:
        _stops.pop()()


atexit.register(stop_all)
