"""Social login: the authorization-code flow with Google, Kakao and any OIDC provider.

``begin`` makes the provider's authorization URL (state, nonce for OIDC, PKCE S256) and
keeps what the callback needs in the key-value store for ten minutes; ``complete`` pops
that record once, exchanges the code (Authlib's async httpx client), and returns who the
provider says the user is: from the ID token, verified against the provider's JWKS, for
OIDC; from ``/v2/user/me`` for Kakao, whose user endpoint is not OIDC.

Codes, tokens, states and verifiers are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import structlog

from boxoffice.platform.config import OAuthProvider
from boxoffice.platform.errors import BadGateway, BadRequest, InvalidToken, NotFound
from boxoffice.platform.kv import key
from boxoffice.platform.ratelimit import Rule
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.singleflight import SingleFlight

with warnings.catch_warnings():  # Authlib 1.9 prefers "httpx2" and warns when given httpx
    import authlib.deprecate  # installs its "always" filter first, so ours below wins

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.base_client.errors import OAuthError
    from authlib.integrations.httpx_client import AsyncOAuth2Client

log = structlog.get_logger("boxoffice.identity.oauth")

STATE_TTL_SECONDS = 600
METADATA_TTL_SECONDS = 3600
JWKS_TTL_SECONDS = 3600
ID_TOKEN_LEEWAY_SECONDS = 60
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
BINDING_COOKIE = "bo_oauth_binding"
# Each start stores ten minutes of state: bound per client address so nobody fills the store.
AUTHORIZE_RULE = Rule("oauth-authorize", 30, 60)

KAKAO_AUTHORIZE_URL = "https://kauth.kakao.com/oauth/authorize"
KAKAO_TOKEN_URL = "https://kauth.kakao.com/oauth/token"  # noqa: S105 - an endpoint, not a secret
KAKAO_USER_URL = "https://kapi.kakao.com/v2/user/me"
KAKAO_DEFAULT_SCOPE = "account_email,profile_nickname"
GOOGLE_ISSUER = "https://accounts.google.com"

# Asymmetric algorithms only: "none" and HMAC (keyed with a public value) never verify.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
# What a user's own choice on the provider's page looks like (RFC 6749 §4.1.2.1, OIDC §3.1.2.6).
USER_REFUSALS = frozenset(
    {"access_denied", "consent_required", "login_required", "interaction_required"}
)


class OAuthProviderUnknown(NotFound):
    title = "Unknown sign-in provider"


class OAuthStateInvalid(BadRequest):
    title = "Sign-in request not recognised"


class OAuthDenied(BadRequest):
    title = "Sign-in was cancelled at the provider"


class OAuthProviderError(BadGateway):
    code, title = "oauth_provider_error", "Sign-in provider error"


class IdTokenInvalid(InvalidToken):
    title = "The provider's ID token failed verification"


@dataclass(frozen=True)
class ProviderIdentity:
    """Who the provider says signed in. ``email_verified`` is the provider's word, not ours."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


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


def _cache(runtime: Runtime) -> OAuthCache:
    return runtime.adapters.ensure(OAuthCache, OAuthCache)


def provider_config(runtime: Runtime, name: str) -> OAuthProvider:
    config = runtime.settings.oauth.get(name)
    if config is None:
        raise OAuthProviderUnknown(f"No sign-in provider named '{name}' is configured.")
    if config.kind not in ("oidc", "kakao"):
        raise OAuthProviderError(f"The provider '{name}' has an unsupported kind.")
    return config


def redirect_uri(runtime: Runtime, name: str) -> str:
    return f"{runtime.settings.public_url.rstrip('/')}/api/v1/auth/oauth/{name}/callback"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _state_key(runtime: Runtime, state: str) -> str:
    return key(runtime.kv, "identity", "oauth-state", _digest(state))


# --- the authorize step ---------------------------------------------------------------


@dataclass(frozen=True)
class Authorization:
    url: str
    binding: str  # the browser-binding secret for the cookie


