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
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from boxoffice.identity.errors import (
    OAuthDenied,
    OAuthProviderError,
    OAuthProviderUnknown,
    OAuthStateInvalid,
)
from boxoffice.identity.oidc import (
    HTTP_TIMEOUT,
    ProviderIdentity,
    discovery,
    oidc_identity,
    verify_id_token,
)
from boxoffice.platform.config import OAuthProvider
from boxoffice.platform.kv import key
from boxoffice.platform.ratelimit import Rule
from boxoffice.platform.runtime import Runtime

with warnings.catch_warnings():  # Authlib 1.9 prefers "httpx2" and warns when given httpx
    import authlib.deprecate  # installs its "always" filter first, so ours below wins

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.base_client.errors import OAuthError
    from authlib.integrations.httpx_client import AsyncOAuth2Client

log = structlog.get_logger("boxoffice.identity.oauth")

STATE_TTL_SECONDS = 600
BINDING_COOKIE = "bo_oauth_binding"
# Each start stores ten minutes of state: bound per client address so nobody fills the store.
AUTHORIZE_RULE = Rule("oauth-authorize", 30, 60)

KAKAO_AUTHORIZE_URL = "https://kauth.kakao.com/oauth/authorize"
KAKAO_TOKEN_URL = "https://kauth.kakao.com/oauth/token"  # noqa: S105 - an endpoint, not a secret
KAKAO_USER_URL = "https://kapi.kakao.com/v2/user/me"
KAKAO_DEFAULT_SCOPE = "account_email,profile_nickname"

# What a user's own choice on the provider's page looks like (RFC 6749 §4.1.2.1, OIDC §3.1.2.6).
USER_REFUSALS = frozenset(
    {"access_denied", "consent_required", "login_required", "interaction_required"}
)


def provider_config(runtime: Runtime, name: str) -> OAuthProvider:
    config = runtime.settings.identity.oauth.get(name)
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
            identity = oidc_identity(name, claims)
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
    nickname = profile.get("nickname") or properties.get("nickname")
    verified = (
        account.get("is_email_verified") is True
        and account.get("is_email_valid") is not False  # Kakao marks expired addresses invalid
    )
    return ProviderIdentity.of(name, body["id"], account.get("email"), nickname, verified=verified)


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
    metadata = await discovery(runtime, name, config)
    return {
        "authorization_endpoint": config.authorize_url or metadata["authorization_endpoint"],
        "token_endpoint": config.token_url or metadata["token_endpoint"],
        "userinfo_endpoint": config.userinfo_url or metadata.get("userinfo_endpoint", ""),
        "token_auth_method": metadata["token_auth_method"],
    }
