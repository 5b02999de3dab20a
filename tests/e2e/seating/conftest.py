"""Real server processes for seating's races: two `boxoffice serve` sharing one database."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

from boxoffice.platform.config import Settings
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import TokenUse
from tests.support.processes import free_port, running_server
from tests.support.processes import server_env as shared_server_env

SERVE_CONTEXTS = "identity,catalog,waitroom,seating"


def server_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """The test's settings as a server process reads them, serving the sale's contexts."""
    return shared_server_env(settings, BOXOFFICE_SERVE_CONTEXTS=SERVE_CONTEXTS, **overrides)


@contextmanager
def servers(envs: list[dict[str, str]], logs: Path) -> Iterator[list[str]]:
    """One `boxoffice serve` per environment; yields their base URLs."""
    with ExitStack() as stack:
        urls = []
        for index, env in enumerate(envs):
            port = free_port()
            stack.enter_context(
                running_server(
                    ["serve", "--port", str(port)], env, port, log_path=logs / f"serve-{index}.log"
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        yield urls


def bearer_tokens(runtime: Runtime, count: int) -> list[str]:
    """Access tokens of ``count`` distinct customers (signed by the shared dev key)."""
    now = runtime.clock.now()
    return [
        runtime.keys.sign(
            {"sub": new_id(), "email": f"fan{i}@example.com", "role": "customer"},
            use=TokenUse.ACCESS,
            now=now,
            ttl=timedelta(hours=1),
        )
        for i in range(count)
    ]


def contended_requests(seat_ids: list[str], count: int, seed: int) -> list[list[str]]:
    """``count`` requests of 1 to 4 adjacent seats, most of them near the stage."""
    rng = random.Random(seed)
    requests = []
    for _ in range(count):
        size = rng.randint(1, 4)
        start = min(int(rng.expovariate(1 / 20)), len(seat_ids) - size)
        requests.append(seat_ids[start : start + size])
    return requests
