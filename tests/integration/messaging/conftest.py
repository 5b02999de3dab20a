"""Fixtures for messaging tests: a real SMTP server and a clean broker namespace per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.messaging import SmtpServer, unique_prefix


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def broker_prefix() -> str:
    return unique_prefix()
