"""Signing keys: kid by thumbprint, rotation keeps old tokens valid, verify-only rings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from boxoffice.platform.errors import InvalidToken, TokenExpired
from boxoffice.platform.security import KeyRing, TokenUse, generate_key_file


def _ring(path: Path, extra: list[Path] | None = None) -> KeyRing:
    return KeyRing.from_files(path, extra or [], "boxoffice")


def test_rotation_keeps_tokens_of_the_old_key_valid(tmp_path: Path) -> None:
    generate_key_file(tmp_path / "old.pem")
    generate_key_file(tmp_path / "new.pem")
    old = _ring(tmp_path / "old.pem")
    now = datetime.now(UTC)
    token = old.sign(
        {"sub": "u1", "role": "customer"}, use=TokenUse.ACCESS, now=now, ttl=timedelta(minutes=5)
    )

    rotated = _ring(tmp_path / "new.pem", [tmp_path / "old.pem"])
    assert rotated.signing_kid != old.signing_kid
    assert rotated.verify(token, use=TokenUse.ACCESS)["sub"] == "u1"
    assert {k["kid"] for k in rotated.jwks()["keys"]} == {old.signing_kid, rotated.signing_kid}

    retired = _ring(tmp_path / "new.pem")
    with pytest.raises(InvalidToken):
        retired.verify(token, use=TokenUse.ACCESS)


def test_kid_is_stable_for_a_key(tmp_path: Path) -> None:
    generate_key_file(tmp_path / "k.pem")
    assert _ring(tmp_path / "k.pem").signing_kid == _ring(tmp_path / "k.pem").signing_kid


def test_expired_and_wrong_use(tmp_path: Path) -> None:
    generate_key_file(tmp_path / "k.pem")
    ring = _ring(tmp_path / "k.pem")
    past = datetime.now(UTC) - timedelta(hours=1)
    stale = ring.sign({"sub": "u"}, use=TokenUse.ACCESS, now=past, ttl=timedelta(minutes=1))
    with pytest.raises(TokenExpired):
        ring.verify(stale, use=TokenUse.ACCESS)
    fresh = ring.sign(
        {"sub": "u"}, use=TokenUse.ADMISSION, now=datetime.now(UTC), ttl=timedelta(minutes=1)
    )
    with pytest.raises(InvalidToken):
        ring.verify(fresh, use=TokenUse.ACCESS)


def test_verify_only_ring_cannot_sign(tmp_path: Path) -> None:
    generate_key_file(tmp_path / "k.pem")
    verifier = KeyRing.from_jwks(_ring(tmp_path / "k.pem").jwks(), "boxoffice")
    with pytest.raises(RuntimeError):
        verifier.sign(
            {"sub": "u"}, use=TokenUse.ACCESS, now=datetime.now(UTC), ttl=timedelta(minutes=1)
        )
