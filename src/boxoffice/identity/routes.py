"""identity's HTTP routes: parse, call one service function, shape the response."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from boxoffice.identity import service
from boxoffice.identity.schemas import (
    Accepted,
    AccountDeletion,
    AdminUserPage,
    AdminUserRead,
    AdminUserUpdate,
    EmailChange,
    EmailVerify,
    Login,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    ProfileUpdate,
    RefreshRequest,
    SellerApplication,
    SellerProfileRead,
    SignUp,
    TokenPair,
    UserCreated,
    UserRead,
    UserSearch,
)
from boxoffice.platform.deps import AdminUser, ClientAddress, CurrentUser, ReadUoW, RuntimeDep, UoW
from boxoffice.platform.openapi import ADMIN_RESPONSES, problems
from boxoffice.platform.pages import page_answer

router = APIRouter(tags=["identity"])
wellknown = APIRouter(tags=["identity"])

_AUTH_ERRORS = problems(401)
_LINKS_AN_HOUR = "three links an hour at most"


@router.post(
    "/auth/signup",
    status_code=status.HTTP_201_CREATED,
    response_model=UserCreated,
    responses=problems({409: "e-mail already registered"}),
)
async def signup(body: SignUp, uow: UoW, runtime: RuntimeDep, client: ClientAddress) -> Any:
    return await service.sign_up(uow, runtime, body, client)


@router.post(
    "/auth/login", response_model=TokenPair, responses=problems({401: "wrong credentials"}, 429)
)
async def login(body: Login, uow: UoW, runtime: RuntimeDep, client: ClientAddress) -> Any:
    return await service.log_in(uow, runtime, body.email, body.password, client)


@router.post("/auth/refresh", response_model=TokenPair, responses=_AUTH_ERRORS)
async def refresh(body: RefreshRequest, uow: UoW, runtime: RuntimeDep) -> Any:
    return await service.refresh(uow, runtime, body.refresh_token)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=_AUTH_ERRORS)
async def logout(
    body: RefreshRequest, uow: UoW, runtime: RuntimeDep, user: CurrentUser
) -> Response:
    await service.log_out(uow, runtime, user, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/auth/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=problems({429: "too many requests from this address"}),
)
async def request_password_reset(
    body: PasswordResetRequest, uow: UoW, runtime: RuntimeDep, client: ClientAddress
) -> Any:
    """Public. The same answer whether or not the address has an account; if it has, a
    single-use link valid for 30 minutes is e-mailed to it."""
    await service.request_reset(uow, runtime, body.email, client)
    return Accepted(
        detail="If an account uses this address, a link to reset its password is on its way."
    )


@router.post(
    "/auth/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems({422: "reset_token_invalid (unknown, expired or used), validation_error"}),
)
async def confirm_password_reset(
    body: PasswordResetConfirm, uow: UoW, runtime: RuntimeDep
) -> Response:
    """Public. Sets the new password and ends every login of the account."""
    await service.reset_password(uow, runtime, body.token, body.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/auth/verify-email",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(
        {
            422: "verification_token_invalid (unknown, expired, used, or for an"
            " address the account no longer has), validation_error"
        }
    ),
)
async def verify_email(body: EmailVerify, uow: UoW) -> Response:
    """Public (the link may be opened on another device). Marks the link's address verified."""
    await service.verify_email(uow, body.token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/users/me/email-verification",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=problems(401, {429: _LINKS_AN_HOUR}),
)
async def request_email_verification(uow: UoW, runtime: RuntimeDep, user: CurrentUser) -> Any:
    """A new verification link to the account's e-mail (nothing when already verified)."""
    sent = await service.request_email_verification(uow, runtime, user)
    return Accepted(
        detail="A verification link is on its way." if sent else "This e-mail is verified."
    )


@router.post(
    "/users/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, {403: "wrong_password", 422: "validation_error (the password policy)"}),
)
async def change_my_password(
    body: PasswordChange, uow: UoW, runtime: RuntimeDep, user: CurrentUser
) -> Response:
    """A new password: every other login of the account ends, the owner is e-mailed."""
    await service.change_password(uow, runtime, user, body.current_password, body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/users/me/email",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=problems(
        401,
        {
            403: "wrong_password",
            409: "conflict (another account has this e-mail)",
            422: "validation_error",
            429: _LINKS_AN_HOUR,
        },
    ),
)
async def change_my_email(
    body: EmailChange, uow: UoW, runtime: RuntimeDep, user: CurrentUser
) -> Any:
    """A link to the new address; the account moves to it when the link is opened
    (``POST /auth/verify-email``), and the old address is told."""
    await service.request_email_change(uow, runtime, user, body.email, body.password)
    return Accepted(detail="A link to confirm the new address is on its way to it.")


@router.delete(
    "/users/me",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(
        401,
        {
            403: "wrong_password",
            409: "account_not_deletable (reason: has_duties, upcoming_tickets)",
        },
    ),
)
async def delete_me(
    body: AccountDeletion, uow: UoW, runtime: RuntimeDep, user: CurrentUser
) -> Response:
    """Erase the account's personal data and end every login; orders and tickets are kept
    for accounting, under no name. ``GET /users/me/export`` first, to keep a copy."""
    await service.delete_account(uow, runtime, user, body.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users/me", response_model=UserRead, responses=_AUTH_ERRORS)
async def get_me(uow: ReadUoW, user: CurrentUser) -> Any:
    return await service.get_user(uow, user.id)


@router.patch("/users/me", response_model=UserRead, responses=_AUTH_ERRORS)
async def update_me(body: ProfileUpdate, uow: UoW, user: CurrentUser) -> Any:
    return await service.update_profile(uow, user, body)


@router.post(
    "/users/me/seller",
    status_code=status.HTTP_201_CREATED,
    response_model=SellerProfileRead,
    responses=_AUTH_ERRORS,
)
async def apply_as_seller(
    body: SellerApplication, uow: UoW, runtime: RuntimeDep, user: CurrentUser
) -> Any:
    return await service.apply_as_seller(uow, runtime, user, body)


@router.get("/admin/users", response_model=AdminUserPage, responses=ADMIN_RESPONSES)
async def admin_search_users(
    uow: ReadUoW, admin: AdminUser, query: Annotated[UserSearch, Query()]
) -> Any:
    """Users whose e-mail or name contains ``q``, newest first, keyset-paged (``cursor``)."""
    return page_answer(await service.search_users(uow, query))


@router.patch(
    "/admin/users/{user_id}",
    response_model=AdminUserRead,
    responses=ADMIN_RESPONSES | problems({404: "no user"}),
)
async def admin_update_user(
    user_id: str, body: AdminUserUpdate, uow: UoW, runtime: RuntimeDep, admin: AdminUser
) -> Any:
    user, profile = await service.admin_update_user(uow, runtime, admin, user_id, body)
    read = AdminUserRead.model_validate(user)
    read.seller_status = profile.status if profile else None
    return read


@wellknown.get("/.well-known/jwks.json")
async def jwks(runtime: RuntimeDep, response: Response) -> dict[str, Any]:
    """Public keys that verify access and admission tokens."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return runtime.keys.jwks()
