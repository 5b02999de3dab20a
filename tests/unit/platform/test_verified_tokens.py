"""Remembered access tokens: never past their expiry, never if forged, memory bounded."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from boxoffice.platform.errors import InvalidToken
from boxoffice.platform.security import KeyRing, TokenUse, VerifiedTokens, generate_key_file


@pytest.fixture
def runtime(tmp_path: Path) -> SimpleNamespace:
    generate_key_file(tmp_path / "key.pem")
    return SimpleNamespace(keys=KeyRing.from_files(tmp_path / "key.pem", [], "boxoffice"))


def token(runtime: SimpleNamespace, ttl: timedelta) -> str:
    keys: KeyRing = runtime.keys
    return keys.sign(
        {"sub": "user-1", "email": "fan@example.com", "role": "customer"},
        use=TokenUse.ACCESS,
        now=datetime.now(UTC),
        ttl=ttl,
    )


def test_a_token_is_remembered_only_until_it_expires(
    runtime: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys: KeyRing = runtime.keys
    checks = []

    def verify(value: str, *, use: TokenUse) -> dict[str, object]:
        checks.append(value)
        return keys.verify(value, use=use)

    counting = SimpleNamespace(keys=SimpleNamespace(verify=verify))
    tokens = VerifiedTokens()
    short = token(runtime, timedelta(seconds=30))
    for _ in range(3):
        assert tokens.principal(counting, short).id == "user-1"  # type: ignore[arg-type]
    assert len(checks) == 1  # remembered
    later = time.time() + 31  # past its exp: checked again (and the verifier decides)
    monkeypatch.setattr(time, "time", lambda: later)
    tokens.principal(counting, short)  # type: ignore[arg-type]
    assert len(checks) == 2


def test_forged_tokens_are_never_remembered(runtime: SimpleNamespace) -> None:
    tokens = VerifiedTokens()
    good = token(runtime, timedelta(minutes=10))
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    for _ in range(2):
        with pytest.raises(InvalidToken):
            tokens.principal(runtime, forged)  # type: ignore[arg-type]


def test_memory_is_bounded(runtime: SimpleNamespace) -> None:
    tokens = VerifiedTokens(limit=3)
    issued = [token(runtime, timedelta(minutes=10)) for _ in range(5)]
    for value in issued:
        tokens.principal(runtime, value)  # type: ignore[arg-type]
    assert len(tokens._tokens) == 3


def test_admission_tokens_are_remembered_apart_from_access_tokens(runtime: SimpleNamespace) -> None:
    keys: KeyRing = runtime.keys
    checks: list[TokenUse] = []

    def verify(value: str, *, use: TokenUse) -> dict[str, object]:
        checks.append(use)
        return keys.verify(value, use=use)

    counting = SimpleNamespace(keys=SimpleNamespace(verify=verify))
    tokens = VerifiedTokens()
    admission = keys.sign(
        {"sub": "user-1", "show_id": "show-1", "aid": "a1"},
        use=TokenUse.ADMISSION,
        now=datetime.now(UTC),
        ttl=timedelta(minutes=5),
    )
    for _ in range(3):
        claims = tokens.claims(counting, admission, TokenUse.ADMISSION)  # type: ignore[arg-type]
        assert (claims["sub"], claims["show_id"]) == ("user-1", "show-1")
    assert checks == [TokenUse.ADMISSION]  # verified once, then remembered
    for _ in range(2):  # remembered as an admission, it is still no access token
        with pytest.raises(InvalidToken):
            tokens.principal(counting, admission)  # type: ignore[arg-type]
    assert checks == [TokenUse.ADMISSION, TokenUse.ACCESS, TokenUse.ACCESS]
