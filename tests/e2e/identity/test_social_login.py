"""Social login end to end: the app, a browser, and real providers on loopback.

The browser asks the app to start, follows the 302 to the provider, signs in there, and
comes back to the app's callback with ``code`` and ``state``, exactly as in production.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import SecretStr
from sqlalchemy import func, select

from boxoffice.app import create_app
from boxoffice.identity.models import RefreshToken, SocialAccount, User
from boxoffice.platform.config import Settings
from boxoffice.platform.kv import RedisStore
from boxoffice.platform.runtime import Runtime
from tests.conftest import BACKENDS
from tests.e2e.identity.conftest import APP_URL, google_user, kakao_user, query_of
from tests.stubs.kakao import KakaoStub
from tests.stubs.oidc import TamperingOIDCProvider
from tests.support.api import API, assert_problem, log_in, sign_up, unique_email

# oidc-provider-mock (the Google stand-in) calls Authlib APIs that Authlib now deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")


def _with_identity(settings: Settings, **changes: Any) -> Settings:
    """The test's settings with some of identity's changed (social login's providers...)."""
    return settings.model_copy(update={"identity": settings.identity.model_copy(update=changes)})


async def authorize(client: httpx.AsyncClient, provider: str) -> str:
    response = await client.get(f"{API}/auth/oauth/{provider}/authorize")
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def consent(browser: httpx.AsyncClient, authorize_url: str, form: dict[str, str]) -> str:
    """Answer the provider's sign-in form; returns where the provider sends the browser."""
    response = await browser.post(authorize_url, data=form)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(f"{APP_URL}{API}/auth/oauth/"), location
    return location


async def google_sign_in(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, sub: str
) -> httpx.Response:
    back = await consent(browser, await authorize(client, "google"), {"sub": sub})
    return await client.get(back)


async def kakao_sign_in(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, user_id: int
) -> httpx.Response:
    back = await consent(browser, await authorize(client, "kakao"), {"user": str(user_id)})
    return await client.get(back)


async def tamper_sign_in(client: httpx.AsyncClient, browser: httpx.AsyncClient) -> httpx.Response:
    answer = await browser.get(await authorize(client, "tamper"))
    assert answer.status_code == 302, answer.text
    return await client.get(answer.headers["location"])


async def me(client: httpx.AsyncClient, pair: dict[str, str]) -> dict[str, str]:
    response = await client.get(
        f"{API}/users/me", headers={"Authorization": f"Bearer {pair['access_token']}"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


# --- Google-like OIDC (oidc-provider-mock) ----------------------------------------------


async def test_authorize_redirects_with_state_nonce_and_pkce(
    client: httpx.AsyncClient, google_url: str
) -> None:
    response = await client.get(f"{API}/auth/oauth/google/authorize")
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(f"{google_url}/oauth2/authorize?")
    query = query_of(location)
    assert query["client_id"] == "boxoffice-google"
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == f"{APP_URL}{API}/auth/oauth/google/callback"
    assert set(query["scope"].split()) == {"openid", "email", "profile"}
    assert len(query["state"]) >= 32
    assert len(query["nonce"]) >= 32
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert response.headers["cache-control"] == "no-store"
    assert "httponly" in response.headers["set-cookie"].lower()
    again = query_of(await authorize(client, "google"))
    assert again["state"] != query["state"]
    assert again["nonce"] != query["nonce"]


async def test_first_google_login_creates_a_customer(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, google_url: str
) -> None:
    email = unique_email("google")
    sub = await google_user(google_url, email=email, email_verified=True, name="Kim Google")

    response = await google_sign_in(client, browser, sub)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    pair = response.json()
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 100 * 60
    profile = await me(client, pair)
    assert profile["email"] == email
    assert profile["name"] == "Kim Google"
    assert profile["role"] == "customer"
    refreshed = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text


async def test_second_google_login_is_the_same_user(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, google_url: str
) -> None:
    sub = await google_user(google_url, email=unique_email("again"), email_verified=True)
    first = await me(client, (await google_sign_in(client, browser, sub)).json())
    # the provider's e-mail changes; the account follows the subject, not the address
    await google_user_update(google_url, sub, email=unique_email("moved"), email_verified=True)
    second = await me(client, (await google_sign_in(client, browser, sub)).json())
    assert second["id"] == first["id"]
    assert second["email"] == first["email"]


async def google_user_update(google_url: str, sub: str, **claims: object) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        assert (await http.put(f"{google_url}/users/{sub}", json=claims)).status_code == 204


async def test_verified_email_links_to_the_existing_password_account(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, google_url: str
) -> None:
    email = unique_email("linked")
    created = await sign_up(client, email)
    assert created.status_code == 201
    sub = await google_user(google_url, email=email.upper(), email_verified=True)

    social = await me(client, (await google_sign_in(client, browser, sub)).json())

    assert social["id"] == created.json()["id"]
    assert (await log_in(client, email)).status_code == 200  # the password still works
    again = await me(client, (await google_sign_in(client, browser, sub)).json())
    assert again["id"] == created.json()["id"]


async def test_unverified_email_of_an_existing_account_is_refused(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, google_url: str
) -> None:
    email = unique_email("victim")
    created = await sign_up(client, email)
    assert created.status_code == 201
    sub = await google_user(google_url, email=email, email_verified=False)

    assert_problem(await google_sign_in(client, browser, sub), 403, "forbidden")
    # refused, and not linked on the side: the next attempt is refused the same way
    assert_problem(await google_sign_in(client, browser, sub), 403, "forbidden")
    assert (await log_in(client, email)).status_code == 200


async def test_unverified_email_of_nobody_creates_an_unverified_user(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, google_url: str
) -> None:
    email = unique_email("fresh")
    sub = await google_user(google_url, email=email, email_verified=False)
    profile = await me(client, (await google_sign_in(client, browser, sub)).json())
    assert profile["email"] == email


async def test_a_spent_state_cannot_be_replayed(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, google_url: str
) -> None:
    sub = await google_user(google_url, email=unique_email("replay"), email_verified=True)
    back = await consent(browser, await authorize(client, "google"), {"sub": sub})
    assert (await client.get(back)).status_code == 200

    body = assert_problem(await client.get(back), 400, "bad_request")
    assert "already used" in body["detail"]


async def test_a_forged_or_missing_state_is_refused(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, google_url: str
) -> None:
    sub = await google_user(google_url, email=unique_email("forged"), email_verified=True)
    back = await consent(browser, await authorize(client, "google"), {"sub": sub})

    forged = with_query(back, state=uuid.uuid4().hex * 2)
    assert_problem(await client.get(forged), 400, "bad_request")
    missing = f"{APP_URL}{API}/auth/oauth/google/callback?code={query_of(back)['code']}"
    assert_problem(await client.get(missing), 400, "bad_request")
    assert (await client.get(back)).status_code == 200  # the genuine one still works


async def test_a_callback_from_another_browser_is_refused(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, google_url: str
) -> None:
    """Login CSRF: the attacker's own callback URL, opened in the victim's browser."""
    sub = await google_user(google_url, email=unique_email("attacker"), email_verified=True)
    back = await consent(browser, await authorize(client, "google"), {"sub": sub})
    client.cookies.clear()  # the victim's browser has not the attacker's binding cookie

    body = assert_problem(await client.get(back), 400, "bad_request")
    assert "another browser" in body["detail"]


async def test_a_state_started_for_another_provider_is_refused(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, google_url: str
) -> None:
    sub = await google_user(google_url, email=unique_email("mixup"), email_verified=True)
    back = await consent(browser, await authorize(client, "google"), {"sub": sub})
    mixed = back.replace("/oauth/google/callback", "/oauth/kakao/callback")
    assert_problem(await client.get(mixed), 400, "bad_request")


async def test_nonce_mismatch_is_refused(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, google_url: str
) -> None:
    """An ID token minted for another authorization request (its nonce) is not accepted."""
    sub = await google_user(google_url, email=unique_email("nonce"), email_verified=True)
    start = await authorize(client, "google")
    swapped = with_query(start, nonce="an-attacker-chosen-nonce-0123456789abcdef")

    body = assert_problem(
        await client.get(await consent(browser, swapped, {"sub": sub})), 401, "invalid_token"
    )
    assert "nonce" in body["detail"]


async def test_user_denial_at_google_is_a_clear_400(
    client: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    back = await consent(browser, await authorize(client, "google"), {"action": "deny"})
    assert query_of(back)["error"] == "access_denied"
    body = assert_problem(await client.get(back), 400, "bad_request")
    assert "cancelled" in body["detail"]
    assert_problem(await client.get(with_query(back, error="", code="x")), 400, "bad_request")


async def test_unknown_provider_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/auth/oauth/myspace/authorize"), 404, "not_found")
    callback = f"{API}/auth/oauth/myspace/callback?code=a&state=b"
    assert_problem(await client.get(callback), 404, "not_found")


async def test_frontend_redirect_carries_the_tokens_in_the_fragment(
    make_settings: object, settings: Settings, browser: httpx.AsyncClient, google_url: str
) -> None:
    frontend = "https://app.example.com/signed-in"
    app = create_app(
        _with_identity(settings, oauth_frontend_redirect=frontend),
        background=False,
    )
    sub = await google_user(google_url, email=unique_email("spa"), email_verified=True)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=APP_URL) as client:
            response = await google_sign_in(client, browser, sub)
            assert response.status_code == 302, response.text
            location = response.headers["location"]
            assert location.startswith(f"{frontend}#")
            assert "?" not in location
            fragment = {k: v[0] for k, v in parse_qs(urlsplit(location).fragment).items()}
            assert fragment["token_type"] == "bearer"
            assert (await me(client, fragment))["email"].startswith("spa-")


async def test_unreachable_provider_is_a_502(make_settings: object, settings: Settings) -> None:
    broken = settings.identity.oauth["google"].model_copy(
        update={"server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
    )
    app = create_app(_with_identity(settings, oauth={"google": broken}), background=False)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=APP_URL) as client:
            response = await client.get(f"{API}/auth/oauth/google/authorize")
            assert_problem(response, 502, "oauth_provider_error")


# --- ID token verification (the tampering provider) -------------------------------------


async def test_tampering_provider_honest_run_signs_in(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tamper: TamperingOIDCProvider
) -> None:
    tamper.login_as = {"sub": uuid.uuid4().hex, "email": unique_email("t"), "email_verified": True}
    response = await tamper_sign_in(client, browser)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ({"claims_override": {"aud": "someone-else"}}, "another client"),
        ({"claims_override": {"aud": ["tamper-client", "other"], "azp": "other"}}, "another"),
        ({"claims_override": {"iss": "https://evil.example"}}, "issuer"),
        ({"claims_override": {"exp": 1_000_000_000, "iat": 999_999_000}}, "expired"),
        ({"sign_with_unpublished_key": True}, "signature"),
        ({"unsigned": True}, "algorithm"),
    ],
    ids=["wrong-aud", "wrong-azp", "wrong-iss", "expired", "bad-signature", "alg-none"],
)
async def test_a_bad_id_token_is_refused(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    tamper: TamperingOIDCProvider,
    fault: dict[str, object],
    words: str,
) -> None:
    email = unique_email("tampered")
    tamper.login_as = {"sub": uuid.uuid4().hex, "email": email, "email_verified": True}
    for name, value in fault.items():
        setattr(tamper, name, value)

    body = assert_problem(await tamper_sign_in(client, browser), 401, "invalid_token")
    assert words in body["detail"]
    assert (await log_in(client, email)).status_code == 401  # no account was made


async def test_a_rotated_signing_key_is_fetched_once(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tamper: TamperingOIDCProvider
) -> None:
    tamper.login_as = {"sub": uuid.uuid4().hex, "email": unique_email("r"), "email_verified": True}
    assert (await tamper_sign_in(client, browser)).status_code == 200
    fetches = tamper.jwks_fetches
    assert (await tamper_sign_in(client, browser)).status_code == 200
    assert tamper.jwks_fetches == fetches  # cached

    tamper.rotate()
    assert (await tamper_sign_in(client, browser)).status_code == 200
    assert tamper.jwks_fetches == fetches + 1


# --- Kakao (the local stand-in) ---------------------------------------------------------


async def test_kakao_login_creates_a_user_with_pkce_and_post_auth(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, kakao_stub: KakaoStub, kakao_url: str
) -> None:
    user = kakao_user(kakao_stub, email=unique_email("kakao"), nickname="라이언")
    start = await authorize(client, "kakao")
    assert start.startswith(f"{kakao_url}/oauth/authorize?")
    query = query_of(start)
    assert "nonce" not in query
    assert query["code_challenge_method"] == "S256"
    assert query["scope"] == "account_email,profile_nickname"

    response = await client.get(await consent(browser, start, {"user": str(user.id)}))

    assert response.status_code == 200, response.text
    profile = await me(client, response.json())
    assert profile["email"] == user.email
    assert profile["name"] == "라이언"
    sent = kakao_stub.token_requests[-1]
    assert sent["client_secret"] == kakao_stub.client_secret  # client_secret_post
    assert sent["code_verifier"]  # and the stand-in checked it against the challenge
    again = await me(client, (await kakao_sign_in(client, browser, user.id)).json())
    assert again["id"] == profile["id"]


async def test_kakao_user_without_email_gets_an_account(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, kakao_stub: KakaoStub
) -> None:
    user = kakao_user(kakao_stub, email=None, nickname="무지")
    profile = await me(client, (await kakao_sign_in(client, browser, user.id)).json())
    assert profile["email"] == f"kakao-{user.id}@users.invalid"
    assert profile["name"] == "무지"


async def test_kakao_verified_email_links_and_unverified_is_refused(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, kakao_stub: KakaoStub
) -> None:
    email = unique_email("both")
    created = (await sign_up(client, email)).json()
    stranger = kakao_user(kakao_stub, email=email, is_email_verified=False)
    owner = kakao_user(kakao_stub, email=email, is_email_verified=True)

    assert_problem(await kakao_sign_in(client, browser, stranger.id), 403, "forbidden")
    linked = await me(client, (await kakao_sign_in(client, browser, owner.id)).json())
    assert linked["id"] == created["id"]
    assert_problem(await kakao_sign_in(client, browser, stranger.id), 403, "forbidden")


async def test_kakao_denial_is_a_clear_400(
    client: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    back = await consent(browser, await authorize(client, "kakao"), {"action": "deny"})
    assert_problem(await client.get(back), 400, "bad_request")


async def test_kakao_token_error_is_a_502(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, kakao_stub: KakaoStub
) -> None:
    """A code Kakao does not know (KOE320): the provider refused, not our user."""
    user = kakao_user(kakao_stub, email=unique_email("koe"))
    back = await consent(browser, await authorize(client, "kakao"), {"user": str(user.id)})

    body = assert_problem(
        await client.get(with_query(back, code="not-a-code")), 502, "oauth_provider_error"
    )
    assert body["provider_error"] == "invalid_grant"
    assert_problem(await client.get(back), 400, "bad_request")  # the state went with it


async def test_kakao_wrong_client_secret_is_a_502(
    settings: Settings, browser: httpx.AsyncClient, kakao_stub: KakaoStub
) -> None:
    kakao = settings.identity.oauth["kakao"].model_copy(
        update={"client_secret": SecretStr("wrong")}
    )
    app = create_app(_with_identity(settings, oauth={"kakao": kakao}), background=False)
    user = kakao_user(kakao_stub, email=unique_email("secret"))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=APP_URL) as client:
            body = assert_problem(
                await kakao_sign_in(client, browser, user.id), 502, "oauth_provider_error"
            )
            assert body["provider_error"] == "invalid_client"


# --- several API replicas share the state through Redis ---------------------------------


@pytest.mark.services
@pytest.mark.parametrize("use_redis", [True])
async def test_state_is_shared_by_replicas_and_spent_once(
    settings: Settings, browser: httpx.AsyncClient, google_url: str
) -> None:
    sub = await google_user(google_url, email=unique_email("replica"), email_verified=True)
    first, second = (create_app(settings, background=False) for _ in range(2))
    async with LifespanManager(first) as one, LifespanManager(second) as two:
        cookies = httpx.Cookies()
        clients = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=m.app), base_url=APP_URL, cookies=cookies
            )
            for m in (one, two)
        ]
        async with clients[0] as replica_a, clients[1] as replica_b:
            back = await consent(browser, await authorize(replica_a, "google"), {"sub": sub})
            replica_b.cookies = replica_a.cookies  # one browser, a load balancer in front
            response = await replica_b.get(back)
            assert response.status_code == 200, response.text
            assert_problem(await replica_a.get(back), 400, "bad_request")


