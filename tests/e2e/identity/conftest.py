"""Social-login fixtures: real providers on loopback, and a browser that walks the flow.

``oidc-provider-mock`` is the Google-like provider, :class:`KakaoStub` the Kakao one and
:class:`TamperingOIDCProvider` the provider that misbehaves on purpose. They run once per
test session (per xdist worker); each test makes its own users, so none shares state.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import oidc_provider_mock
import pytest

from boxoffice.platform.config import OAuthProvider, Settings
from tests.stubs.kakao import KakaoStub, KakaoUser, serve_asgi
from tests.stubs.oidc import TamperingOIDCProvider
from tests.support.api import API

APP_URL = "http://testserver"  # the test client's base URL, used as the app's public URL


def callback_url(provider: str) -> str:
    return f"{APP_URL}{API}/auth/oauth/{provider}/callback"


@pytest.fixture(scope="session")
def google_url() -> Iterator[str]:
    with oidc_provider_mock.run_server_in_thread(port=0, require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="session")
def kakao_stub() -> KakaoStub:
    return KakaoStub(redirect_uris={callback_url("kakao")})


@pytest.fixture(scope="session")
def kakao_url(kakao_stub: KakaoStub) -> Iterator[str]:
    with serve_asgi(kakao_stub.app) as url:
        yield url


@pytest.fixture(scope="session")
def _tamper_server() -> Iterator[TamperingOIDCProvider]:
    provider = TamperingOIDCProvider()
    with serve_asgi(provider.app) as url:
        provider.base_url = url
        yield provider


@pytest.fixture
def tamper(_tamper_server: TamperingOIDCProvider) -> TamperingOIDCProvider:
    """The misbehaving provider, honest again at the start of every test."""
    _tamper_server.claims_override = {}
    _tamper_server.sign_with_unpublished_key = False
    _tamper_server.unsigned = False
    _tamper_server.login_as = {}
    return _tamper_server


@pytest.fixture
def oauth_providers(
    google_url: str, kakao_url: str, kakao_stub: KakaoStub, _tamper_server: TamperingOIDCProvider
) -> dict[str, OAuthProvider]:
    return {
        "google": OAuthProvider(
            kind="oidc",
            client_id="boxoffice-google",
            client_secret="google-secret",  # type: ignore[arg-type]
            server_metadata_url=f"{google_url}/.well-known/openid-configuration",
        ),
        "kakao": OAuthProvider(
            kind="kakao",
            client_id=kakao_stub.client_id,
            client_secret=kakao_stub.client_secret,  # type: ignore[arg-type]
            authorize_url=f"{kakao_url}/oauth/authorize",
            token_url=f"{kakao_url}/oauth/token",
            userinfo_url=f"{kakao_url}/v2/user/me",
        ),
        "tamper": OAuthProvider(
            kind="oidc",
            client_id=_tamper_server.client_id,
            client_secret=_tamper_server.client_secret,  # type: ignore[arg-type]
            server_metadata_url=f"{_tamper_server.base_url}/.well-known/openid-configuration",
        ),
    }


@pytest.fixture
def settings(
    make_settings: Callable[..., Settings], oauth_providers: dict[str, OAuthProvider]
) -> Settings:
    return make_settings(public_url=APP_URL, identity={"oauth": oauth_providers})


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    """The user's browser towards the providers (real HTTP; redirects followed by hand)."""
    async with httpx.AsyncClient(timeout=10) as http:
        yield http


async def google_user(google_url: str, **claims: Any) -> str:
    """A user at the Google-like provider; returns its subject."""
    sub = f"g-{uuid.uuid4().hex[:12]}"
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.put(f"{google_url}/users/{sub}", json=claims)
        assert response.status_code == 204, response.text
    return sub


def kakao_user(stub: KakaoStub, **fields: Any) -> KakaoUser:
    return stub.add_user(KakaoUser(id=uuid.uuid4().int % 10**10, **fields))


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
