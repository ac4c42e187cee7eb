"""Browser tests: the whole system started the way `make run` starts it, driven in headless Chromium.

Debian's chromium is used through Playwright's `executable_path`; nothing downloads a browser. `make test`
installs chromium and a CJK font first (scripts/ensure_browser.sh). Screenshots of every screen go to
artifacts/screenshots/ (set E2E_SCREENSHOTS to change it)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from config.settings import PROJECT_ROOT
from tests.system import running_system

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1366, "height": 768}




@pytest.fixture(scope="module")
def app_url():
    """`python -m scripts.run` (what `make run` runs) on free ports with its own data folder; stopped with
    SIGTERM as Ctrl-C would. E2E_BASE_URL points the tests at a system that is already running instead."""
    if os.environ.get("E2E_BASE_URL"):
        yield os.environ["E2E_BASE_URL"].rstrip("/")
        return
    with running_system("e2e") as running:
        assert httpx.get(f"{running.url}/api/health", timeout=5).json()["status"] == "ok"
        yield running.url


@pytest.fixture(scope="module")
def browser():
    # Module scope: sync Playwright runs its own event loop, which must be gone before the asyncio tests run.
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/ensure_browser.sh` (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    d = Path(os.environ.get("E2E_SCREENSHOTS", PROJECT_ROOT / "artifacts" / "screenshots"))
    d.mkdir(parents=True, exist_ok=True)
    for old in d.glob("*.png"):  # only this run's screens
        old.unlink()
    return d
