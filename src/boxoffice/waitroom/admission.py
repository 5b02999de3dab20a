"""Admission tokens: short-lived signed JWTs (show, user, expiry, admission id).

The signature is checked without a lookup (and remembered); one key-value read per use
then asks whether the admission was given up: leaving the line frees the admitted slot
(the dispatcher admits the next person), so the token must stop placing holds at once,
in every process, or ``max_active`` would no longer bound the buyers.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from boxoffice.platform.errors import InvalidToken, TokenExpired
from boxoffice.platform.ids import new_id
from boxoffice.platform.kv import key
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import TokenUse
from boxoffice.waitroom.contracts import Admission
from boxoffice.waitroom.domain import Entry
from boxoffice.waitroom.errors import AdmissionInvalid, AdmissionRequired


def issue(
    runtime: Runtime,
    *,
    show_id: str,
    user_id: str,
    ttl: timedelta | None = None,
    expires_at: datetime | None = None,
    admission_id: str | None = None,
) -> tuple[str, Admission]:
    """A token for (show, user) valid for ``ttl`` or until ``expires_at`` (the admission's end).

    The waiting room passes the entry's admission end and id, so every token issued for one
    admission (each poll may ask again) names the same admission and expires at once.
    """
    now = runtime.clock.now()
    if expires_at is None:
        if ttl is None:
            raise ValueError("issue() needs ttl or expires_at")
        expires_at = now + ttl
    admission = Admission(
        admission_id=admission_id or new_id(),
        show_id=show_id,
        user_id=user_id,
        expires_at=expires_at,
    )
    token = runtime.keys.sign(
        {"sub": user_id, "show_id": show_id, "aid": admission.admission_id},
        use=TokenUse.ADMISSION,
        now=now,
        ttl=max(expires_at - now, timedelta(seconds=1)),
    )
    return token, admission


def _ended_key(runtime: Runtime, admission_id: str) -> str:
    return key(runtime.kv, "admission", "ended", admission_id)


async def end(runtime: Runtime, admission_id: str, *, lasts_seconds: float) -> None:
    """Tokens of this admission stop admitting now; remembered for as long as one of them
    may still be valid (``lasts_seconds``)."""
    await runtime.kv.set(_ended_key(runtime, admission_id), "left", ttl=max(lasts_seconds, 1.0))


async def check(runtime: Runtime, token: str | None, *, show_id: str, user_id: str) -> Admission:
    """The admission a token grants, if it is for this show and this user and still held.

    Raises ``AdmissionRequired`` without a token, ``AdmissionInvalid`` for a forged,
    expired, or another show's or user's token, or one whose holder left the line.
    """
    if not token:
        raise AdmissionRequired("This show's sale goes through the waiting room: join the queue.")
    try:
        # Remembered like access tokens (an admitted fan's hold attempts repeat it); the
        # show and user below are checked on every use.
        claims = runtime.verified_tokens.claims(runtime, token, TokenUse.ADMISSION)
    except TokenExpired as exc:
        raise AdmissionInvalid("The admission token has expired; join the queue again.") from exc
    except InvalidToken as exc:
        raise AdmissionInvalid("The admission token is not valid.") from exc
    if claims.get("show_id") != show_id or claims.get("sub") != user_id:
        raise AdmissionInvalid("The admission token is for another show or user.")
    admission_id = str(claims.get("aid", ""))
    if await runtime.kv.get(_ended_key(runtime, admission_id)) is not None:
        raise AdmissionInvalid("You left the queue, which ended this admission; join again.")
    return Admission(
        admission_id=admission_id,
        show_id=show_id,
        user_id=user_id,
        expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
    )


class IssuedTokens(OrderedDict[tuple[str, int], str]):
    """Admission tokens this process signed, by (entry, admitted until), oldest first."""


_ISSUED_LIMIT = 100_000


def for_entry(runtime: Runtime, entry: Entry) -> tuple[str, datetime]:
    """A token for an admitted entry: the same admission id and end on every call.

    Signed once per admission and process (an admitted fan's poll or stream asks again;
    with the ring's derived Ed25519 key, ~50 µs, ``platform/security.py``), remembered
    until the admission ends.
    """
    if entry.admitted_until_ms is None:
        raise ValueError("the entry was not admitted")
    issued = runtime.adapters.ensure(IssuedTokens, IssuedTokens)
    remembered = issued.get((entry.entry_id, entry.admitted_until_ms))
    expires_at = datetime.fromtimestamp(entry.admitted_until_ms / 1000, UTC)
    if remembered is not None and expires_at > runtime.clock.now():
        return remembered, expires_at
    token, _ = issue(
        runtime,
        show_id=entry.show_id,
        user_id=entry.user_id,
        expires_at=expires_at,
        admission_id=entry.entry_id,
    )
    issued[(entry.entry_id, entry.admitted_until_ms)] = token
    while len(issued) > _ISSUED_LIMIT:
        issued.popitem(last=False)
    return token, expires_at
