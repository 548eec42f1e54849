"""The gateway serves the browser app: pages for navigations, assets cached for good."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest

from clearway.gateway.webapp import WebApp
from tests.conftest import Api

pytestmark = pytest.mark.asyncio(loop_scope="package")

INDEX = (
    '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script>'
    '</head><body><div id="root"></div></body></html>'
)
SCRIPT = "console.log('clearway');\n" * 200  # big enough to be worth gzipping
BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture
def build(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "index-abc123.js").write_text(SCRIPT)
    (tmp_path / "robots.txt").write_text("User-agent: *\n")
    return tmp_path


@pytest.fixture
def api(shared_api: Api, build: Path) -> Iterator[Api]:
    """The shared platform with this build as its web app, for this test only."""
    gateway = shared_api.platform.gateway
    before = gateway.webapp
    gateway.webapp = WebApp(build)
    yield shared_api
    gateway.webapp = before


@pytest.mark.parametrize(
    "path", ["/", "/orders/0123abcd", "/clearances/x", "/reset-password?token=t", "/verify/abc"]
)
async def test_a_browser_navigation_gets_the_app(api: Api, path: str) -> None:
    response = await api.client.get(path, headers=BROWSER)
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    csp = response.headers["content-security-policy"]
    script_src = csp.split("script-src")[1].split(";")[0]
    assert script_src.strip() == "'self'"  # no inline script, no eval
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"  # beside the gateway's usual headers


async def test_hashed_assets_are_immutable_and_gzipped(api: Api) -> None:
    response = await api.client.get("/assets/index-abc123.js", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-type"].startswith("application/javascript")
    assert response.headers["content-encoding"] == "gzip"
    assert response.text == SCRIPT  # httpx undoes the gzip
    assert int(response.headers["content-length"]) < len(SCRIPT)


async def test_other_files_revalidate(api: Api) -> None:
    response = await api.client.get("/robots.txt")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"


async def test_a_missing_asset_is_a_404_never_the_page(api: Api) -> None:
    response = await api.client.get("/assets/index-old999.js", headers=BROWSER)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "path", ["/api/rules/markets", "/api/nothing-here", "/.well-known/jwks.json"]
)
async def test_the_api_stays_the_api_for_browsers(api: Api, path: str) -> None:
    response = await api.client.get(path, headers=BROWSER)
    assert "json" in response.headers["content-type"]
    assert response.text != INDEX


async def test_api_clients_still_get_the_verification_page_and_problems(api: Api) -> None:
    # Without `text/html` in Accept, the paths are the API's: the orders service's own
    # verification page, and a problem for any other unknown path.
    page = await api.client.get("/verify/unknown-id", headers={"accept": "*/*"})
    assert page.status_code == 404 and "Unknown certificate" in page.text
    other = await api.client.get("/somewhere", headers={"accept": "application/json"})
    assert other.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"


async def test_only_reads_are_pages(api: Api) -> None:
    response = await api.client.post("/orders/x", headers=BROWSER)
    assert response.status_code == 404
    head = await api.client.head("/", headers=BROWSER)
    assert head.status_code == 200 and head.content == b""


async def test_no_build_means_no_app(tmp_path: Path) -> None:
    assert WebApp.packaged(tmp_path) is None


async def test_gzip_is_deterministic(build: Path) -> None:
    # The same build gives the same bytes (no timestamp in the gzip header), so caches agree.
    first = WebApp(build).files["/assets/index-abc123.js"].gzipped
    second = WebApp(build).files["/assets/index-abc123.js"].gzipped
    assert first is not None and first == second
    assert gzip.decompress(first).decode() == SCRIPT


async def test_hidden_build_files_are_not_served(build: Path) -> None:
    (build / ".vite").mkdir()
    (build / ".vite" / "manifest.json").write_text("{}")
    assert "/.vite/manifest.json" not in WebApp(build).files
