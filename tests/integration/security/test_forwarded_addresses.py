"""Defect 5: X-Forwarded-For is believed from the configured gateways only, in the real
`boxoffice serve` process and in every deployment file shipped."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest
import yaml

from boxoffice.platform.config import Environment, Settings, UnsafeSettings
from tests.support.api import API, PASSWORD, unique_email
from tests.support.processes import free_port, running_server, server_env

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


def _sign_up(base: str, forwarded_for: str) -> int:
    body = {"email": unique_email(), "password": PASSWORD, "name": "Fan"}
    headers = {"X-Forwarded-For": forwarded_for}
    answer = httpx.post(f"{base}{API}/auth/signup", json=body, headers=headers, timeout=30)
    return answer.status_code


def _serve(
    settings: Settings, tmp_path: Path, **env: str
) -> tuple[str, AbstractContextManager[object]]:
    port = free_port()
    environment = server_env(settings, BOXOFFICE_SIGNUP_PER_ADDRESS_PER_HOUR="2", **env)
    server = running_server(
        ["serve", "--port", str(port)], environment, port, log_path=tmp_path / "serve.log"
    )
    return f"http://127.0.0.1:{port}", server


def test_forwarded_for_from_an_untrusted_peer_is_ignored(
    settings: Settings, tmp_path: Path
) -> None:
    base, server = _serve(settings, tmp_path, BOXOFFICE_TRUSTED_PROXIES="192.0.2.1")
    with server:
        answers = [_sign_up(base, f"198.51.100.{n}") for n in range(3)]
    assert answers == [201, 201, 429]  # one address (ours), whatever we claimed


def test_forwarded_for_from_the_gateway_is_believed(settings: Settings, tmp_path: Path) -> None:
    base, server = _serve(settings, tmp_path)  # loopback, where the local gateway runs
    with server:
        answers = [_sign_up(base, address) for address in ("a", "a", "a", "b")]
    assert answers == [201, 201, 429, 201]


def test_no_shipped_config_trusts_every_peer() -> None:
    shipped = [DEPLOY / "Dockerfile", DEPLOY / "compose" / "compose.yaml"]
    shipped += sorted((DEPLOY / "kubernetes").glob("*.yaml"))
    for path in shipped:
        assert "forwarded-allow-ips" not in path.read_text(), path
    compose = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    gateway_ip = compose["services"]["gateway"]["networks"]["default"]["ipv4_address"]
    assert compose["services"]["api"]["environment"]["BOXOFFICE_TRUSTED_PROXIES"] == gateway_ip
    config = yaml.safe_load((DEPLOY / "kubernetes" / "configmap.yaml").read_text())
    assert "*" not in config["data"]["BOXOFFICE_TRUSTED_PROXIES"]


@pytest.mark.parametrize("trusted", ["*", "10.0.0.1,*"])
def test_production_refuses_to_trust_everyone(
    make_settings: Callable[..., Settings], trusted: str
) -> None:
    unsafe = make_settings(environment=Environment.PRODUCTION, trusted_proxies=trusted)
    with pytest.raises(UnsafeSettings, match="TRUSTED_PROXIES"):
        unsafe.refuse_unsafe_production()
