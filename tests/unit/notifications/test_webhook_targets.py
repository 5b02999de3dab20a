"""The webhooks' SSRF guard: only public HTTPS addresses, whatever a name resolves to."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from boxoffice.notifications.webhooks import WebhookTargetRefused, check_target, sign


def runtime(allow_private: bool = False) -> Any:
    notifications = SimpleNamespace(webhook_allow_private_targets=allow_private)
    return SimpleNamespace(settings=SimpleNamespace(notifications=notifications))


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/hook",  # not https
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10:8443/hook",
        "https://169.254.169.254/latest/meta-data",  # the cloud's metadata service
        "https://[::1]/hook",
        "https://user:secret@93.184.216.34/hook",
        "https:///hook",
    ],
)
async def test_private_loopback_and_plain_targets_are_refused(url: str) -> None:
    with pytest.raises(WebhookTargetRefused):
        await check_target(runtime(), url)


async def test_a_public_https_address_passes_and_tests_may_allow_local_ones() -> None:
    await check_target(runtime(), "https://93.184.216.34/hook")
    await check_target(runtime(allow_private=True), "http://127.0.0.1:9000/hook")


def test_the_signature_is_hmac_sha256_over_time_and_body() -> None:
    # the value computed apart: hmac.new(b"whsec_x", b"1700000000.{}", sha256).hexdigest()
    expected = "be8cb8325f2202445260a855532f967e30ad2a9394ce28da66ee02880ddcb661"
    assert sign("whsec_x", 1700000000, b"{}") == f"t=1700000000,v1={expected}"
