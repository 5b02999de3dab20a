"""FastAPI dependencies as ``Annotated`` aliases: ``UoW``, ``CurrentUser``, role guards.

All are ``async def``: FastAPI runs a plain ``def`` dependency in its threadpool, a hop
that cost more than the work of a cached read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from boxoffice.platform.errors import Forbidden, Unauthorized
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, Role
from boxoffice.platform.uow import UnitOfWork

# An id in a path: opaque, short; an unknown one is looked up and answered 404.
PathId = Annotated[str, Path(min_length=1, max_length=64)]


@dataclass(frozen=True)
class PageRequest:
    """A page of the caller's own list: the ``next_cursor`` the last page gave, and its size."""

    cursor: str | None
    limit: int


async def page_request(
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> PageRequest:
    return PageRequest(cursor, limit)


Page = Annotated[PageRequest, Depends(page_request)]

_bearer = HTTPBearer(auto_error=False, description="Access token from /api/v1/auth/login")


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_uow(runtime: RuntimeDep) -> AsyncIterator[UnitOfWork]:
    async with runtime.uow() as uow:
        yield uow


UoW = Annotated[UnitOfWork, Depends(get_uow)]


async def get_read_uow(runtime: RuntimeDep) -> AsyncIterator[UnitOfWork]:
    async with runtime.uow(read_only=True) as uow:
        yield uow


# For routes that only read: on SQLite they read a snapshot, never queued behind writers.
ReadUoW = Annotated[UnitOfWork, Depends(get_read_uow)]


async def get_optional_user(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    if credentials is None:
        return None
    if credentials.scheme.lower() != "bearer":
        raise Unauthorized("Use a Bearer access token.")
    return await runtime.principal(credentials.credentials)


OptionalUser = Annotated[Principal | None, Depends(get_optional_user)]


async def get_current_user(user: OptionalUser) -> Principal:
    if user is None:
        raise Unauthorized("Sign in and send the access token as 'Authorization: Bearer ...'.")
    return user


CurrentUser = Annotated[Principal, Depends(get_current_user)]


def require_roles(*roles: Role) -> Callable[..., Any]:
    """A dependency admitting only ``roles``; declared on the route, like the seeds' AOP."""
    allowed = ", ".join(r.value for r in roles)

    async def guard(user: CurrentUser) -> Principal:
        if not user.has_role(*roles):
            raise Forbidden(f"This needs one of these roles: {allowed}.")
        return user

    return guard


AdminUser = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
SellerUser = Annotated[Principal, Depends(require_roles(Role.SELLER, Role.ADMIN))]
StaffUser = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.SELLER, Role.ADMIN))]


async def client_address(request: Request) -> str:
    """The caller's address (uvicorn applies X-Forwarded-For only from trusted proxies)."""
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]
