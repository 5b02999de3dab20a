"""CI's promise: with BOXOFFICE_REQUIRE_SERVICES=1 a missing service fails the run, else skips."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import pytest

@pytest.mark.parametrize("backend", ["postgresql"])
def test_needs_postgres(database_url):
    assert database_url
"""


def _run_probe(tmp_path: Path, require: bool) -> subprocess.CompletedProcess[str]:
    probe = tmp_path / "test_probe_services.py"
    probe.write_text(PROBE)
    env = {
        **os.environ,
        # PostgreSQL "stopped": nothing listens on this port.
        "BOXOFFICE_TEST_POSTGRES_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/test",
        "BOXOFFICE_REQUIRE_SERVICES": "1" if require else "",
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.conftest",
            "--rootdir",
            str(ROOT),
            "-c",
            str(ROOT / "pyproject.toml"),
            str(probe),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_missing_postgres_fails_when_services_are_required(tmp_path: Path) -> None:
    result = _run_probe(tmp_path, require=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 error" in result.stdout or "1 failed" in result.stdout  # setup failure = error
    assert "BOXOFFICE_REQUIRE_SERVICES=1 requires it" in result.stdout


@pytest.mark.slow
def test_missing_postgres_skips_with_a_reason_otherwise(tmp_path: Path) -> None:
    result = _run_probe(tmp_path, require=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "postgresql is not reachable" in result.stdout
