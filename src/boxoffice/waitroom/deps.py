"""The queue routes' dependencies: async, and with verified access tokens remembered briefly.

A client polling its place sends the same access token again and again: a verified
token is remembered for up to a minute (never past its own expiry), so the Ed25519 check
runs once a minute per client, not once per poll. Everything else is the platform's own
dependency functions, called on the event loop (plain functions would be run by FastAPI
in its thread pool: three thread hops cost more than a whole poll), whether they are
plain or async functions.
"""

from __future__ import annotations

import inspect
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from boxoffice.platform import deps
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, TokenUse, principal_from_claims

_bearer = HTTPBearer(auto_error=False, description="Access token from /api/v1/auth/login")
REMEMBER_SECONDS = 60.0
REMEMBER_AT_MOST = 200_000


class VerifiedTokens:
    """Access tokens verified in this process: token -> (remember until, principal)."""

    def __init__(self, limit: int = REMEMBER_AT_MOST) -> None:
        self._limit = limit
        self._tokens: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    def principal(self, runtime: Runtime, token: str) -> Principal:
        now = time.time()
        known = self._tokens.get(token)
        if known is not None and known[0] > now:
            return known[1]
        claims = runtime.keys.verify(token, use=TokenUse.ACCESS)  # raises when invalid
        principal = principal_from_claims(claims)
        self._tokens[token] = (min(now + REMEMBER_SECONDS, float(claims["exp"])), principal)
        self._tokens.move_to_end(token)
        while len(self._tokens) > self._limit:
            self._tokens.popitem(last=False)
        return principal


async def _call(function: Callable[..., Any], *args: Any) -> Any:
    result = function(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


async def _runtime(request: Request) -> Runtime:
    runtime: Runtime = await _call(deps.get_runtime, request)
    return runtime


async def _user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    runtime = await _runtime(request)
    if credentials is None or credentials.scheme.lower() != "bearer":
        # The platform's own answers for a missing or non-bearer credential.
        optional = await _call(deps.get_optional_user, runtime, credentials)
        refused: Principal = await _call(deps.get_current_user, optional)
        return refused
    tokens = runtime.extensions.get("waitroom.tokens")
    if tokens is None:
        tokens = runtime.extensions["waitroom.tokens"] = VerifiedTokens()
    principal: Principal = tokens.principal(runtime, credentials.credentials)
    return principal


async def _client_address(request: Request) -> str:
    return str(await _call(deps.client_address, request))


RuntimeDep = Annotated[Runtime, Depends(_runtime)]
CurrentUser = Annotated[Principal, Depends(_user)]
ClientAddress = Annotated[str, Depends(_client_address)]
