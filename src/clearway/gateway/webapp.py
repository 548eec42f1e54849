"""The browser app, served by the gateway from the same port as the API.

`web/` builds to static files (`npm run build`); the build is copied here as `webapp_dist`
(by `make up`, and into the wheel by the build hook). Browser navigations to any app path get
`index.html` and the app routes on the client; hashed assets are cached for good, since a new
build gives them new names, while `index.html` is revalidated every time so a deploy shows at
once. Without a build (a source checkout with no Node) the gateway is the API alone.
"""

from __future__ import annotations

import gzip
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from starlette.types import Scope

PACKAGED = Path(__file__).parent / "webapp_dist"
ASSETS = "/assets/"
# Paths that are never the app's, whatever the request accepts.
NOT_THE_APP = ("/api/", "/.well-known/", "/internal/")
LOCAL = frozenset({"/healthz", "/readyz"})

IMMUTABLE = b"public, max-age=31536000, immutable"
REVALIDATE = b"no-cache"
# No inline script anywhere: the build emits modules only. Styles may be inline because the
# component kit sets CSS variables in a <style> element and style attributes at runtime.
APP_CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Worth compressing; images and fonts are compressed already.
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    gzipped: bytes | None
    content_type: bytes
    cache: bytes


class WebApp:
    """The built app in memory (a few hundred kB): path -> file, each gzipped once."""

    def __init__(self, root: Path) -> None:
        self.files: dict[str, StaticFile] = {}
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if any(part.startswith(".") for part in path.relative_to(root).parts):
                continue  # the build's manifest and stamps are not for browsers
            url = "/" + path.relative_to(root).as_posix()
            self.files[url] = _load(path, IMMUTABLE if url.startswith(ASSETS) else REVALIDATE)
        self.index = self.files["/index.html"]

    @classmethod
    def packaged(cls, root: Path = PACKAGED) -> WebApp | None:
        """The app built into this installation, or None when there is none."""
        return cls(root) if (root / "index.html").is_file() else None

    def find(self, scope: Scope) -> StaticFile | None:
        """The file answering this request, or None when it is not the app's to answer."""
        if scope["method"] not in ("GET", "HEAD"):
            return None
        path: str = scope["path"]
        if path in LOCAL or path.startswith(NOT_THE_APP):
            return None
        found = self.files.get(path)
        if found is not None and path != "/index.html":
            return found
        if path.startswith(ASSETS):
            return None  # a stale hashed name: a 404, never the page in its place
        # Any other path is a page of the app when a browser navigates to it.
        return self.index if _accepts_html(scope) else None

    @staticmethod
    def response(scope: Scope, file: StaticFile) -> tuple[list[tuple[bytes, bytes]], bytes]:
        """Headers and body for `file`, gzipped when the client takes it."""
        body = file.body
        headers = [
            (b"content-type", file.content_type),
            (b"cache-control", file.cache),
            (b"vary", b"accept-encoding"),
        ]
        if file.gzipped is not None and _accepts_gzip(scope):
            body = file.gzipped
            headers.append((b"content-encoding", b"gzip"))
        if file.content_type.startswith(b"text/html"):
            headers.append((b"content-security-policy", APP_CSP))
        headers.append((b"content-length", str(len(body)).encode()))
        return headers, b"" if scope["method"] == "HEAD" else body


def _load(path: Path, cache: bytes) -> StaticFile:
    body = path.read_bytes()
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if kind == "text/javascript":
        kind = "application/javascript"
    if kind.startswith("text/") or kind == "application/javascript":
        kind += "; charset=utf-8"
    compress = kind.startswith(COMPRESSIBLE) and len(body) > 1024
    return StaticFile(
        body=body,
        gzipped=gzip.compress(body, 9, mtime=0) if compress else None,
        content_type=kind.encode(),
        cache=cache,
    )


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1")).lower()
    return ""


def _accepts_html(scope: Scope) -> bool:
    return "text/html" in _header(scope, b"accept")


def _accepts_gzip(scope: Scope) -> bool:
    return "gzip" in _header(scope, b"accept-encoding")
