"""The web app on a phone: how long the front desk's intake screen takes to render on a first visit
(empty cache), and what it loads. A benchmark that prints figures, not a test.

Starts the whole system as `make run` does (tests.system.running_system: free ports, a temporary data
folder), signs the front desk in through the API, then opens `/app/#/intake?project=N` BENCH_WEB_RUNS times
(default 7) in a fresh headless Chromium context each (no cache), as a phone: 375×812, touch, and the CPU
slowed 4× (a mid-range phone's speed on this machine's cores; BENCH_WEB_CPU_SLOWDOWN). First render = from
the navigation's start to the search box being visible. Target: ≤ 1.5 s.

    .venv/bin/python -m scripts.bench_web
"""

from __future__ import annotations

import json
import os
import statistics

import httpx
from playwright.sync_api import sync_playwright

from config.settings import PROJECT_ROOT
from scripts.seed import DEMO_PASSWORD
from tests.system import running_system

TARGET_MS = 1500
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def main() -> None:
    runs = int(os.environ.get("BENCH_WEB_RUNS", "7"))
    slowdown = float(os.environ.get("BENCH_WEB_CPU_SLOWDOWN", "4"))
    if not (PROJECT_ROOT / "web" / "dist" / "index.html").exists():
        raise SystemExit("web/dist is not built: run `make web` first")
    with running_system("bench-web") as system:
        url = system.url
        token = httpx.post(f"{url}/api/auth/token", data={"username": "frontdesk", "password": DEMO_PASSWORD}).json()
        project = httpx.get(f"{url}/api/projects", headers={"Authorization": f"Bearer {token['access_token']}"}).json()[0]
        session = {"ef.token": token["access_token"], "ef.refresh": token["refresh_token"],
                   "ef.user": json.dumps({"username": "frontdesk", "role": "frontdesk", "name": token["display_name"]})}
        init = "".join(f"sessionStorage.setItem({json.dumps(k)}, {json.dumps(v)});" for k, v in session.items())
        times, transferred = [], []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for _ in range(runs + 1):  # the first is a warm-up of the server and the browser, not counted
                ctx = browser.new_context(viewport={"width": 375, "height": 812}, device_scale_factor=2, is_mobile=True,
                                          has_touch=True, locale="zh-CN")
                ctx.add_init_script(f"if (location.pathname.startsWith('/app')) {{ {init} }}")
                page = ctx.new_page()
                cdp = ctx.new_cdp_session(page)
                cdp.send("Emulation.setCPUThrottlingRate", {"rate": slowdown})
                page.goto(f"{url}/app/#/intake?project={project['id']}", wait_until="commit")
                page.locator("#q").wait_for(state="visible", timeout=30_000)
                times.append(page.evaluate("performance.now()"))
                transferred.append(page.evaluate(
                    "performance.getEntriesByType('resource').filter((e) => e.name.includes('/app/'))"
                    ".reduce((n, e) => n + e.transferSize, 0) + performance.getEntriesByType('navigation')[0].transferSize"))
                ctx.close()
            browser.close()
    times, transferred = times[1:], transferred[1:]
    p50, worst = statistics.median(times), max(times)
    print("EstateFlow web benchmark — the intake screen, first visit on a phone profile")
    print(f"  runs {runs}, 375×812, touch, CPU slowed {slowdown:g}×, empty cache each run")
    print(f"  first render (navigation start → search box visible): p50 {p50:.0f} ms, max {worst:.0f} ms")
    print(f"  bytes transferred for the app (compressed as served): {statistics.median(transferred) / 1024:.0f} KB")
    print(f"targets: {'met' if p50 <= TARGET_MS else 'NOT met'}  first render p50 <= {TARGET_MS} ms  got {p50:.0f} ms")


if __name__ == "__main__":
    main()
