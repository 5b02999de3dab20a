"""Real headless Chromium for the shop's tests: Debian's ``chromium`` driven by Playwright.

A machine without chromium skips these tests with a reason; with
``BOXOFFICE_REQUIRE_SERVICES=1`` (CI, whose ``.ci/run`` installs it) they fail instead.
Screenshots go to ``test-output/screenshots`` (``BOXOFFICE_TEST_OUTPUT`` moves it).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support.backends import services_required

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("BOXOFFICE_TEST_OUTPUT", ROOT / "test-output"))


def chromium_path() -> str:
    """Debian's chromium, or skip (fail under BOXOFFICE_REQUIRE_SERVICES=1)."""
    found = os.environ.get("BOXOFFICE_CHROMIUM") or shutil.which("chromium")
    if found and Path(found).exists():
        return found
    message = "chromium is not installed (apt-get install chromium; .ci/run does it)"
    if services_required():
        pytest.fail(f"{message}; BOXOFFICE_REQUIRE_SERVICES=1 requires it", pytrace=False)
    pytest.skip(f"{message}; set BOXOFFICE_REQUIRE_SERVICES=1 to make this a failure")


async def screenshot(page: Any, name: str) -> Path:
    """A full-page screenshot kept as a CI artifact."""
    folder = OUTPUT / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def serious_accessibility_violations(page: Any) -> list[str]:
    """axe-core's violations of impact serious or critical on the page as it is now."""
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
