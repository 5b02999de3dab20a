"""A small OIDC provider whose ID tokens can be made wrong on purpose (a real HTTP server).

``oidc-provider-mock`` plays the honest Google-like provider; this one exists for what an
honest provider never does: an ID token for another audience, signed with a key it does
not publish, with ``alg: none``, expired, or signed with a key rotated in after the client
cached the JWKS. The flow is otherwise standard: discovery, ``/authorize`` (approves at
once as ``login_as``), ``/token`` (``client_secret_basic`` or ``_post``), ``/jwks``.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class _Key:
    kid: str
    private: rsa.RSAPrivateKey

    def jwk(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return public | {"kid": self.kid, "use": "sig", "alg": "RS256"}


@dataclass
class TamperingOIDCProvider:
    """Set ``claims_override``, ``sign_with_unpublished_key`` or ``unsigned`` to misbehave."""

    client_id: str = "tamper-client"
    client_secret: str = "tamper-secret"
    base_url: str = ""  # set once the server runs
    login_as: dict[str, Any] = field(default_factory=dict)  # claims of the next user
    claims_override: dict[str, Any] = field(default_factory=dict)
    sign_with_unpublished_key: bool = False
    unsigned: bool = False
    keys: list[_Key] = field(default_factory=list)
    jwks_fetches: int = 0
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.keys.append(_Key("key-1", _rsa_key()))
        self._rogue = _Key("key-1", _rsa_key())  # same kid, a key the JWKS does not have

    def rotate(self) -> str:
        """Sign with a new key from now on (published in the JWKS next to the old one)."""
        key = _Key(f"key-{len(self.keys) + 1}", _rsa_key())
        self.keys.append(key)
        return key.kid

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
            ]
        )

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.base_url,
                "authorization_endpoint": f"{self.base_url}/authorize",
                "token_endpoint": f"{self.base_url}/token",
                "jwks_uri": f"{self.base_url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
            }
        )

    async def jwks(self, request: Request) -> Response:
        self.jwks_fetches += 1
        return JSONResponse({"keys": [k.jwk() for k in self.keys]})

    async def authorize(self, request: Request) -> Response:
        query = request.query_params
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return JSONResponse({"error": "invalid_request"}, 400)
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {
                "nonce": query.get("nonce"),
                "redirect_uri": query["redirect_uri"],
                "claims": dict(self.login_as),
            }
        back = urlencode({"code": code, "state": query.get("state", "")})
        return RedirectResponse(f"{query['redirect_uri']}?{back}", 302)

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            client_id, _, client_secret = base64.b64decode(credentials).decode().partition(":")
        if client_id != self.client_id or client_secret != self.client_secret:
            return JSONResponse({"error": "invalid_client"}, 401)
        with self.lock:
            grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            return JSONResponse({"error": "invalid_grant"}, 400)
        now = int(time.time())
        claims = {
            "iss": self.base_url,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 600,
            "nonce": grant["nonce"],
            **grant["claims"],
            **self.claims_override,
        }
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": 600,
                "id_token": self._sign(claims),
            }
        )

    def _sign(self, claims: dict[str, Any]) -> str:
        if self.unsigned:
            return jwt.encode(claims, None, algorithm="none")
        key = self._rogue if self.sign_with_unpublished_key else self.keys[-1]
        return jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": key.kid})
