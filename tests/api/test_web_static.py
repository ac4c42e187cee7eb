"""The built web app as the API serves it at /app (web/dist, built by `make test` first): gzip-compressed
copies to browsers that accept them, hashed bundles cached for good, the page revalidated, the CSP on,
a favicon where browsers look for one, and the web-app manifest."""

from __future__ import annotations

import gzip
import re

import pytest

from api.main import WEB_DIST


@pytest.fixture(scope="module")
def bundle() -> str:
    index = (WEB_DIST / "index.html").read_text(encoding="utf-8")
    m = re.search(r'src="/app/(assets/index-[^"]+\.js)"', index)
    assert m, "web/dist/index.html names no entry script: is web/dist built (make web)?"
    return m.group(1)


async def test_a_browser_that_accepts_gzip_gets_the_precompressed_file(http, bundle):
    r = await http.get(f"/app/{bundle}", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert r.headers["content-type"].startswith("text/javascript") or r.headers["content-type"].startswith("application/javascript")
    assert int(r.headers["content-length"]) == (WEB_DIST / f"{bundle}.gz").stat().st_size
    assert r.content == (WEB_DIST / bundle).read_bytes()  # httpx undid the gzip: the same file
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    plain = await http.get(f"/app/{bundle}", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == r.content
    assert int(plain.headers["content-length"]) > int(r.headers["content-length"]) * 2


async def test_the_page_revalidates_and_runs_under_the_csp(http):
    r = await http.get("/app/", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-cache"
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "<script" in r.text and "<script>" not in r.text  # module scripts by src only: nothing inline
    assert gzip.decompress((WEB_DIST / "index.html.gz").read_bytes()).decode() == r.text


async def test_a_favicon_and_a_manifest_for_the_home_screen(http):
    r = await http.get("/favicon.ico", follow_redirects=True)
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    r = await http.get("/app/manifest.webmanifest")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/manifest+json")
    manifest = r.json()
    assert manifest["start_url"].startswith("/app/") and {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        png = await http.get(icon["src"])
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
