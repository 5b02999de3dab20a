"""Social login's rules that need no provider: Kakao's user answer, ID-token claim checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from types import SimpleNamespace
from typing import Any, cast

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from boxoffice.identity import errors, oauth, oidc
from boxoffice.platform.config import OAuthProvider
from boxoffice.platform.runtime import Adapters, Runtime

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
GOOGLE = OAuthProvider(kind="oidc", client_id="web-client", server_metadata_url="https://x/")


def kakao_body(**account: Any) -> dict[str, Any]:
    return {"id": 123456789, "kakao_account": account, "properties": {"nickname": "어피치"}}


def test_kakao_verified_email_is_trusted() -> None:
    body = kakao_body(email="Fan@Example.com", is_email_verified=True, is_email_valid=True)
    identity = oauth.kakao_identity("kakao", body)
    assert identity == oidc.ProviderIdentity(
        "kakao", "123456789", "Fan@Example.com", email_verified=True, name="어피치"
    )


@pytest.mark.parametrize(
    "account",
    [
        {"email": "fan@example.com", "is_email_verified": False},
        {"email": "fan@example.com", "is_email_verified": True, "is_email_valid": False},
        {"email": "fan@example.com"},  # no verdict is no vouching
        {"email": "fan@example.com", "is_email_verified": "true"},  # only JSON true counts
    ],
)
def test_kakao_email_without_verification_is_not_trusted(account: dict[str, Any]) -> None:
    assert oauth.kakao_identity("kakao", kakao_body(**account)).email_verified is False


def test_kakao_without_email_or_id() -> None:
    assert oauth.kakao_identity("kakao", kakao_body()).email is None
    with pytest.raises(errors.OAuthProviderError):
        oauth.kakao_identity("kakao", {"kakao_account": {}})


def runtime_with_cached_google() -> Runtime:
    """A runtime whose discovery and JWKS caches already hold Google's (no network)."""
    runtime = SimpleNamespace(adapters=Adapters())
    cache = oidc.cache_of(cast(Runtime, runtime))
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key())) | {"kid": "g1"}
    metadata = {
        "issuer": oidc.GOOGLE_ISSUER,
        "jwks_uri": "https://unused.invalid/jwks",
        "id_token_signing_alg_values_supported": ["RS256"],
    }
    cache.metadata["google"] = oidc._Cached(metadata, time.monotonic())
    cache.jwks["google"] = oidc._Cached(jwt.PyJWKSet.from_dict({"keys": [jwk]}), time.monotonic())
    return cast(Runtime, runtime)


def id_token(**claims: Any) -> str:
    now = int(time.time())
    base = {"sub": "1", "aud": "web-client", "iat": now, "exp": now + 60, "nonce": "n-1"}
    return jwt.encode(base | claims, KEY, algorithm="RS256", headers={"kid": "g1"})


@pytest.mark.parametrize("issuer", ["https://accounts.google.com", "accounts.google.com"])
async def test_google_issuer_with_or_without_scheme(issuer: str) -> None:
    token = id_token(iss=issuer)
    claims = await oidc.verify_id_token(
        runtime_with_cached_google(), "google", GOOGLE, token, "n-1"
    )
    assert claims["sub"] == "1"


@pytest.mark.parametrize(
    ("token", "nonce"),
    [
        (id_token(iss="http://accounts.google.com"), "n-1"),
        (id_token(iss="https://accounts.google.com"), "n-2"),
        (id_token(iss="https://accounts.google.com", nonce=None), "n-1"),
        (id_token(iss="https://accounts.google.com", aud="mobile-client"), "n-1"),
    ],
    ids=["plain-http-issuer", "other-nonce", "no-nonce", "other-audience"],
)
async def test_google_id_token_claims_are_checked(token: str, nonce: str) -> None:
    with pytest.raises(errors.IdTokenInvalid):
        await oidc.verify_id_token(runtime_with_cached_google(), "google", GOOGLE, token, nonce)


async def test_hmac_signed_with_the_public_key_is_refused() -> None:
    """Algorithm confusion: HS256 keyed with the published RSA key must not verify."""
    public_pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())
    claims = {"iss": oidc.GOOGLE_ISSUER, "sub": "1", "aud": "web-client", "iat": now}
    # PyJWT itself refuses to HMAC with a PEM key, so the forgery is assembled by hand.
    forged = _hs256(claims | {"exp": now + 60, "nonce": "n-1"}, public_pem)
    with pytest.raises(errors.IdTokenInvalid, match="algorithm"):
        await oidc.verify_id_token(runtime_with_cached_google(), "google", GOOGLE, forged, "n-1")


def _hs256(claims: dict[str, Any], secret: bytes) -> str:
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = ".".join(
        b64(json.dumps(part).encode())
        for part in ({"alg": "HS256", "typ": "JWT", "kid": "g1"}, claims)
    )
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"
