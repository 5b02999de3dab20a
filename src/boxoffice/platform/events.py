"""Domain events: past-tense facts written to the outbox in the transaction that caused them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Subclasses set ``context`` and ``name`` and say which aggregate they belong to."""

    context: ClassVar[str]
    name: ClassVar[str]
    version: ClassVar[int] = 1

    @property
    def aggregate_id(self) -> str:
        raise NotImplementedError

    @property
    def topic(self) -> str:
        return f"boxoffice.{self.context}.{self.name}"

    def payload(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in data.items()}
