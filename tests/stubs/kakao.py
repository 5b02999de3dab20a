"""A local Kakao Login stand-in: a real HTTP server on 127.0.0.1, as ``reference/payments.md``.

- ``GET /oauth/authorize`` shows a sign-in form; ``POST`` it (the same query string) with
  ``user=<id>`` to approve, or ``action=deny`` to refuse: 302 back to ``redirect_uri`` with
  ``code`` and ``state``, or ``error=access_denied``.
- ``POST /oauth/token`` (form, ``client_secret_post``): checks client id and secret,
  ``redirect_uri``, the one-time ``code`` and PKCE S256; errors are Kakao's shape,
  400 ``{"error": "invalid_grant", "error_code": "KOE320"}``.
- ``GET /v2/user/me`` with ``Authorization: Bearer``: ``{id, kakao_account, properties}``,
  which is not OIDC.

Run it by hand with ``python -m tests.stubs.kakao`` (prints its base URL).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route


@contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the stub server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()


@dataclass
class KakaoUser:
    id: int
    email: str | None = None
    is_email_verified: bool = True
    nickname: str = "카카오 사용자"


@dataclass
class _Grant:
    user_id: int
    client_id: str
    redirect_uri: str
    code_challenge: str | None


@dataclass
class KakaoStub:
    """The stand-in's state; ``app`` is its Starlette application."""

    client_id: str = "kakao-rest-api-key"
    client_secret: str = "kakao-client-secret"
    redirect_uris: set[str] = field(default_factory=set)
    users: dict[int, KakaoUser] = field(default_factory=dict)
    codes: dict[str, _Grant] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_user(self, user: KakaoUser) -> KakaoUser:
        self.users[user.id] = user
        return user

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/oauth/authorize", self.authorize, methods=["GET", "POST"]),
                Route("/oauth/token", self.token, methods=["POST"]),
                Route("/v2/user/me", self.me, methods=["GET", "POST"]),
            ]
        )

    async def authorize(self, request: Request) -> Response:
        query = request.query_params
        if query.get("client_id") != self.client_id:
            return _kakao_error(400, "invalid_client", "KOE101", "wrong client_id")
        redirect_uri = query.get("redirect_uri", "")
        if redirect_uri not in self.redirect_uris:
            return _kakao_error(400, "invalid_request", "KOE006", "redirect_uri not registered")
        if query.get("response_type") != "code":
            return _kakao_error(400, "unsupported_response_type", "KOE205", "response_type")
        if request.method == "GET":
            options = "".join(
                f'<button name="user" value="{u.id}">{html.escape(u.nickname)}</button>'
                for u in self.users.values()
            )
            return HTMLResponse(
                f'<form method="post">{options}<button name="action" value="deny">취소</button>'
                "</form>"
            )
        form = await request.form()
        state = query.get("state")
        back: dict[str, str] = {"state": state} if state else {}
        if form.get("action") == "deny":
            back |= {"error": "access_denied", "error_description": "User denied access"}
            return RedirectResponse(f"{redirect_uri}?{urlencode(back)}", 302)
        user_id = int(str(form.get("user", "0")))
        if user_id not in self.users:
            return _kakao_error(400, "invalid_request", "KOE999", "unknown user")
        challenge = query.get("code_challenge")
        if challenge and query.get("code_challenge_method") != "S256":
            return _kakao_error(400, "invalid_request", "KOE900", "only S256 is supported")
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = _Grant(user_id, self.client_id, redirect_uri, challenge)
        back["code"] = code
        return RedirectResponse(f"{redirect_uri}?{urlencode(back)}", 302)

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        self.token_requests.append(form)
        if form.get("grant_type") != "authorization_code":
            return _kakao_error(400, "unsupported_grant_type", "KOE001", "grant_type")
        if form.get("client_id") != self.client_id or not hmac.compare_digest(
            form.get("client_secret", ""), self.client_secret
        ):
            return _kakao_error(401, "invalid_client", "KOE010", "Bad client credentials")
        with self.lock:  # one-time codes: the first exchange spends it
            grant = self.codes.pop(form.get("code", ""), None)
        if grant is None:
            return _kakao_error(400, "invalid_grant", "KOE320", "authorization code not found")
        if form.get("redirect_uri") != grant.redirect_uri:
            return _kakao_error(400, "invalid_grant", "KOE303", "Redirect URI mismatch")
        if grant.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if not hmac.compare_digest(computed, grant.code_challenge):
                return _kakao_error(400, "invalid_grant", "KOE422", "PKCE verification failed")
        access_token = secrets.token_urlsafe(32)
        self.tokens[access_token] = grant.user_id
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "bearer",
                "refresh_token": secrets.token_urlsafe(32),
                "expires_in": 21599,
                "refresh_token_expires_in": 5183999,
                "scope": "account_email profile_nickname",
            }
        )

    async def me(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        user_id = self.tokens.get(token) if scheme.lower() == "bearer" else None
        if user_id is None:
            return JSONResponse({"msg": "this access token does not exist", "code": -401}, 401)
        user = self.users[user_id]
        account: dict[str, Any] = {
            "profile_nickname_needs_agreement": False,
            "profile": {"nickname": user.nickname, "profile_image_url": None},
        }
        if user.email is not None:
            account |= {
                "has_email": True,
                "email_needs_agreement": False,
                "is_email_valid": True,
                "is_email_verified": user.is_email_verified,
                "email": user.email,
            }
        return JSONResponse(
            {
                "id": user.id,
                "connected_at": "2026-11-22T00:00:00Z",
                "properties": {"nickname": user.nickname},
                "kakao_account": account,
            }
        )


def _kakao_error(status: int, error: str, error_code: str, description: str) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description, "error_code": error_code}, status
    )


if __name__ == "__main__":
    stub = KakaoStub(redirect_uris={"http://127.0.0.1:8000/api/v1/auth/oauth/kakao/callback"})
    stub.add_user(KakaoUser(id=4242, email="kakao-fan@example.com", nickname="카카오 팬"))
    with serve_asgi(stub.app) as base_url:
        print(base_url, flush=True)
        threading.Event().wait()
