"""Sign-in for browsers: the refresh token lives in an HttpOnly cookie, never in script reach.

A client that says `X-Clearway-Client: web` gets the refresh token as the `clearway_refresh`
cookie, scoped to identity's paths, instead of in the JSON body. A request that authenticates
by that cookie is one a browser may send on its own, so it must prove it came from the app:
the custom header (a cross-site form or image cannot set it, and a cross-site script cannot
without a CORS preflight the gateway refuses) and, when the browser names it, an allowed
`Origin`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from clearway.kit.problems import Problem
from clearway.settings import Settings

COOKIE = "clearway_refresh"
COOKIE_PATH = "/api/identity"
WEB_CLIENT = "web"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` as a browser sends it in `Origin`, or None for no http(s) URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    origin = f"{parts.scheme}://{parts.hostname}"
    if port is not None and port != _DEFAULT_PORTS[parts.scheme]:
        origin += f":{port}"
    return origin


def is_web(client: str | None) -> bool:
    """Whether the `X-Clearway-Client` header names the browser app."""
    return (client or "").strip().lower() == WEB_CLIENT


class BrowserSessions:
    def __init__(self, settings: Settings) -> None:
        self.secure = urlsplit(settings.public_url).scheme == "https"
        self.max_age = settings.refresh_token_ttl_seconds
        # A wildcard CORS entry never vouches for a cookie: only named origins do.
        named = (origin_of(url) for url in (settings.public_url, *settings.cors_origins))
        self.origins = frozenset(origin for origin in named if origin)

    def cookie_token(self, request: Request, client: str | None) -> str | None:
        """The refresh token in the cookie, once the request has passed the CSRF check."""
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        if not is_web(client):
            raise Problem(
                403,
                detail=f"A request signed in by cookie needs `X-Clearway-Client: {WEB_CLIENT}`.",
                type="csrf",
            )
        origin = request.headers.get("origin")
        if origin is not None and origin_of(origin) not in self.origins:
            raise Problem(403, detail="This origin may not use the session cookie.", type="csrf")
        return token

    def keep(self, response: Response, token: str) -> None:
        self._set(response, token, self.max_age)

    def clear(self, response: Response) -> None:
        self._set(response, "", 0)

    def _set(self, response: Response, value: str, max_age: int) -> None:
        attributes = [
            f"{COOKIE}={value}",
            "HttpOnly",
            "SameSite=Strict",
            f"Path={COOKIE_PATH}",
            f"Max-Age={max_age}",
        ]
        if self.secure:
            attributes.append("Secure")
        response.headers.append("set-cookie", "; ".join(attributes))
