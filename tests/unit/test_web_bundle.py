"""The built web app (web/dist, built by `make test` before pytest): what the front desk's phone loads for the
intake screen stays within 250 KB of gzipped JavaScript, and each screen is its own chunk (the statistics'
charts are not loaded by the intake). Sizes are counted as web/scripts/route-sizes.mjs prints them."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
INTAKE_BUDGET_KB = 250


@pytest.fixture(scope="module")
def manifest() -> dict:
    path = DIST / ".vite" / "manifest.json"
    assert path.is_file(), "web/dist is not built: `make web` (or `make test`) builds it"
    return json.loads(path.read_text(encoding="utf-8"))


def first_visit(manifest: dict, view: str) -> list[str]:
    """The files a first visit of `view` loads: the entry, the view's chunk, and their static imports."""
    entry = next(k for k, v in manifest.items() if v.get("isEntry"))
    seen: list[str] = []

    def walk(key: str) -> None:
        if key not in seen:
            seen.append(key)
            for nxt in manifest[key].get("imports", []):
                walk(nxt)

    walk(entry)
    walk(view)
    return [manifest[k]["file"] for k in seen]


def gz_kb(files: list[str]) -> float:
    return sum(len(gzip.compress((DIST / f).read_bytes(), compresslevel=9)) for f in files) / 1024


def test_the_intake_screen_loads_at_most_250_kb_of_gzipped_javascript(manifest):
    files = first_visit(manifest, "src/views/IntakeView.vue")
    size = gz_kb(files)
    print(f"intake screen, first visit: {size:.1f} KB of gzipped JavaScript in {len(files)} files")
    assert size <= INTAKE_BUDGET_KB, f"{size:.1f} KB > {INTAKE_BUDGET_KB} KB: {files}"


def test_every_screen_is_its_own_chunk_and_charts_load_only_with_the_statistics(manifest):
    views = [k for k in manifest if k.startswith("src/views/")]
    assert len(views) >= 12 and all(manifest[v].get("isDynamicEntry") for v in views)
    echarts = [k for k, v in manifest.items() if "echarts" in v["file"]]
    assert echarts, "no ECharts chunk"
    intake = set(first_visit(manifest, "src/views/IntakeView.vue"))
    assert not intake & {manifest[k]["file"] for k in echarts}, "the intake screen loads ECharts"
