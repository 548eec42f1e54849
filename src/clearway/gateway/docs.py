"""One OpenAPI document for the whole external API, merged from the services' own documents.

Only routes in the route table appear: whatever a service serves internally stays invisible.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from clearway.gateway.routes import ADMIN, PUBLIC, SIGNED_IN, Route

# The interactive docs: Swagger UI from the swagger-ui-py package (pinned by its version),
# served by the gateway itself; no code from elsewhere, and no inline script to allow.
DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Clearway API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head><body><div id="ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
</body></html>"""
DOCS_INIT = b'SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#ui"});\n'
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)
_ASSETS = {
    "/api/docs/swagger-ui-bundle.js": ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    "/api/docs/swagger-ui.css": ("swagger-ui.css", "text/css; charset=utf-8"),
}
DOCS_PATHS = frozenset({"/api/docs", "/api/docs/init.js", *_ASSETS})


@cache
def docs_asset(path: str) -> tuple[bytes, str]:
    """The body and media type of one of the docs page's files."""
    if path == "/api/docs/init.js":
        return DOCS_INIT, "text/javascript; charset=utf-8"
    name, media_type = _ASSETS[path]
    return (files("swagger_ui") / "static" / name).read_bytes(), media_type


def _who(route: Route) -> str:
    if route.allow == PUBLIC:
        return "anyone"
    if route.allow == SIGNED_IN:
        return "any signed-in user"
    if route.allow == ADMIN:
        return "administrators"
    return ", ".join(sorted(route.allow))


def merge(routes: tuple[Route, ...], documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for document in documents.values():
        schemas.update(document.get("components", {}).get("schemas", {}))
    for route in routes:
        operation = documents.get(route.service, {}).get("paths", {}).get(route.path, {})
        operation = dict(operation.get(route.method.lower(), {}))
        if not operation:
            continue
        operation.setdefault("tags", [route.service])
        operation["description"] = (
            operation.get("description", "") + f"\n\nAllowed: {_who(route)}."
        ).strip()
        if "anonymous" not in route.allow:
            operation["security"] = [{"bearer": []}]
        responses = operation.setdefault("responses", {})
        responses.setdefault("429", {"description": "Rate limited; see Retry-After."})
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Clearway API",
            "version": "1",
            "description": "Every route of Clearway, through its one gateway. Errors are RFC "
            "9457 problem+json.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
