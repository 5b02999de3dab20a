"""Fixtures for messaging tests: a real SMTP server and a clean broker namespace per test."""

from __future__ import annotations

import pytest

from tests.support.messaging import unique_prefix


@pytest.fixture
def broker_prefix() -> str:
    return unique_prefix()
