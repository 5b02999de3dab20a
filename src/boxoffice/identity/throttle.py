"""Failed sign-ins slow the guesser down without locking the owner out.

Counted per (account, client address): after ``login_free_failures`` failures from one
address, each further attempt from it on that account waits a delay that doubles with
every failure (10 s, 20 s, ... up to 15 minutes by default). The owner, signing in from
their own address, is not slowed by a stranger's failures; a success from an address
forgets that address's failures. Once delays apply, attempts run one at a time (a slot
taken with SET NX), so a burst of concurrent guesses cannot slip through together. The
counters live in the key-value store (Redis in production), shared by every API process.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from boxoffice.platform.errors import RateLimited
from boxoffice.platform.ids import new_id
from boxoffice.platform.kv import claim, key
from boxoffice.platform.runtime import Runtime

MESSAGE = "Too many failed sign-in attempts; wait before trying again."
SLOT_SECONDS = 30.0  # a verification holding the slot longer than this has died


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt admitted by the throttle: its keys and its place in the count."""

    failures_key: str
    wait_key: str
    slot_key: str
    number: int  # this attempt's number among the failures remembered (it counts as one)
    slotted: bool


def _keys(runtime: Runtime, email: str, client: str) -> tuple[str, str, str]:
    # The account by a hash of its address: no e-mail addresses in Redis key names.
    account = hashlib.sha256(email.encode()).hexdigest()[:32]
    base = key(runtime.kv, "login", account, client)
    return f"{base}:failures", f"{base}:wait", f"{base}:slot"


def delay_seconds(runtime: Runtime, failures: int) -> int:
    """How long to wait after ``failures`` failures (0 while they are free)."""
    s = runtime.settings.identity
    if failures < s.login_free_failures:
        return 0
    exponent = min(failures - s.login_free_failures, 30)
    return int(min(s.login_delay_base_seconds * 2**exponent, s.login_delay_max_seconds))


async def admit(runtime: Runtime, email: str, client: str) -> Attempt:
    """Let one attempt through or raise ``RateLimited`` (429, ``Retry-After``)."""
    kv, now = runtime.kv, runtime.clock.now().timestamp()
    failures_key, wait_key, slot_key = _keys(runtime, email, client)
    waiting_until = await kv.get(wait_key)
    if waiting_until is not None and float(waiting_until) > now:
        raise RateLimited(MESSAGE, retry_after=max(1, math.ceil(float(waiting_until) - now)))
    # Counted before the password is checked (taken back on success or refusal): concurrent
    # attempts get distinct numbers, so no more than the free ones run without the slot.
    number = await kv.incr(failures_key)
    await kv.expire(failures_key, runtime.settings.identity.login_failure_memory_seconds)
    slotted = number > runtime.settings.identity.login_free_failures
    if slotted and not await claim(kv, slot_key, new_id(), ttl=SLOT_SECONDS):
        await kv.incr(failures_key, -1)
        raise RateLimited(MESSAGE, retry_after=1)
    return Attempt(failures_key, wait_key, slot_key, number, slotted)


async def failed(runtime: Runtime, attempt: Attempt) -> None:
    """The password was wrong: the attempt stays counted, and may start a delay."""
    wait = delay_seconds(runtime, attempt.number)
    if wait:
        until = runtime.clock.now().timestamp() + wait
        await runtime.kv.set(attempt.wait_key, repr(until), ttl=wait)
    if attempt.slotted:
        await runtime.kv.delete(attempt.slot_key)


async def succeeded(runtime: Runtime, attempt: Attempt) -> None:
    """The right password from this address: its failures on this account are forgotten."""
    await runtime.kv.delete(attempt.failures_key, attempt.wait_key, attempt.slot_key)
