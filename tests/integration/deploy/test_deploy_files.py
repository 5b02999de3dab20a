"""deploy/ checked as far as this machine allows: Kubernetes schemas, nginx -t, real commands."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import yaml
from typer.main import get_command

from boxoffice.cli import cli
from tests.support import backends

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
K8S = DEPLOY / "kubernetes"
KUBERNETES_VERSION = "1.30.0"


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _cli_commands() -> set[str]:
    return set(get_command(cli).commands)  # type: ignore[attr-defined]


def test_every_kubernetes_manifest_is_valid_for_the_schema() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk, "kustomization.yaml must list every manifest"
    kinds = []
    for name in sorted(listed):
        for document in _documents(K8S / name):
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
            kinds.append(document["kind"])
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "ConfigMap", "Secret", "Job"):
        assert kind in kinds


def test_api_probes_use_ready_and_health() -> None:
    api = next(d for d in _documents(K8S / "api.yaml") if d["kind"] == "Deployment")
    container = api["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"


def test_roles_run_commands_the_cli_has() -> None:
    commands = _cli_commands()
    used: set[str] = set()
    for path in K8S.glob("*.yaml"):
        for document in _documents(path):
            if document["kind"] in ("Deployment", "Job"):
                for container in document["spec"]["template"]["spec"]["containers"]:
                    if container["image"].startswith("boxoffice"):
                        used.add(container["args"][0])
    compose = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    for service in compose["services"].values():
        if service.get("image", "").startswith("boxoffice") or "build" in service:
            used.add(service["command"][0])
    missing = used - commands
    assert not missing, f"deploy files run commands the CLI lacks: {sorted(missing)}"


def render_gateway(
    listen: int,
    upstreams: list[str],
    rate: str = "200r/s",
    burst: int = 400,
    checkout: list[str] | None = None,
    streams: list[str] | None = None,
) -> str:
    """Fill the ${BOXOFFICE_*} placeholders only, as the nginx image's envsubst does."""

    def servers(addresses: list[str]) -> str:
        return " ".join(f"server {u} max_fails=0;" for u in addresses)

    values = {
        "BOXOFFICE_LISTEN": str(listen),
        "BOXOFFICE_UPSTREAMS": servers(upstreams),
        "BOXOFFICE_CHECKOUT_UPSTREAMS": servers(checkout or upstreams),
        "BOXOFFICE_STREAM_UPSTREAMS": servers(streams or upstreams),
        "BOXOFFICE_RATE": rate,
        "BOXOFFICE_BURST": str(burst),
        "BOXOFFICE_SSE_PER_ADDRESS": "20",
    }
    template = (DEPLOY / "nginx" / "boxoffice.conf.template").read_text()
    return re.sub(r"\$\{(BOXOFFICE_[A-Z_]+)\}", lambda m: values[m.group(1)], template)


def test_gateway_config_passes_nginx_t(tmp_path: Path) -> None:
    nginx = backends.require_nginx()
    (tmp_path / "logs").mkdir()
    (tmp_path / "boxoffice.conf").write_text(
        render_gateway(18080, ["127.0.0.1:8001", "127.0.0.1:8002"])
    )
    (tmp_path / "nginx.conf").write_text(
        f"""pid {tmp_path}/nginx.pid;
error_log {tmp_path}/logs/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi; uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    include {tmp_path}/boxoffice.conf;
}}
"""
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ},
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_sse_route_is_unbuffered_and_api_is_rate_limited() -> None:
    text = render_gateway(8080, ["api:8000"])
    sse = text.split("location ~ ^/api/v1/queue/[^/]+/stream$", 1)[1].split("}", 1)[0]
    assert "proxy_buffering off" in sse
    assert "proxy_read_timeout 1h" in sse
    api = text.split("location /api/ {", 1)[1].split("}", 1)[0]
    assert "limit_req zone=boxoffice_per_ip" in api
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in text


