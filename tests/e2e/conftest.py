"""Browser tests: the whole system started the way `make run` starts it, driven in headless Chromium.

Debian's chromium is used through Playwright's `executable_path`; nothing downloads a browser. `make test`
installs chromium and a CJK font first (scripts/ensure_browser.sh). Screenshots of every screen go to
artifacts/screenshots/ (set E2E_SCREENSHOTS to change it)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from config.settings import PROJECT_ROOT
from tests.ports import free_port

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}




@pytest.fixture(scope="module")
def app_url():
    """`python -m scripts.run` (what `make run` runs) on free ports with its own data folder; stopped with
    SIGTERM as Ctrl-C would. E2E_BASE_URL points the tests at a system that is already running instead."""
    if os.environ.get("E2E_BASE_URL"):
        yield os.environ["E2E_BASE_URL"].rstrip("/")
        return
    data_dir = Path(tempfile.mkdtemp(prefix="estateflow-e2e-"))
    api_port = free_port()
    env = dict(os.environ, DATA_DIR=str(data_dir), API_PORT=str(api_port), TEMPORAL_PORT=str(free_port()),
               TEMPORAL_UI_PORT=str(free_port()), PYTHONPATH=str(PROJECT_ROOT))
    for var in ("DATABASE_URL", "TEMPORAL_ADDRESS"):
        env.pop(var, None)
    log = open(data_dir / "run.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "scripts.run"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{api_port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"make run exited with {proc.returncode}: {(data_dir / 'run.log').read_text()[-2000:]}")
            if b"EstateFlow is running" in (data_dir / "run.log").read_bytes():
                break
            if time.monotonic() > deadline:
                raise RuntimeError("make run did not come up within 120 s")
            time.sleep(0.5)
        assert httpx.get(f"{url}/api/health", timeout=5).json()["status"] == "ok"
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


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
