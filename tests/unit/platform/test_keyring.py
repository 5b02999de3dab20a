"""Signing keys: kid by thumbprint, rotation keeps old tokens valid, verify-only rings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives import serialization

from boxoffice.platform.errors import InvalidToken, TokenExpired
from boxoffice.platform.security import (
    KeyRing,
    TokenUse,
    admission_key_for,
    algorithm_of,
    generate_key_file,
    thumbprint,
)

KINDS = pytest.mark.parametrize("kind", ["rsa", "ed25519"])


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
    # Each key's admission key too: the old file is a private key, which keeps both.
    assert {k["kid"] for k in rotated.jwks()["keys"]} == {
        old.signing_kid,
        old.admission_kid,
        rotated.signing_kid,
        rotated.admission_kid,
    }

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


def _forge(ring: KeyRing, path: Path, header: dict, claims: dict, key: object = None) -> str:  # type: ignore[type-arg]
    """A token signed by PyJWT with any header, claims and key (ours unless given)."""
    signing = (
        key
        if key is not None
        else serialization.load_pem_private_key(path.read_bytes(), password=None)
    )
    algorithm = header.pop("alg", algorithm_of(signing))
    return jwt.encode(claims, signing, algorithm=algorithm, headers=header)  # type: ignore[arg-type]


def _claims(**changes: object) -> dict:  # type: ignore[type-arg]
    now = int(time.time())
    claims = {
        "sub": "u1",
        "role": "customer",
        "iss": "boxoffice",
        "iat": now,
        "exp": now + 600,
        "token_use": "access",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _hs256(kid: str, claims: dict, secret: bytes) -> str:  # type: ignore[type-arg]
    """The classic confusion attack: an HMAC 'signed' with the verifier's public key."""
    signing_input = (
        f"{_b64(orjson.dumps({'alg': 'HS256', 'kid': kid}))}.{_b64(orjson.dumps(claims))}"
    )
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@KINDS
def test_a_good_token_verifies_to_what_pyjwt_reads(tmp_path: Path, kind: str) -> None:
    generate_key_file(tmp_path / "k.pem", kind)
    ring = _ring(tmp_path / "k.pem")
    token = ring.sign(
        {"sub": "u1", "role": "customer"},
        use=TokenUse.ACCESS,
        now=datetime.now(UTC),
        ttl=timedelta(minutes=5),
    )
    public = next(iter(ring._public.values()))
    assert ring.verify(token, use=TokenUse.ACCESS) == jwt.decode(
        token, public, algorithms=[algorithm_of(public)], issuer="boxoffice"
    )


@KINDS
def test_every_forged_or_malformed_token_is_refused(tmp_path: Path, kind: str) -> None:
    generate_key_file(tmp_path / "k.pem", kind)
    generate_key_file(tmp_path / "other.pem", kind)
    generate_key_file(tmp_path / "third.pem", "ed25519" if kind == "rsa" else "rsa")
    ring = _ring(tmp_path / "k.pem")
    kid = ring.signing_kid
    good = _forge(ring, tmp_path / "k.pem", {"kid": kid}, _claims())
    assert ring.verify(good, use=TokenUse.ACCESS)["sub"] == "u1"
    head, body, signature = good.split(".")
    public_pem = next(iter(ring._public.values())).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    stranger = serialization.load_pem_private_key(
        (tmp_path / "other.pem").read_bytes(), password=None
    )
    tampered = _b64(orjson.dumps({**_claims(), "role": "admin"}))
    bad = {
        "alg none": _b64(b'{"alg":"none","kid":"%s"}' % kid.encode()) + f".{body}.",
        "HS256 keyed with our public key": _hs256(kid, _claims(), public_pem),
        "another key under our kid": _forge(ring, tmp_path, {"kid": kid}, _claims(), stranger),
        "the other algorithm under our kid": _forge(
            ring,
            tmp_path,
            {"kid": kid},
            _claims(),
            serialization.load_pem_private_key((tmp_path / "third.pem").read_bytes(), None),
        ),
        "unknown kid": _forge(ring, tmp_path / "k.pem", {"kid": "nope"}, _claims()),
        "tampered claims": f"{head}.{tampered}.{signature}",
        "junk characters": f"{head}.{body}!!.{signature}",
        "padding": f"{head}.{body}.{signature}==",
        "two segments": f"{head}.{body}",
        "four segments": f"{good}.{signature}",
        "impossible length": f"{head}.{body}.{signature[: len(signature) // 4 * 4]}A",
        "crit header": _forge(ring, tmp_path / "k.pem", {"kid": kid, "crit": ["x"]}, _claims()),
        "exp as text": _forge(ring, tmp_path / "k.pem", {"kid": kid}, _claims(exp="9999999999")),
        "no iss": _forge(ring, tmp_path / "k.pem", {"kid": kid}, _claims(iss=None)),
        "foreign iss": _forge(ring, tmp_path / "k.pem", {"kid": kid}, _claims(iss="elsewhere")),
        "no sub": _forge(ring, tmp_path / "k.pem", {"kid": kid}, _claims(sub=None)),
        "not yet valid": _forge(
            ring, tmp_path / "k.pem", {"kid": kid}, _claims(nbf=int(time.time()) + 600)
        ),
        "issued in the future": _forge(
            ring, tmp_path / "k.pem", {"kid": kid}, _claims(iat=int(time.time()) + 600)
        ),
        "admission token": _forge(
            ring, tmp_path / "k.pem", {"kid": kid}, _claims(token_use="admission")
        ),
        "claims not an object": f"{head}.{_b64(b'[1,2]')}.{signature}",
        "empty": "",
    }
    for name, token in bad.items():
        with pytest.raises(InvalidToken):  # the name shows in a failure's locals
            ring.verify(token, use=TokenUse.ACCESS)
        assert name
    expired = _forge(ring, tmp_path / "k.pem", {"kid": kid}, _claims(exp=int(time.time()) - 60))
    with pytest.raises(TokenExpired):
        ring.verify(expired, use=TokenUse.ACCESS)


