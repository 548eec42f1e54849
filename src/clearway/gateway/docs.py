"""One OpenAPI document for the whole external API, merged from the services' own documents,
and the AsyncAPI document of every event, generated from the contracts.

Only routes in the route table appear: whatever a service serves internally stays invisible.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from clearway.contracts.catalogue import asyncapi
from clearway.gateway.routes import ADMIN, PUBLIC, SIGNED_IN, Route

SWAGGER_UI = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Clearway API</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head><body><div id="ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#ui"});</script>
</body></html>"""
DOCS_CSP = (
    "default-src 'none'; script-src 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src https://cdn.jsdelivr.net; img-src data: https:; connect-src 'self'; "
    "frame-ancestors 'none'"
)


ASYNCAPI_PATH = "/api/asyncapi.json"


@cache
def asyncapi_document() -> dict[str, Any]:
    """The event catalogue; built once, it changes only with the code."""
    return asyncapi()


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
