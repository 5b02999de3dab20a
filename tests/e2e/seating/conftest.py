"""Real server processes for seating's races: two `boxoffice serve` sharing one database."""

from __future__ import annotations

import random

from boxoffice.platform.config import Settings
from tests.support.processes import bearer_tokens as bearer_tokens
from tests.support.processes import server_env as shared_server_env
from tests.support.processes import servers as servers

SERVE_CONTEXTS = "identity,catalog,waitroom,seating"


def server_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """The test's settings as a server process reads them, serving the sale's contexts."""
    return shared_server_env(settings, BOXOFFICE_SERVE_CONTEXTS=SERVE_CONTEXTS, **overrides)


def contended_requests(seat_ids: list[str], count: int, seed: int) -> list[list[str]]:
    """``count`` requests of 1 to 4 adjacent seats, most of them near the stage."""
    rng = random.Random(seed)
    requests = []
    for _ in range(count):
        size = rng.randint(1, 4)
        start = min(int(rng.expovariate(1 / 20)), len(seat_ids) - size)
        requests.append(seat_ids[start : start + size])
    return requests