def test_streams_do_not_take_the_requests_upstream_connections() -> None:
    """A crowd's streams hold their own upstream connections, so joins and holds keep the
    kept-alive ones; the gateway's accept queue is deep enough for a crowd's arrival."""
    text = render_gateway(8080, ["api:8000"])
    sse = text.split("location ~ ^/api/v1/queue/[^/]+/stream$", 1)[1].split("}", 1)[0]
    api = text.split("location /api/ {", 1)[1].split("}", 1)[0]
    assert "proxy_pass http://boxoffice_streams;" in sse
    assert "proxy_pass http://boxoffice_api;" in api
    streams = text.split("upstream boxoffice_streams {", 1)[1].split("}", 1)[0]
    requests = text.split("upstream boxoffice_api {", 1)[1].split("}", 1)[0]
    assert "server api:8000" in streams
    assert "keepalive" not in streams
    assert "keepalive 1024;" in requests
    assert re.search(r"listen \S+ backlog=4096;", text)


def _static_upstream(root: Path) -> http.server.ThreadingHTTPServer:
    """A plain upstream on a free port serving ``root``'s files (no headers of its own)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    return upstream


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _gateway(prefix: Path, listen: int, conf: str) -> Iterator[str]:
    """nginx with the rendered ``conf`` on ``listen``, until the block ends; yields its URL."""
    nginx = backends.require_nginx()
    (prefix / "logs").mkdir(parents=True)
    (prefix / "boxoffice.conf").write_text(
        conf.replace(f"listen {listen} ", f"listen 127.0.0.1:{listen} ")
    )
    (prefix / "nginx.conf").write_text(
        f"""pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log;
