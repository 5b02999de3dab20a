"""Signing keys and JWTs for access and admission tokens.

Tokens are RS256 (RSA-2048 and up) or EdDSA (Ed25519) JWTs, by the key's type, with a
``kid`` header: the RFC 7638 thumbprint of the public key. The key ring signs with one
private key and verifies with it and any older public keys still configured, so a
rotation (also from one key type to the other) keeps issued tokens valid until they
expire. ``/.well-known/jwks.json`` publishes every verifying key.

New keys are RSA: verifying an RS256 token costs ~18–33 µs here against ~80–160 µs for
Ed25519, and access tokens are verified far more often than signed (every fan's first
request to each API process; signing, ~0.3–0.8 ms, happens once per login or refresh).
Ed25519 keys keep working.

Admission tokens are the other way round: one is signed for every fan the waiting room
admits (100 a second in a flash sale, while the crowd is still arriving) and verified only
by the holds of that fan. They are signed with an Ed25519 key (~40–60 µs against ~0.8 ms
for RSA-2048 on this project's 2-core VMs) derived from the ring's private key with HKDF
(``admission_key_for``): every process that loads the same key file derives the same
key, nothing new is configured, and ``/.well-known/jwks.json`` publishes its public half
beside the signing key, so the JWKS still verifies both kinds of token. An Ed25519 ring key
signs admissions itself. A rotation keeps admissions issued before it valid while the old
key *file* (its private key) stays among the extra verifying files; its public key alone
keeps only access tokens valid (docs/decisions.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import jwt
import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from boxoffice.platform.errors import InvalidToken, TokenExpired
from boxoffice.platform.ids import new_id

ALGORITHM = "RS256"  # what new keys sign with; Ed25519 keys sign and verify EdDSA
EDDSA = "EdDSA"
RSA_MIN_BITS = 2048
PublicKey = Ed25519PublicKey | rsa.RSAPublicKey
PrivateKey = Ed25519PrivateKey | rsa.RSAPrivateKey


class Role(StrEnum):
    CUSTOMER = "customer"
    SELLER = "seller"
    STAFF = "staff"
    ADMIN = "admin"


class TokenUse(StrEnum):
    ACCESS = "access"
    ADMISSION = "admission"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the access token's user and login (``sid``), with the role the
    account has now (``platform/authz.py`` corrects the token's when it changed)."""

    id: str
    email: str
    role: Role
    sid: str | None = None  # the login (refresh-token family) the token belongs to

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def acts_for(self, owner_id: str) -> bool:
        """The caller is that user (an event's seller, a hold's buyer) or an admin, who may
        act for anyone: the one rule behind every "yours, or you are an admin" check."""
        return self.id == owner_id or self.has_role(Role.ADMIN)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _int_b64(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def algorithm_of(key: PublicKey | PrivateKey) -> str:
    return EDDSA if isinstance(key, Ed25519PublicKey | Ed25519PrivateKey) else ALGORITHM


def _jwk_members(public: PublicKey) -> dict[str, str]:
    """The members RFC 7638 hashes for a thumbprint (and the JWK's key material)."""
    if isinstance(public, Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"crv": "Ed25519", "kty": "OKP", "x": _b64url(raw)}
    numbers = public.public_numbers()
    return {"e": _int_b64(numbers.e), "kty": "RSA", "n": _int_b64(numbers.n)}


def thumbprint(public: PublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256) of a public key."""
    canonical = json.dumps(_jwk_members(public), separators=(",", ":"), sort_keys=True).encode()
    return _b64url(hashlib.sha256(canonical).digest())


def generate_key_file(path: Path, kind: str = "rsa") -> None:
    """Write a new private key (PEM, mode 0600): RSA-2048 by default, or ``ed25519``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key: PrivateKey = (
        Ed25519PrivateKey.generate()
        if kind == "ed25519"
        else rsa.generate_private_key(public_exponent=65537, key_size=RSA_MIN_BITS)
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def _accepted(key: Any, path: Path) -> None:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey) and key.key_size < RSA_MIN_BITS:
        raise ValueError(f"{path} is an RSA key of fewer than {RSA_MIN_BITS} bits")
    if not isinstance(
        key, Ed25519PrivateKey | Ed25519PublicKey | rsa.RSAPrivateKey | rsa.RSAPublicKey
    ):
        raise ValueError(f"{path} is neither an RSA nor an Ed25519 key")


def _load_private(path: Path) -> PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    _accepted(key, path)
    assert isinstance(key, Ed25519PrivateKey | rsa.RSAPrivateKey)
    return key


def _load_verifying(path: Path) -> PublicKey | PrivateKey:
    """A verifying key file: a public key, or a retired private key (which also keeps the
    admission tokens it signed verifiable, through their derived key)."""
    try:
        key: Any = serialization.load_pem_public_key(path.read_bytes())
    except ValueError:
        return _load_private(path)
    _accepted(key, path)
    assert isinstance(key, Ed25519PublicKey | rsa.RSAPublicKey)
    return key


ADMISSION_KEY_INFO = b"boxoffice admission-token signing key v1"


def admission_key_for(key: PrivateKey) -> Ed25519PrivateKey:
    """The Ed25519 key admission tokens are signed with (module docstring): an Ed25519 key
    itself; for an RSA key, 32 bytes of HKDF-SHA256 over its private numbers, labelled so
    that the derived key serves this one purpose."""
    if isinstance(key, Ed25519PrivateKey):
        return key
    numbers = key.private_numbers()
    size = (numbers.public_numbers.n.bit_length() + 7) // 8
    secret = numbers.d.to_bytes(size, "big") + numbers.public_numbers.n.to_bytes(size, "big")
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=ADMISSION_KEY_INFO).derive(
        secret
    )
    return Ed25519PrivateKey.from_private_bytes(seed)