async def begin(runtime: Runtime, name: str, binding: str | None, address: str) -> Authorization:
    """The provider's authorization URL; the flow's secrets stay server-side for ten minutes.

    ``binding`` is the caller's browser-binding cookie (a new one is made when absent): the
    callback must come from the browser that started the flow, so a stolen callback URL
    cannot log a victim into the attacker's account (login CSRF). Raises
    ``OAuthProviderUnknown``, ``RateLimited`` (30 starts a minute per client address) and
    ``OAuthProviderError`` when discovery fails.
    """
    config = provider_config(runtime, name)
    await runtime.limiter.hit(
        AUTHORIZE_RULE, address, detail="Too many sign-in attempts; wait a minute."
    )
    state = secrets.token_urlsafe(32)
    code_verifier = secrets.token_urlsafe(64)  # 86 characters, within RFC 7636's 43..128
    nonce = secrets.token_urlsafe(32) if config.kind == "oidc" else None
    binding = binding if binding and 20 <= len(binding) <= 100 else secrets.token_urlsafe(32)
    endpoints = await _endpoints(runtime, name, config)
    record = {
        "provider": name,
        "nonce": nonce,
        "code_verifier": code_verifier,
        "binding": _digest(binding),
    }
    await runtime.kv.set(_state_key(runtime, state), json.dumps(record), ttl=STATE_TTL_SECONDS)
    extra: dict[str, str] = {"nonce": nonce} if nonce else {}
    async with _client(runtime, name, config, endpoints) as client:
        url, _ = client.create_authorization_url(
            endpoints["authorization_endpoint"], state=state, code_verifier=code_verifier, **extra
        )
    log.info("oauth.authorize", provider=name)
    return Authorization(url=str(url), binding=binding)


# --- the callback ---------------------------------------------------------------------


async def complete(
    runtime: Runtime, name: str, params: Mapping[str, str], binding: str | None
) -> ProviderIdentity:
    """Check the callback and learn the user's identity from the provider.

    Raises ``OAuthProviderUnknown`` (404), ``OAuthStateInvalid`` / ``OAuthDenied`` (400),
    ``IdTokenInvalid`` (401) and ``OAuthProviderError`` (502).
    """
    config = provider_config(runtime, name)
    state = params.get("state") or ""
    # Popped before anything else: a state is good for one callback, whatever happens next.
    raw = await runtime.kv.pop(_state_key(runtime, state)) if state else None
    error = params.get("error")
    if error:
        log.info("oauth.provider_refused", provider=name, error=_safe_code(error))
        if error in USER_REFUSALS:
            raise OAuthDenied("Sign-in was cancelled or refused at the provider; nothing changed.")
        raise OAuthProviderError(
            "The sign-in provider reported an error.", provider_error=_safe_code(error)
        )
    if raw is None:
        raise OAuthStateInvalid(
            "This sign-in link is unknown, has expired or was already used; start again."
        )
    record: dict[str, Any] = json.loads(raw)
    if record.get("provider") != name:
        raise OAuthStateInvalid("This sign-in was started with another provider; start again.")
    if not binding or not hmac.compare_digest(record["binding"], _digest(binding)):
        raise OAuthStateInvalid("This sign-in was started in another browser; start again.")
    code = params.get("code")
    if not code:
        raise OAuthStateInvalid("The provider's answer carries no authorization code.")
    endpoints = await _endpoints(runtime, name, config)
    async with _client(runtime, name, config, endpoints) as client:
        token = await _exchange(client, name, endpoints["token_endpoint"], code, record)
        if config.kind == "kakao":
            identity = await _kakao_identity(client, name, endpoints["userinfo_endpoint"])
        else:
            id_token = token.get("id_token")
            if not isinstance(id_token, str):
                raise OAuthProviderError("The provider's token response has no ID token.")
            claims = await verify_id_token(runtime, name, config, id_token, record["nonce"])
            identity = _oidc_identity(name, claims)
    log.info("oauth.callback", provider=name, email_verified=identity.email_verified)
    return identity


def _safe_code(error: str) -> str:
    return "".join(c for c in error if c.isalnum() or c in "_-.")[:64]


def _client(
    runtime: Runtime, name: str, config: OAuthProvider, endpoints: Mapping[str, str]
) -> AsyncOAuth2Client:
    secret = config.client_secret.get_secret_value()
    method = endpoints["token_auth_method"] if secret else "none"  # "none": a PKCE public client
    return AsyncOAuth2Client(
        client_id=config.client_id,
        client_secret=secret or None,
        token_endpoint_auth_method=method,
        scope=_scope(config),
        redirect_uri=redirect_uri(runtime, name),
        code_challenge_method="S256",
        timeout=HTTP_TIMEOUT,
    )


def _scope(config: OAuthProvider) -> str:
    if config.kind == "kakao" and "scope" not in config.model_fields_set:
        return KAKAO_DEFAULT_SCOPE  # Kakao's consent items, comma-separated, not OIDC scopes
    return config.scope


