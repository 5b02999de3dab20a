"""One e-mail normalisation for sign-up, login and look-ups (issue 16, defect 11)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.api import assert_problem, log_in, sign_up


@pytest.mark.parametrize(
    ("typed_at_signup", "typed_at_login"),
    [
        ("Ｆａｎ＠Ｅｘａｍｐｌｅ．ｃｏｍ", "fan@example.com"),  # full-width look-alikes
        ("fan@example.com", "ＦＡＮ＠example.com"),
        ("  Fan@EXAMPLE.com ", "fan@example.com"),
        ("STRASSE@example.com", "straße@example.com"),  # case folding, not lower-casing
    ],
)
async def test_the_same_address_however_typed_is_one_account(
    client: httpx.AsyncClient, typed_at_signup: str, typed_at_login: str
) -> None:
    created = await sign_up(client, typed_at_signup)
    assert created.status_code == 201, created.text
    assert (await log_in(client, typed_at_signup)).status_code == 200
    assert (await log_in(client, typed_at_login)).status_code == 200
    taken = await sign_up(client, typed_at_login)
    assert_problem(taken, 409, "conflict")