class KeyRing:
    def __init__(
        self,
        signing_key: PrivateKey | None,
        verifying_keys: list[PublicKey | PrivateKey],
        issuer: str,
    ) -> None:
        self.issuer = issuer
        self._public: dict[str, PublicKey] = {}
        self.signing_kid: str | None = None
        self.admission_kid: str | None = None
        # What each use of token is signed with, and the kid that names it.
        self._signers: dict[TokenUse, tuple[PrivateKey, str]] = {}
        if signing_key is not None:
            admission_key = admission_key_for(signing_key)
            self.signing_kid = self._add(signing_key.public_key())
            self.admission_kid = self._add(admission_key.public_key())
            self._signers[TokenUse.ACCESS] = (signing_key, self.signing_kid)
            self._signers[TokenUse.ADMISSION] = (admission_key, self.admission_kid)
        for key in verifying_keys:
            if isinstance(key, Ed25519PrivateKey | rsa.RSAPrivateKey):
                self._add(key.public_key())
                self._add(admission_key_for(key).public_key())
            else:
                self._add(key)

    def _add(self, key: PublicKey) -> str:
        kid = thumbprint(key)
        self._public.setdefault(kid, key)
        return kid

    @classmethod
    def from_files(
        cls, private_key_file: Path, extra_public_files: list[Path], issuer: str
    ) -> KeyRing:
        return cls(
            _load_private(private_key_file),
            [_load_verifying(p) for p in extra_public_files],
            issuer,
        )

    @classmethod
    def from_jwks(cls, jwks: dict[str, Any], issuer: str) -> KeyRing:
        """A verify-only ring, e.g. for a process that reads another's JWKS."""
        keys = []
        for jwk in jwks.get("keys", []):
            keys.append(jwt.PyJWK(jwk, algorithm=jwk.get("alg", ALGORITHM)).key)
        return cls(None, keys, issuer)

    def jwks(self) -> dict[str, Any]:
        return {
            "keys": [
                {**_jwk_members(key), "kid": kid, "use": "sig", "alg": algorithm_of(key)}
                for kid, key in self._public.items()
            ]
        }

    def sign(self, claims: dict[str, Any], *, use: TokenUse, now: datetime, ttl: timedelta) -> str:
        signer = self._signers.get(use)
        if signer is None:
            raise RuntimeError("this key ring can only verify")
        key, kid = signer
        body = {
            **claims,
            "iss": self.issuer,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()) - 5,
            "exp": int((now + ttl).timestamp()),
            "jti": new_id(),
            "token_use": use.value,
        }
        return jwt.encode(body, key, algorithm=algorithm_of(key), headers={"kid": kid})

    def verify(self, token: str, *, use: TokenUse) -> dict[str, Any]:
        """Claims of a token this ring signed; raises ``InvalidToken`` / ``TokenExpired``.

        Tokens are signed with PyJWT; they are verified here, on ``cryptography`` directly.
        Only our own shape is accepted (compact JWS, a known ``kid`` and the one algorithm
        of that key, no ``crit`` extensions), so the check is short: strict base64url
        segments, the signature over the first two, then the claims. PyJWT's general decoder spent
        ~40 us more per token here (a header parsed twice, a per-character alphabet check
        in Python) on a path every first request of every fan takes; ``test_keyring``
        checks both agree on good tokens and refuse the same bad ones.
        """
        segments = token.split(".")
        if len(segments) != 3 or not all(_SEGMENT.fullmatch(part) for part in segments):
            raise InvalidToken("The token is malformed.")
        header_part, claims_part, signature_part = segments
        header = _json_object(header_part)
        if header.get("alg") not in (ALGORITHM, EDDSA):
            raise InvalidToken("The token's algorithm is not accepted.")
        if "crit" in header or header.get("b64", True) is not True:
            raise InvalidToken("The token uses extensions that are not accepted.")
        key = self._public.get(str(header.get("kid", "")))
        if key is None:
            raise InvalidToken("The token was signed by an unknown key.")
        if header["alg"] != algorithm_of(key):  # a key signs with one algorithm only
            raise InvalidToken("The token's algorithm is not accepted.")
        signature = _b64url_decode(signature_part)
        signed = f"{header_part}.{claims_part}".encode()
        try:
            if isinstance(key, Ed25519PublicKey):
                key.verify(signature, signed)
            else:
                key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature as exc:
            raise InvalidToken("The token is not valid.") from exc
        claims = _json_object(claims_part)
        self._check_claims(claims, use)
        return claims

    def _check_claims(self, claims: dict[str, Any], use: TokenUse) -> None:
        for name in ("exp", "iat", "sub", "token_use"):
            if name not in claims:
                raise InvalidToken("The token is not valid.")
        times = [claims[name] for name in ("exp", "iat", "nbf") if name in claims]
        if any(isinstance(t, bool) or not isinstance(t, int | float) for t in times):
            raise InvalidToken("The token is not valid.")
        now = time.time()
        if claims["exp"] <= now - LEEWAY_SECONDS:
            raise TokenExpired("The token has expired.")
        if claims["iat"] > now + LEEWAY_SECONDS or claims.get("nbf", 0) > now + LEEWAY_SECONDS:
            raise InvalidToken("The token is not valid yet.")
        if claims.get("iss") != self.issuer:
            raise InvalidToken("The token is not valid.")
        if claims.get("token_use") != use.value:
            raise InvalidToken(f"This is not an {use.value} token.")


