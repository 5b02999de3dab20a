"""Social login routes (Google, Kakao, any OIDC provider): redirect out, come back, get tokens."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Cookie, Query
from fastapi.responses import JSONResponse, RedirectResponse

from boxoffice.identity import oauth, service
from boxoffice.identity.schemas import TokenPair
from boxoffice.platform.deps import ClientAddress, RuntimeDep, UoW
from boxoffice.platform.openapi import problems

router = APIRouter(tags=["identity"])

BindingCookie = Annotated[str | None, Cookie(alias=oauth.BINDING_COOKIE, include_in_schema=False)]
_NO_PROVIDER = "no such provider configured"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache", "Referrer-Policy": "no-referrer"}


@router.get(
    "/auth/oauth/{provider}/authorize",
    status_code=302,
    response_class=RedirectResponse,
    responses={
        302: {"description": "to the provider's sign-in page"},
        **problems(
            {
                404: _NO_PROVIDER,
                429: "too many sign-in starts from this address",
                502: "the provider's discovery document could not be fetched",
            }
        ),
    },
)
async def oauth_authorize(
    provider: str, runtime: RuntimeDep, client: ClientAddress, binding: BindingCookie = None
) -> RedirectResponse:
    """Start social login: 302 to the provider with state, nonce (OIDC) and PKCE S256."""
    started = await oauth.begin(runtime, provider, binding, client)
    response = RedirectResponse(started.url, status_code=302, headers=_NO_STORE)
    response.set_cookie(
        oauth.BINDING_COOKIE,
        started.binding,
        max_age=oauth.STATE_TTL_SECONDS,
        path="/api/v1/auth/oauth",
        httponly=True,
        samesite="lax",  # sent on the provider's top-level redirect back to the callback
        secure=runtime.settings.public_url.startswith("https://"),
    )
    return response


@router.get(
    "/auth/oauth/{provider}/callback",
    response_model=TokenPair,
    responses={
        302: {"description": "to the configured front-end, tokens in the URL fragment"},
        **problems(
            {
                400: "unknown, expired or reused state; the user refused",
                401: "the provider's ID token failed verification",
                403: "an unverified e-mail belongs to an existing account",
                404: _NO_PROVIDER,
                502: "the provider failed (code exchange, keys, user info)",
            }
        ),
    },
)
async def oauth_callback(
    provider: str,
    uow: UoW,
    runtime: RuntimeDep,
    binding: BindingCookie = None,
    code: Annotated[str | None, Query(max_length=4096)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=512)] = None,
) -> Any:
    """Finish social login: 200 token pair, or 302 to the front-end carrying it."""
    params = {k: v for k, v in {"code": code, "state": state, "error": error}.items() if v}
    pair = await service.social_login_callback(uow, runtime, provider, params, binding)
    frontend = runtime.settings.identity.oauth_frontend_redirect
    if frontend:
        fragment = urlencode(pair.model_dump(mode="json"))
        return RedirectResponse(f"{frontend.split('#')[0]}#{fragment}", 302, headers=_NO_STORE)
    return JSONResponse(pair.model_dump(mode="json"), headers=_NO_STORE)
