"""Security cases of the identity issue, one test each: forged tokens, roles, throttling, input."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import KeyRing, Role, TokenUse, thumbprint
from tests.support.api import API, assert_problem, customer, log_in, sign_up, unique_email


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def _me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {token}"})


async def test_alg_none_token_is_refused(client: httpx.AsyncClient) -> None:
    fan = await customer(client)
    _, payload, _ = fan.access_token.split(".")
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}."
    assert_problem(await _me(client, forged), 401, "invalid_token")


async def test_token_signed_by_another_key_under_our_kid_is_refused(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    fan = await customer(client)
    claims = jwt.decode(fan.access_token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(fan.access_token)["kid"]
    forged = jwt.encode(
        claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": kid}
    )
    assert_problem(await _me(client, forged), 401, "invalid_token")


async def test_tampered_payload_is_refused(client: httpx.AsyncClient) -> None:
    fan = await customer(client)
    header, payload, signature = fan.access_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    tampered = f"{header}.{_b64(claims)}.{signature}"
    assert_problem(await _me(client, tampered), 401, "invalid_token")


async def test_unknown_kid_is_refused(client: httpx.AsyncClient) -> None:
    fan = await customer(client)
    claims = jwt.decode(fan.access_token, options={"verify_signature": False})
    other = Ed25519PrivateKey.generate()
    forged = jwt.encode(
        claims, other, algorithm="EdDSA", headers={"kid": thumbprint(other.public_key())}
    )
    assert_problem(await _me(client, forged), 401, "invalid_token")


async def test_hmac_token_keyed_with_the_public_key_is_refused(client: httpx.AsyncClient) -> None:
    """The classic algorithm-confusion attack: HS256 signed with the published key bytes."""
    fan = await customer(client)
    jwks = (await client.get("/.well-known/jwks.json")).json()
    claims = jwt.decode(fan.access_token, options={"verify_signature": False})
    key = jwks["keys"][0]
    material = (key.get("x") or key["n"]).encode()  # the published key bytes (OKP or RSA)
    forged = jwt.encode(
        claims, material.ljust(32, b"0"), algorithm="HS256", headers={"kid": key["kid"]}
    )
    assert_problem(await _me(client, forged), 401, "invalid_token")


async def test_expired_token_says_so(client: httpx.AsyncClient, runtime: Runtime) -> None:
    fan = await customer(client)
    stale = runtime.keys.sign(
        {"sub": fan.id, "email": fan.email, "role": "customer"},
        use=TokenUse.ACCESS,
        now=datetime.now(UTC) - timedelta(hours=3),
        ttl=timedelta(minutes=100),
    )
    assert_problem(await _me(client, stale), 401, "token_expired")


async def test_admission_token_is_not_an_access_token(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    fan = await customer(client)
    admission = runtime.keys.sign(
        {"sub": fan.id, "email": fan.email, "role": "customer", "show_id": "s"},
        use=TokenUse.ADMISSION,
        now=datetime.now(UTC),
        ttl=timedelta(minutes=5),
    )
    assert_problem(await _me(client, admission), 401, "invalid_token")


async def test_missing_and_malformed_authorization(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/users/me"), 401, "unauthorized")
    assert_problem(await _me(client, "not.a.jwt"), 401, "invalid_token")
    basic = await client.get(f"{API}/users/me", headers={"Authorization": "Basic abc"})
    assert basic.status_code == 401


async def test_jwks_lets_another_process_verify_without_the_private_key(
    client: httpx.AsyncClient,
) -> None:
    fan = await customer(client)
    jwks = (await client.get("/.well-known/jwks.json")).json()
    assert all("d" not in key for key in jwks["keys"]), "private key material published"
    verifier = KeyRing.from_jwks(jwks, issuer="boxoffice")
    claims = verifier.verify(fan.access_token, use=TokenUse.ACCESS)
    assert claims["sub"] == fan.id
    assert claims["role"] == "customer"
    assert claims["exp"] - claims["iat"] == 100 * 60


async def test_customer_cannot_call_admin_route_and_anonymous_is_401(
    client: httpx.AsyncClient,
) -> None:
    fan = await customer(client)
    body = {"role": "admin"}
    assert_problem(
        await client.patch(f"{API}/admin/users/{fan.id}", json=body, headers=fan.headers),
        403,
        "forbidden",
    )
    assert_problem(
        await client.patch(f"{API}/admin/users/{fan.id}", json=body), 401, "unauthorized"
    )


async def test_brute_force_login_is_throttled_per_account(client: httpx.AsyncClient) -> None:
    email = unique_email("victim")
    await sign_up(client, email)
    for _ in range(5):
        assert (await log_in(client, email, "wrong-password")).status_code == 401
    blocked = await log_in(client, email, "wrong-password")
    body = assert_problem(blocked, 429, "rate_limited")
    assert int(blocked.headers["Retry-After"]) > 0
    assert body["detail"]
    # Even the right password waits out the window: the attacker learns nothing.
    assert (await log_in(client, email)).status_code == 429


async def test_brute_force_across_accounts_is_throttled_per_address(
    client: httpx.AsyncClient, make_settings: object
) -> None:
    for attempt in range(30):
        response = await log_in(client, unique_email(f"spray{attempt}"), "guess-guess")
        assert response.status_code == 401
    assert_problem(
        await log_in(client, unique_email("spray-last"), "guess-guess"), 429, "rate_limited"
    )


@pytest.mark.parametrize(
    "email",
    ["' OR 1=1 --@x.com", "admin@boxoffice.local' --", "a@b.c'; DROP TABLE identity_users; --"],
)
async def test_sql_injection_shaped_email(client: httpx.AsyncClient, email: str) -> None:
    signup = await sign_up(client, email)
    assert signup.status_code == 422
    login = await log_in(client, email, "whatever-password")
    assert login.status_code == 401
    # The table is still there and working.
    assert (await sign_up(client)).status_code == 201


async def test_oversized_body_is_413_before_parsing(client: httpx.AsyncClient) -> None:
    huge = b'{"email": "' + b"a" * (5 * 1024 * 1024) + b'"}'
    response = await client.post(
        f"{API}/auth/login", content=huge, headers={"content-type": "application/json"}
    )
    assert_problem(response, 413, "payload_too_large")


async def test_oversized_chunked_body_is_413(client: httpx.AsyncClient) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(80):
            yield b"x" * 65536

    response = await client.post(
        f"{API}/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(response, 413, "payload_too_large")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "bad_request"),
        (b'{"email": "a@b.co", "password": 5}', 422, "validation_error"),
        (b"[1, 2, 3]", 422, "validation_error"),
        (b'{"email": "a@b.co"}', 422, "validation_error"),
        (b"", 422, "validation_error"),
    ],
)
async def test_malformed_requests_never_500(
    client: httpx.AsyncClient, body: bytes, status: int, code: str
) -> None:
    response = await client.post(
        f"{API}/auth/login", content=body, headers={"content-type": "application/json"}
    )
    problem = assert_problem(response, status, code)
    if code == "validation_error":
        assert problem["errors"], problem
        assert {"loc", "msg"} <= set(problem["errors"][0])


async def test_weak_password_is_a_clear_422(client: httpx.AsyncClient) -> None:
    response = await sign_up(client, password="short")
    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"][0]["loc"] == ["body", "password"]
    assert "8" in problem["errors"][0]["msg"]


async def test_unknown_fields_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/auth/signup",
        json={"email": unique_email(), "password": "long-enough-pw", "name": "x", "role": "admin"},
    )
    assert_problem(response, 422, "validation_error")


async def test_unknown_route_and_method_are_problems(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/nope"), 404, "not_found")
    assert_problem(await client.delete(f"{API}/auth/login"), 405, "method_not_allowed")


async def test_seller_onboarding_with_admin_approval(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    from tests.support.api import user_with_role

    admin = await user_with_role(client, runtime, Role.ADMIN)
    fan = await customer(client)
    applied = await client.post(
        f"{API}/users/me/seller",
        headers=fan.headers,
        json={"business_name": "Hanbit Live", "business_number": "120-81-47521"},
    )
    assert applied.status_code == 201, applied.text
    assert applied.json()["status"] == "pending"

    # A customer cannot approve themselves.
    self_approve = await client.patch(
        f"{API}/admin/users/{fan.id}", headers=fan.headers, json={"seller_status": "approved"}
    )
    assert_problem(self_approve, 403, "forbidden")

    approved = await client.patch(
        f"{API}/admin/users/{fan.id}", headers=admin.headers, json={"seller_status": "approved"}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["role"] == "seller"
    assert approved.json()["seller_status"] == "approved"

    # The new role reaches the token at the next refresh.
    refreshed = await client.post(f"{API}/auth/refresh", json={"refresh_token": fan.refresh_token})
    claims = jwt.decode(refreshed.json()["access_token"], options={"verify_signature": False})
    assert claims["role"] == "seller"

    missing = await client.patch(
        f"{API}/admin/users/does-not-exist", headers=admin.headers, json={"role": "staff"}
    )
    assert_problem(missing, 404, "not_found")
    demote_self = await client.patch(
        f"{API}/admin/users/{admin.id}", headers=admin.headers, json={"role": "customer"}
    )
    assert_problem(demote_self, 403, "forbidden")


@pytest.mark.parametrize("business_number", ["12", "abc-de-fghij", "1208147521999"])
async def test_seller_application_is_validated(
    client: httpx.AsyncClient, business_number: str
) -> None:
    fan = await customer(client)
    response = await client.post(
        f"{API}/users/me/seller",
        headers=fan.headers,
        json={"business_name": "X", "business_number": business_number},
    )
    assert_problem(response, 422, "validation_error")


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    given = await client.get("/health", headers={"X-Request-ID": "trace-123"})
    assert given.headers["x-request-id"] == "trace-123"
    made = await client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["x-request-id"] != "bad id with spaces"
    assert len(made.headers["x-request-id"]) == 36


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    fan = await customer(client)
    await client.get(f"{API}/users/me", headers=fan.headers)
    text = (await client.get("/metrics")).text
    assert (
        'boxoffice_http_requests_total{method="GET",route="/api/v1/users/me",status="200"}' in text
    )
    timed = 'method="GET",route="/api/v1/users/me",status_class="2xx"'
    assert f"boxoffice_http_request_duration_seconds_count{{{timed}}} 1.0" in text
    assert fan.id not in text