_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")  # base64url without padding (RFC 7515 §2)
LEEWAY_SECONDS = 5


def _b64url_decode(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except binascii.Error as exc:  # a length no encoding produces
        raise InvalidToken("The token is malformed.") from exc


def _json_object(part: str) -> dict[str, Any]:
    try:
        value = orjson.loads(_b64url_decode(part))
    except orjson.JSONDecodeError as exc:
        raise InvalidToken("The token is malformed.") from exc
    if not isinstance(value, dict):
        raise InvalidToken("The token is malformed.")
    return value


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    try:
        sid = claims.get("sid")
        return Principal(
            id=str(claims["sub"]),
            email=str(claims.get("email", "")),
            role=Role(claims["role"]),
            sid=sid if isinstance(sid, str) else None,
        )
    except (KeyError, ValueError) as exc:
        raise InvalidToken("The token does not name a user and role.") from exc


class HasKeys(Protocol):
    keys: KeyRing


class VerifiedTokens:
    """Tokens this process has verified, remembered briefly: (use, token) -> (until, value).

    A client polling its queue place or seat map sends the same access token again and
    again, and an admitted fan's hold attempts the same admission token: the signature
    check then runs about once a minute per token instead of once per request. An entry
    never outlives the token's own ``exp``, forged or expired tokens are never kept, and a
    retired signing key stops being honoured within ``remember_seconds``. What a token
    grants (its show and user, for an admission) is still checked on every use by the
    caller, from the remembered claims.
    """

    def __init__(self, limit: int = 200_000, remember_seconds: float = 60.0) -> None:
        self._limit = limit
        self._remember_seconds = remember_seconds
        self._tokens: OrderedDict[tuple[TokenUse, str], tuple[float, Any]] = OrderedDict()

    def principal(self, holder: HasKeys, token: str) -> Principal:
        """The user an access token names (raises when it is not a valid access token)."""
        principal: Principal = self._remembered(
            holder, token, TokenUse.ACCESS, principal_from_claims
        )
        return principal

    def claims(self, holder: HasKeys, token: str, use: TokenUse) -> dict[str, Any]:
        """The claims of a valid token of ``use`` (raises ``InvalidToken``/``TokenExpired``)."""
        claims: dict[str, Any] = self._remembered(holder, token, use, lambda c: c)
        return claims

    def _remembered(
        self, holder: HasKeys, token: str, use: TokenUse, read: Callable[[dict[str, Any]], Any]
    ) -> Any:
        now = time.time()
        key = (use, token)
        known = self._tokens.get(key)
        if known is not None and known[0] > now:
            return known[1]
        claims = holder.keys.verify(token, use=use)  # raises when invalid
        value = read(claims)
        self._tokens[key] = (min(now + self._remember_seconds, float(claims["exp"])), value)
        self._tokens.move_to_end(key)
        while len(self._tokens) > self._limit:
            self._tokens.popitem(last=False)
        return value
