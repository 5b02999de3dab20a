"""OpenID Connect for social login: the provider's discovery document and keys (kept in
memory a while, fetched once by callbacks that arrive together) and the ID token's
verification, asymmetric algorithms only."""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import structlog

from boxoffice.identity.errors import IdTokenInvalid, OAuthProviderError
from boxoffice.platform.config import OAuthProvider
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.singleflight import SingleFlight

log = structlog.get_logger("boxoffice.identity.oauth")

METADATA_TTL_SECONDS = 3600
JWKS_TTL_SECONDS = 3600
ID_TOKEN_LEEWAY_SECONDS = 60
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
GOOGLE_ISSUER = "https://accounts.google.com"


# Asymmetric algorithms only: "none" and HMAC (keyed with a public value) never verify.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


@dataclass(frozen=True)
class ProviderIdentity:
    """Who the provider says signed in. ``email_verified`` is the provider's word, not ours."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None

    @classmethod
    def of(
        cls, provider: str, subject: object, email: object, name: object, *, verified: bool
    ) -> ProviderIdentity:
        """From a provider's loosely typed answer: the e-mail and the name count only when
        they are strings, and the e-mail is verified only when there is one."""
        address = email if isinstance(email, str) else None
        return cls(
            provider=provider,
            subject=str(subject),
            email=address,
            email_verified=address is not None and verified,
            name=name if isinstance(name, str) else None,
        )


@dataclass
class _Cached:
    value: Any
    fetched_at: float


@dataclass
class OAuthCache:
    """Discovery documents and JWKS per provider, kept in memory for a while."""

    metadata: dict[str, _Cached] = field(default_factory=dict)
    jwks: dict[str, _Cached] = field(default_factory=dict)
    # Callbacks arriving together after a restart (or an expiry) share one fetch.
    fetches: SingleFlight[tuple[str, str], Any] = field(default_factory=SingleFlight)


def cache_of(runtime: Runtime) -> OAuthCache:
    return runtime.adapters.ensure(OAuthCache, OAuthCache)


async def discovery(runtime: Runtime, name: str, config: OAuthProvider) -> dict[str, Any]:
    cache = cache_of(runtime)
    cached = cache.metadata.get(name)
    if cached is not None and time.monotonic() - cached.fetched_at < METADATA_TTL_SECONDS:
        value: dict[str, Any] = cached.value
        return value
    if not config.server_metadata_url:
        raise OAuthProviderError(f"The OIDC provider '{name}' has no server_metadata_url.")
    url = config.server_metadata_url
    document = await cache.fetches.do(
        ("metadata", name), lambda: get_json(name, url, "discovery document")
    )
    required = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
    if not isinstance(document, dict) or not all(
        isinstance(document.get(k), str) for k in required
    ):
        raise OAuthProviderError("The provider's discovery document is incomplete.")
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    document["token_auth_method"] = (
        "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
    )
    cache.metadata[name] = _Cached(document, time.monotonic())
    return document


async def _jwks(runtime: Runtime, name: str, jwks_uri: str, *, refresh: bool) -> jwt.PyJWKSet:
    cache = cache_of(runtime)
    cached = cache.jwks.get(name)
    fresh = cached is not None and time.monotonic() - cached.fetched_at < JWKS_TTL_SECONDS
    if cached is not None and fresh and not refresh:
        keys: jwt.PyJWKSet = cached.value
        return keys
    document = await cache.fetches.do(
        ("jwks", name), lambda: get_json(name, jwks_uri, "signing keys")
    )
    try:
        keys = jwt.PyJWKSet.from_dict(document)
    except (jwt.PyJWTError, TypeError, ValueError) as exc:
        raise OAuthProviderError("The provider's signing keys cannot be read.") from exc
    cache.jwks[name] = _Cached(keys, time.monotonic())
    return keys


async def get_json(name: str, url: str, what: str) -> Any:
    try:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
            response = await http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("oauth.fetch_failed", provider=name, what=what, error=type(exc).__name__)
        raise OAuthProviderError(f"The provider's {what} could not be fetched.") from exc


def _key_for(keys: jwt.PyJWKSet, kid: str | None) -> jwt.PyJWK | None:
    if kid is None:
        return keys.keys[0] if len(keys.keys) == 1 else None
    return next((k for k in keys.keys if k.key_id == kid), None)


async def verify_id_token(
    runtime: Runtime, name: str, config: OAuthProvider, id_token: str, nonce: str | None
) -> dict[str, Any]:
    """The ID token's claims after checking signature (by ``kid``), ``iss``, ``aud``,
    ``exp`` and ``nonce``. An unknown ``kid`` refetches the JWKS once (key rotation)."""
    metadata = await discovery(runtime, name, config)
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.PyJWTError as exc:
        raise IdTokenInvalid("The provider's ID token is not a JWT.") from exc
    algorithm = header.get("alg")
    supported = set(metadata.get("id_token_signing_alg_values_supported") or ["RS256"])
    if algorithm not in ASYMMETRIC_ALGORITHMS or algorithm not in supported:
        raise IdTokenInvalid("The provider's ID token uses an algorithm we do not accept.")
    kid = header.get("kid")
    signing_key = _key_for(await _jwks(runtime, name, metadata["jwks_uri"], refresh=False), kid)
    if signing_key is None:
        signing_key = _key_for(await _jwks(runtime, name, metadata["jwks_uri"], refresh=True), kid)
    if signing_key is None:
        raise IdTokenInvalid("The provider's ID token is signed with a key it does not publish.")
    issuers = [metadata["issuer"]]
    if metadata["issuer"] == GOOGLE_ISSUER:
        issuers.append("accounts.google.com")  # Google's ID tokens carry either form
    try:
        claims: dict[str, Any] = jwt.decode(
            id_token,
            signing_key.key,
            algorithms=[algorithm],
            audience=config.client_id,
            issuer=issuers,
            leeway=ID_TOKEN_LEEWAY_SECONDS,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise IdTokenInvalid("The provider's ID token has expired.") from exc
    except jwt.InvalidAudienceError as exc:
        raise IdTokenInvalid("The provider's ID token was issued to another client.") from exc
    except jwt.InvalidIssuerError as exc:
        raise IdTokenInvalid("The provider's ID token has the wrong issuer.") from exc
    except jwt.PyJWTError as exc:
        raise IdTokenInvalid("The provider's ID token signature does not verify.") from exc
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != config.client_id:
        raise IdTokenInvalid("The provider's ID token was authorised for another client.")
    token_nonce = claims.get("nonce")
    if nonce is None or not isinstance(token_nonce, str):
        raise IdTokenInvalid("The provider's ID token carries no nonce.")
    if not hmac.compare_digest(token_nonce, nonce):
        raise IdTokenInvalid("The provider's ID token was not issued for this sign-in (nonce).")
    return claims


def oidc_identity(name: str, claims: Mapping[str, Any]) -> ProviderIdentity:
    display = claims.get("name") or claims.get("given_name") or claims.get("nickname")
    return ProviderIdentity.of(
        name,
        claims["sub"],
        claims.get("email"),
        display,
        verified=claims.get("email_verified") in (True, "true"),
    )
