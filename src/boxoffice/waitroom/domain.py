"""The waiting room's rules in plain Python: entries, positions, statuses, the admit budget."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    WAITING = "waiting"
    ADMITTED = "admitted"
    EXPIRED = "expired"
    LEFT = "left"


# What the stores keep per entry (short, because 300,000 of them live in one hash).
STORED_WAITING, STORED_ADMITTED, STORED_LEFT = "w", "a", "l"


@dataclass(frozen=True)
class Entry:
    """One user's place in one show's queue.

    ``number`` is None while the entry waits in the pre-queue (numbers are drawn at
    opening). ``admitted_until_ms`` is set when the dispatcher admitted it.
    """

    entry_id: str
    show_id: str
    user_id: str
    number: int | None
    joined_ms: int
    stored_status: str
    admitted_until_ms: int | None = None

    def status(self, now_ms: int) -> Status:
        if self.stored_status == STORED_LEFT:
            return Status.LEFT
        if self.stored_status == STORED_ADMITTED:
            assert self.admitted_until_ms is not None
            return Status.ADMITTED if now_ms < self.admitted_until_ms else Status.EXPIRED
        return Status.WAITING

    def to_record(self) -> dict[str, object]:
        return {
            "id": self.entry_id,
            "u": self.user_id,
            "n": self.number if self.number is not None else False,
            "j": self.joined_ms,
            "st": self.stored_status,
            "x": self.admitted_until_ms if self.admitted_until_ms is not None else False,
        }

    @classmethod
    def from_record(cls, show_id: str, record: dict[str, object]) -> Entry:
        return cls(
            entry_id=str(record["id"]),
            show_id=show_id,
            user_id=str(record["u"]),
            number=_whole(record.get("n")),
            joined_ms=_whole(record.get("j")) or 0,
            stored_status=str(record["st"]),
            admitted_until_ms=_whole(record.get("x")),
        )


def _whole(value: object) -> int | None:
    """A stored number (Lua's cjson may write 12 as 12.0); False/None mean "none"."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


@dataclass(frozen=True)
class LineSample:
    """The waiting line at one moment, as the dispatcher saw it (the console's chart)."""

    at_ms: int
    waiting: int  # numbers handed out and not yet admitted
    admitted: int  # numbers admitted so far

    def encode(self) -> str:
        return f"{self.at_ms}:{self.waiting}:{self.admitted}"

    @classmethod
    def decode(cls, raw: str | bytes) -> LineSample:
        text = raw.decode() if isinstance(raw, bytes) else raw
        at_ms, waiting, admitted = (int(part) for part in text.split(":"))
        return cls(at_ms, waiting, admitted)


# A sample every LINE_SAMPLE_MS per show, the last LINE_SAMPLES kept: two hours of a sale.
LINE_SAMPLE_MS = 10_000
LINE_SAMPLES = 720


@dataclass(frozen=True)
class ServingState:
    """What every API process keeps in memory per show: the dispatcher's last word."""

    show_id: str
    serving: int  # highest number admitted so far
    issued: int  # numbers handed out so far
    rate: float  # measured admits per second
    at_ms: int  # when the dispatcher (or a read) produced this state
    sold_out: bool = False  # no seat left to sell, none held: nobody waiting gets in

    def to_message(self) -> dict[str, object]:
        message: dict[str, object] = {
            "s": self.show_id,
            "v": self.serving,
            "i": self.issued,
            "r": self.rate,
            "t": self.at_ms,
        }
        if self.sold_out:
            message["so"] = 1
        return message

    @classmethod
    def from_message(cls, message: dict[str, object]) -> ServingState:
        return cls(
            show_id=str(message["s"]),
            serving=int(message["v"]),  # type: ignore[call-overload]
            issued=int(message["i"]),  # type: ignore[call-overload]
            rate=float(message["r"]),  # type: ignore[arg-type]
            at_ms=int(message["t"]),  # type: ignore[call-overload]
            sold_out=bool(message.get("so", False)),
        )


@dataclass(frozen=True)
class EntryLeft:
    """Someone gave their place up: every process forgets what it remembered of the entry."""

    show_id: str
    entry_id: str

    def to_message(self) -> dict[str, object]:
        return {"s": self.show_id, "left": self.entry_id}


def parse_message(message: dict[str, object]) -> ServingState | EntryLeft:
    if "left" in message:
        return EntryLeft(str(message["s"]), str(message["left"]))
    return ServingState.from_message(message)


@dataclass(frozen=True)
class AdmitResult:
    """One dispatcher tick for one show: who got in, where serving stands, how many are active."""

    serving: int
    issued: int
    active: int  # -1: not counted (the tick admitted nobody: no seat left, or paused)
    admitted: tuple[str, ...]  # entry ids, in number order


def position(number: int | None, serving: int) -> int | None:
    """People ahead of you plus one; None in the pre-queue (no number yet)."""
    if number is None:
        return None
    return max(number - serving, 0)


def eta_seconds(
    position_now: int | None, measured_rate: float, configured_rate: float
) -> int | None:
    """Seconds until admission at the measured rate (the configured one until a rate is known)."""
    if position_now is None:
        return None
    if position_now <= 0:
        return 0
    rate = measured_rate if measured_rate > 0 else configured_rate
    if rate <= 0:
        return None
    return math.ceil(position_now / rate)