async def _exchange(
    client: AsyncOAuth2Client, name: str, url: str, code: str, record: Mapping[str, Any]
) -> dict[str, Any]:
    try:
        token = await client.fetch_token(
            url,
            grant_type="authorization_code",
            code=code,
            code_verifier=record["code_verifier"],
        )
    except OAuthError as exc:
        # e.g. Kakao's {"error": "invalid_grant", "error_code": "KOE320"}: a spent or bad code
        log.warning("oauth.token_refused", provider=name, error=_safe_code(str(exc.error)))
        raise OAuthProviderError(
            "The sign-in provider refused to exchange the authorization code; start again.",
            provider_error=_safe_code(str(exc.error)),
        ) from exc
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("oauth.token_failed", provider=name, error=type(exc).__name__)
        raise OAuthProviderError("The sign-in provider could not be reached.") from exc
    if not token.get("access_token"):
        raise OAuthProviderError("The provider's token response has no access token.")
    return dict(token)


# --- Kakao ----------------------------------------------------------------------------


async def _kakao_identity(client: AsyncOAuth2Client, name: str, url: str) -> ProviderIdentity:
    try:
        response = await client.get(url)
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("oauth.userinfo_failed", provider=name, error=type(exc).__name__)
        raise OAuthProviderError("The sign-in provider did not return the user.") from exc
    return kakao_identity(name, body)


def kakao_identity(name: str, body: Any) -> ProviderIdentity:
    """Kakao's ``/v2/user/me`` body as an identity; its e-mail counts only when verified."""
    if not isinstance(body, dict) or not isinstance(body.get("id"), int | str):
        raise OAuthProviderError("The provider's user answer has no id.")
    account = body.get("kakao_account") or {}
    properties = body.get("properties") or {}
    profile = account.get("profile") or {}
    email = account.get("email") if isinstance(account.get("email"), str) else None
    verified = (
        email is not None
        and account.get("is_email_verified") is True
        and account.get("is_email_valid") is not False  # Kakao marks expired addresses invalid
    )
    nickname = profile.get("nickname") or properties.get("nickname")
    return ProviderIdentity(
        provider=name,
        subject=str(body["id"]),
        email=email,
        email_verified=verified,
        name=nickname if isinstance(nickname, str) else None,
    )


# --- OIDC -----------------------------------------------------------------------------


async def _endpoints(runtime: Runtime, name: str, config: OAuthProvider) -> dict[str, str]:
    """Authorization, token and user endpoints: configured ones win over discovery."""
    if config.kind == "kakao":
        return {
            "authorization_endpoint": config.authorize_url or KAKAO_AUTHORIZE_URL,
            "token_endpoint": config.token_url or KAKAO_TOKEN_URL,
            "userinfo_endpoint": config.userinfo_url or KAKAO_USER_URL,
            "token_auth_method": "client_secret_post",  # the only form Kakao accepts
        }
    metadata = await _metadata(runtime, name, config)
    return {
        "authorization_endpoint": config.authorize_url or metadata["authorization_endpoint"],
        "token_endpoint": config.token_url or metadata["token_endpoint"],
        "userinfo_endpoint": config.userinfo_url or metadata.get("userinfo_endpoint", ""),
        "token_auth_method": metadata["token_auth_method"],
    }


async def _metadata(runtime: Runtime, name: str, config: OAuthProvider) -> dict[str, Any]:
    cache = _cache(runtime)
    cached = cache.metadata.get(name)
    if cached is not None and time.monotonic() - cached.fetched_at < METADATA_TTL_SECONDS:
        value: dict[str, Any] = cached.value
        return value
    if not config.server_metadata_url:
        raise OAuthProviderError(f"The OIDC provider '{name}' has no server_metadata_url.")
    url = config.server_metadata_url
    document = await cache.fetches.do(
        ("metadata", name), lambda: _get_json(name, url, "discovery document")
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
    cache = _cache(runtime)
    cached = cache.jwks.get(name)
    fresh = cached is not None and time.monotonic() - cached.fetched_at < JWKS_TTL_SECONDS
    if cached is not None and fresh and not refresh:
        keys: jwt.PyJWKSet = cached.value
        return keys
    document = await cache.fetches.do(
        ("jwks", name), lambda: _get_json(name, jwks_uri, "signing keys")
    )
    try:
        keys = jwt.PyJWKSet.from_dict(document)
    except (jwt.PyJWTError, TypeError, ValueError) as exc:
        raise OAuthProviderError("The provider's signing keys cannot be read.") from exc
    cache.jwks[name] = _Cached(keys, time.monotonic())
    return keys


async def _get_json(name: str, url: str, what: str) -> Any:
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
    metadata = await _metadata(runtime, name, config)
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


def _oidc_identity(name: str, claims: Mapping[str, Any]) -> ProviderIdentity:
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    verified = email is not None and claims.get("email_verified") in (True, "true")
    display = claims.get("name") or claims.get("given_name") or claims.get("nickname")
    return ProviderIdentity(
        provider=name,
        subject=str(claims["sub"]),
        email=email,
        email_verified=verified,
        name=display if isinstance(display, str) else None,
    )