def test_a_ring_accepts_both_key_types_during_a_rotation(tmp_path: Path) -> None:
    """From an Ed25519 key to an RSA one: old tokens verify until they expire; JWKS has both."""
    generate_key_file(tmp_path / "old.pem", "ed25519")
    generate_key_file(tmp_path / "new.pem")
    now = datetime.now(UTC)
    claims = {"sub": "u1", "role": "customer"}
    old = _ring(tmp_path / "old.pem").sign(
        claims, use=TokenUse.ACCESS, now=now, ttl=timedelta(minutes=5)
    )
    ring = _ring(tmp_path / "new.pem", [tmp_path / "old.pem"])
    new = ring.sign(claims, use=TokenUse.ACCESS, now=now, ttl=timedelta(minutes=5))
    assert jwt.get_unverified_header(new)["alg"] == "RS256"
    assert jwt.get_unverified_header(old)["alg"] == "EdDSA"
    for token in (old, new):
        assert ring.verify(token, use=TokenUse.ACCESS)["sub"] == "u1"
    published = {key["kty"]: key["alg"] for key in ring.jwks()["keys"]}
    assert published == {"RSA": "RS256", "OKP": "EdDSA"}
    verifier = KeyRing.from_jwks(ring.jwks(), "boxoffice")
    assert verifier.verify(old, use=TokenUse.ACCESS) == ring.verify(old, use=TokenUse.ACCESS)
    assert verifier.verify(new, use=TokenUse.ACCESS)["sub"] == "u1"


def test_short_rsa_keys_are_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the point
    (tmp_path / "weak.pem").write_bytes(
        weak.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(ValueError, match="2048"):
        _ring(tmp_path / "weak.pem")


def _admission(ring: KeyRing, user: str = "u1") -> str:
    return ring.sign(
        {"sub": user, "show_id": "s1", "aid": "a1"},
        use=TokenUse.ADMISSION,
        now=datetime.now(UTC),
        ttl=timedelta(minutes=5),
    )


def test_admission_tokens_are_signed_with_a_derived_ed25519_key(tmp_path: Path) -> None:
    """An RSA ring signs access tokens RS256 and admission tokens EdDSA, with a key every
    process loading the same file derives alike; the JWKS verifies both."""
    generate_key_file(tmp_path / "k.pem")
    ring, again = _ring(tmp_path / "k.pem"), _ring(tmp_path / "k.pem")
    admission = _admission(ring)
    header = jwt.get_unverified_header(admission)
    assert header == {"alg": "EdDSA", "kid": ring.admission_kid, "typ": "JWT"}
    assert ring.admission_kid == again.admission_kid != ring.signing_kid
    assert again.verify(admission, use=TokenUse.ADMISSION)["sub"] == "u1"
    access = ring.sign({"sub": "u1"}, use=TokenUse.ACCESS, now=datetime.now(UTC), ttl=timedelta(1))
    assert jwt.get_unverified_header(access)["alg"] == "RS256"
    verifier = KeyRing.from_jwks(ring.jwks(), "boxoffice")
    assert verifier.verify(admission, use=TokenUse.ADMISSION)["aid"] == "a1"
    published = {key["kid"]: key["alg"] for key in ring.jwks()["keys"]}
    assert published == {ring.signing_kid: "RS256", ring.admission_kid: "EdDSA"}
    with pytest.raises(InvalidToken):  # an admission token is no access token
        ring.verify(admission, use=TokenUse.ACCESS)


def test_each_key_derives_its_own_admission_key(tmp_path: Path) -> None:
    generate_key_file(tmp_path / "a.pem")
    generate_key_file(tmp_path / "b.pem")
    generate_key_file(tmp_path / "ed.pem", "ed25519")
    a, b, ed = (_ring(tmp_path / name) for name in ("a.pem", "b.pem", "ed.pem"))
    assert a.admission_kid != b.admission_kid
    with pytest.raises(InvalidToken):
        b.verify(_admission(a), use=TokenUse.ADMISSION)
    # An Ed25519 key signs admissions itself.
    assert ed.admission_kid == ed.signing_kid
    key = serialization.load_pem_private_key((tmp_path / "ed.pem").read_bytes(), password=None)
    assert admission_key_for(key) is key  # type: ignore[arg-type]
    assert thumbprint(key.public_key()) == ed.admission_kid  # type: ignore[arg-type]


def test_a_rotation_keeps_admissions_only_with_the_old_private_key(tmp_path: Path) -> None:
    """The old key file itself among the extra files keeps its admissions valid; its
    public key alone keeps its access tokens but not its admissions (docs/security.md)."""
    generate_key_file(tmp_path / "old.pem")
    generate_key_file(tmp_path / "new.pem")
    old = _ring(tmp_path / "old.pem")
    admission = _admission(old)
    with_file = _ring(tmp_path / "new.pem", [tmp_path / "old.pem"])
    assert with_file.verify(admission, use=TokenUse.ADMISSION)["sub"] == "u1"
    key = serialization.load_pem_private_key((tmp_path / "old.pem").read_bytes(), password=None)
    (tmp_path / "old.pub").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    with_public = _ring(tmp_path / "new.pem", [tmp_path / "old.pub"])
    with pytest.raises(InvalidToken):
        with_public.verify(admission, use=TokenUse.ADMISSION)