@pytest.mark.parametrize("use_redis", [False, pytest.param(True, marks=pytest.mark.services)])
async def test_concurrent_callbacks_with_one_state_sign_in_once(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    google_url: str,
    runtime: Runtime,
    use_redis: bool,
) -> None:
    email = unique_email("race")
    sub = await google_user(google_url, email=email, email_verified=True)
    back = await consent(browser, await authorize(client, "google"), {"sub": sub})

    responses = await asyncio.gather(*(client.get(back) for _ in range(8)))

    assert sorted(r.status_code for r in responses) == [200] + [400] * 7
    async with runtime.uow() as uow:
        users = (await uow.session.execute(select(User).where(User.email == email))).all()
        tokens = (
            await uow.session.execute(
                select(func.count())
                .select_from(RefreshToken)
                .join(User, User.id == RefreshToken.user_id)
                .where(User.email == email)
            )
        ).scalar_one()
    assert len(users) == 1
    assert tokens == 1


@pytest.mark.services
@pytest.mark.parametrize("use_redis", [True])
async def test_state_lives_ten_minutes_in_redis(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await authorize(client, "google")
    assert isinstance(runtime.kv, RedisStore)
    keys = [
        k async for k in runtime.kv.client.scan_iter(f"{runtime.kv.prefix}:identity:oauth-state:*")
    ]
    assert len(keys) == 1
    assert 590_000 < await runtime.kv.client.pttl(keys[0]) <= 600_000


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_first_sign_in_racing_itself_makes_one_account(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    google_url: str,
    runtime: Runtime,
    backend: str,
) -> None:
    """Several tabs finish the first Google sign-in of one person at the same moment."""
    email = unique_email("first")
    sub = await google_user(google_url, email=email, email_verified=True)
    callbacks = [
        await consent(browser, await authorize(client, "google"), {"sub": sub}) for _ in range(6)
    ]

    responses = await asyncio.gather(*(client.get(url) for url in callbacks))

    # the losers of the race retry, find the winner's account and sign in as well
    assert [r.status_code for r in responses] == [200] * 6, [r.text for r in responses]
    async with runtime.uow() as uow:
        users = (await uow.session.execute(select(User.id).where(User.email == email))).all()
        accounts = (
            await uow.session.execute(select(SocialAccount.id).where(SocialAccount.subject == sub))
        ).all()
    assert len(users) == 1
    assert len(accounts) == 1
    signed_in = {(await me(client, r.json()))["id"] for r in responses}
    assert signed_in == {users[0].id}


async def test_starting_sign_ins_is_rate_limited_per_address(client: httpx.AsyncClient) -> None:
    """Every start keeps state for ten minutes, so one address cannot start without end."""
    for _ in range(30):
        await authorize(client, "kakao")
    response = await client.get(f"{API}/auth/oauth/kakao/authorize")
    assert_problem(response, 429, "rate_limited")
    assert int(response.headers["retry-after"]) >= 1
