"""Admission tokens: short-lived EdDSA JWTs (show, user, expiry, id), verified without a lookup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from boxoffice.platform.errors import InvalidToken, TokenExpired
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import TokenUse
from boxoffice.waitroom.contracts import Admission
from boxoffice.waitroom.errors import AdmissionInvalid, AdmissionRequired


def issue(runtime: Runtime, *, show_id: str, user_id: str, ttl: timedelta) -> tuple[str, Admission]:
    admission = Admission(
        admission_id=new_id(),
        show_id=show_id,
        user_id=user_id,
        expires_at=runtime.clock.now() + ttl,
    )
    token = runtime.keys.sign(
        {"sub": user_id, "show_id": show_id, "aid": admission.admission_id},
        use=TokenUse.ADMISSION,
        now=runtime.clock.now(),
        ttl=ttl,
    )
    return token, admission


def check(runtime: Runtime, token: str | None, *, show_id: str, user_id: str) -> Admission:
    """The admission a token grants, if it is for this show and this user.

    Raises ``AdmissionRequired`` without a token, ``AdmissionInvalid`` for a forged,
    expired, or another show's or user's token.
    """
    if not token:
        raise AdmissionRequired("This show's sale goes through the waiting room: join the queue.")
    try:
        claims = runtime.keys.verify(token, use=TokenUse.ADMISSION)
    except TokenExpired as exc:
        raise AdmissionInvalid("The admission token has expired; join the queue again.") from exc
    except InvalidToken as exc:
        raise AdmissionInvalid("The admission token is not valid.") from exc
    if claims.get("show_id") != show_id or claims.get("sub") != user_id:
        raise AdmissionInvalid("The admission token is for another show or user.")
    return Admission(
        admission_id=str(claims.get("aid", "")),
        show_id=show_id,
        user_id=user_id,
        expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
    )