daemon off;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi; uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/boxoffice.conf;
}}
"""
    )
    server = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf")])
    base = f"http://127.0.0.1:{listen}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/health", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield base
    finally:
        server.terminate()
        server.wait(10)


def test_gateway_adds_security_headers_to_its_own_and_proxied_answers(tmp_path: Path) -> None:
    """nginx in front of a plain upstream (no headers of its own) and of a dead one (the
    gateway's own 503): both answers carry the security headers, each once."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "health").write_text("ok")
    upstream = _static_upstream(tmp_path / "docs")
    listen, dead = _free_port(), upstream.server_address[1] + 1
    results = {}
    for name, port in (("live", upstream.server_address[1]), ("dead", dead)):
        conf = render_gateway(listen, [f"127.0.0.1:{port}"])
        with _gateway(tmp_path / name, listen, conf) as base:
            results[name] = httpx.get(f"{base}/health", timeout=5)
    upstream.shutdown()
    assert results["live"].status_code == 200
    assert results["dead"].status_code == 503
    for response in results.values():
        assert response.headers.get_list("x-content-type-options") == ["nosniff"]
        assert response.headers.get_list("x-frame-options") == ["DENY"]
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["referrer-policy"] == "no-referrer"


CHECKOUT_PATHS = ("shows/s1/seats", "shows/s1/holds", "holds/h1", "orders", "orders/o1/pay")
FRONT_PATHS = ("shows/s1/queue", "shows/s1/orders", "shows/s1", "queue/e1", "ordersx")
STREAM_PATHS = ("queue/e1/stream",)


class _Named(http.server.ThreadingHTTPServer):
    """An upstream that answers every request with its name, after ``delay`` seconds (a
    replica alive but slow)."""

    def __init__(self, name: str, delay: float = 0.0) -> None:
        super().__init__(("127.0.0.1", 0), _SayName)
        self.name, self.delay = name, delay
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _SayName(http.server.BaseHTTPRequestHandler):
    server: _Named

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.do_GET()

    def do_GET(self) -> None:
        time.sleep(self.server.delay)
        body = self.server.name.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


def test_gateway_says_a_write_answered_too_late_may_have_been_done(tmp_path: Path) -> None:
    """A replica that is up but slower than the read timeout: a write is told 504
    ``gateway_timeout`` (look before repeating), not the 503 that invites a blind retry; a
    read, which changes nothing, is told 503 ``service_unavailable`` (try again)."""
    slow = _Named("slow", delay=3)
    listen = _free_port()
    conf = render_gateway(listen, [f"127.0.0.1:{slow.server_address[1]}"])
    assert "proxy_read_timeout 60s;" in conf
    with _gateway(
        tmp_path, listen, conf.replace("proxy_read_timeout 60s;", "proxy_read_timeout 1s;")
    ) as base:
        answer = httpx.post(f"{base}/api/v1/orders/o1/cancel", json={"reason": "x"}, timeout=10)
        read = httpx.get(f"{base}/api/v1/orders/o1", timeout=10)
    slow.shutdown()
    assert (read.status_code, read.json()["code"]) == (503, "service_unavailable")
    assert answer.status_code == 504
    assert answer.headers["content-type"] == "application/problem+json"
    assert (answer.json()["code"], answer.json()["status"]) == ("gateway_timeout", 504)
    assert "Retry-After" not in answer.headers
    assert answer.headers.get_list("x-content-type-options") == ["nosniff"]


def test_gateway_sends_the_checkout_and_the_streams_to_their_own_replicas(tmp_path: Path) -> None:
    """Given checkout replicas, a show's seats and holds, holds and orders go to them; given
    stream ports (`serve --stream-port`), the queue's streams go there; everything else of
    the API (the queue, a show, a seller's orders of a show) to the others."""
    checkout, front, streams = _Named("checkout"), _Named("front"), _Named("streams")
    listen = _free_port()
    conf = render_gateway(
        listen,
        [f"127.0.0.1:{front.server_address[1]}"],
        checkout=[f"127.0.0.1:{checkout.server_address[1]}"],
        streams=[f"127.0.0.1:{streams.server_address[1]}"],
    )
    with _gateway(tmp_path, listen, conf) as base:
        served = {
            path: httpx.get(f"{base}/api/v1/{path}", timeout=5).text
            for path in CHECKOUT_PATHS + FRONT_PATHS + STREAM_PATHS
        }
    for upstream in (checkout, front, streams):
        upstream.shutdown()
    assert served == (
        {path: "checkout" for path in CHECKOUT_PATHS}
        | {path: "front" for path in FRONT_PATHS}
        | {path: "streams" for path in STREAM_PATHS}
    )


def test_gateway_sends_a_fans_stream_to_the_process_that_answered_the_join(
    tmp_path: Path,
) -> None:
    """Three API processes, each with a request port and a stream port: every fan's join
    and stream land on the same process (the stream finds the token verified and the entry
    in memory), and the fans are spread over the processes."""
    requests = [_Named(f"api-{i}") for i in range(3)]
    streams = [_Named(f"api-{i}") for i in range(3)]
    listen = _free_port()
    conf = render_gateway(
        listen,
        [f"127.0.0.1:{u.server_address[1]}" for u in requests],
        streams=[f"127.0.0.1:{u.server_address[1]}" for u in streams],
    )
    with _gateway(tmp_path, listen, conf) as base:
        landed = []
        for fan in range(30):
            token = {"Authorization": f"Bearer token-of-fan-{fan}"}
            join = httpx.post(f"{base}/api/v1/shows/s1/queue", headers=token, timeout=5)
            stream = httpx.get(f"{base}/api/v1/queue/e{fan}/stream", headers=token, timeout=5)
            landed.append((join.text, stream.text))
    for upstream in requests + streams:
        upstream.shutdown()
    assert all(join == stream for join, stream in landed), landed
    assert len({join for join, _ in landed}) >= 2, landed


def test_the_gateways_of_compose_and_kubernetes_fill_every_placeholder() -> None:
    template = (DEPLOY / "nginx" / "boxoffice.conf.template").read_text()
    wanted = set(re.findall(r"\$\{(BOXOFFICE_[A-Z_]+)\}", template))
    compose = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    kubernetes = next(
        container
        for document in _documents(K8S / "gateway.yaml")
        if document["kind"] == "Deployment"
        for container in document["spec"]["template"]["spec"]["containers"]
    )
    assert set(compose["services"]["gateway"]["environment"]) == wanted
    assert {variable["name"] for variable in kubernetes["env"]} == wanted
