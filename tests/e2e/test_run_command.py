"""The README's run command: a real `boxoffice run` process, driven like the curl walkthrough."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.processes import free_port, running_server

API = "/api/v1"


@pytest.mark.slow
def test_boxoffice_run_serves_the_auth_walkthrough(tmp_path: Path) -> None:
    port = free_port()
    env = {"BOXOFFICE_DATA_DIR": str(tmp_path / "var"), "BOXOFFICE_LOG_JSON": "true"}
    server = running_server(["run", "--port", str(port)], env, port, log_path=tmp_path / "run.log")
    with server, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        assert http.get("/docs").status_code == 200
        assert "/api/v1/auth/login" in http.get("/openapi.json").json()["paths"]
        assert http.get("/ready").json()["status"] == "ready"

        # The demo's posters are linked at the port it was started on, and are served there.
        cards = http.get(f"{API}/events").json()["items"]
        posters = [card["poster_url"] for card in cards if card.get("poster_url")]
        assert posters, cards
        assert all(url.startswith(f"http://127.0.0.1:{port}/media/") for url in posters), posters
        poster = http.get(posters[0])
        assert poster.status_code == 200
        assert poster.headers["content-type"].startswith("image/")

        # The demo accounts printed by `boxoffice run` work.
        admin = http.post(
            f"{API}/auth/login",
            json={"email": "admin@boxoffice.local", "password": "admin-pass-1234"},
        )
        assert admin.status_code == 200, admin.text

        signup = http.post(
            f"{API}/auth/signup",
            json={"email": "walk@example.com", "password": "walkthrough-pw", "name": "Walk"},
        )
        assert signup.status_code == 201, signup.text
        pair = http.post(
            f"{API}/auth/login",
            json={"email": "walk@example.com", "password": "walkthrough-pw"},
        ).json()
        me = http.get(
            f"{API}/users/me", headers={"Authorization": f"Bearer {pair['access_token']}"}
        )
        assert me.json()["email"] == "walk@example.com"
        new = http.post(f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]}).json()
        reused = http.post(f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert reused.status_code == 401
        assert reused.json()["code"] == "refresh_token_reused"
        revoked = http.post(f"{API}/auth/refresh", json={"refresh_token": new["refresh_token"]})
        assert revoked.status_code == 401
        again = http.post(
            f"{API}/auth/login",
            json={"email": "walk@example.com", "password": "walkthrough-pw"},
        ).json()
        out = http.post(
            f"{API}/auth/logout",
            headers={"Authorization": f"Bearer {again['access_token']}"},
            json={"refresh_token": again["refresh_token"]},
        )
        assert out.status_code == 204
    log = (tmp_path / "run.log").read_text()
    assert "admin@boxoffice.local" in log  # credentials printed for the newcomer
    assert "walkthrough-pw" not in log  # a user's password never reaches the log
