"""``Principal.acts_for``: the owner itself or an admin may act on a thing; a seller, staff
or another customer may not act for someone else."""

from __future__ import annotations

import pytest

from boxoffice.platform.security import Principal, Role


def test_the_owner_acts_for_itself_whatever_its_role() -> None:
    for role in Role:
        assert Principal(id="u1", email="a@example.com", role=role).acts_for("u1")


def test_an_admin_acts_for_anyone() -> None:
    assert Principal(id="u1", email="a@example.com", role=Role.ADMIN).acts_for("u2")


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.SELLER, Role.STAFF])
def test_no_one_else_acts_for_another_user(role: Role) -> None:
    assert not Principal(id="u1", email="a@example.com", role=role).acts_for("u2")
