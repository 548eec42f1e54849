"""One OpenAPI document for the whole external API, merged from the services' own documents,
and the AsyncAPI document of every event, generated from the contracts.

Only routes in the route table appear: whatever a service serves internally stays invisible.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from clearway.contracts.catalogue import asyncapi
from clearway.gateway.routes import ADMIN, PUBLIC, SIGNED_IN, Route
from clearway.kit.problems import PROBLEM_JSON

# The interactive docs: Swagger UI as the swagger-ui-py package ships it (one version per
# release of that package), served by the gateway itself: no code from elsewhere, no inline
# script to allow.
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


# Every error is this one shape (RFC 9457); validation problems list their fields in `errors`.
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["message"],
                "properties": {
                    "field": {"type": "string"},
                    "file": {"type": "string"},
                    "line": {"type": ["integer", "null"]},
                    "message": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
# FastAPI's description of its own 422 body, which the services never send (kit.problems).
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")
WHY = {
    400: "The request is malformed (headers, framing or body encoding).",
    401: "No valid access token: sign in, or refresh the token.",
    403: "Signed in, but this account may not do this.",
    404: "No such resource, or not one this account may see.",
    409: "The resource is not in a state that allows this.",
    413: "The request body is too large.",
    415: "The body's media type is not one this operation accepts.",
    422: "The request is well-formed but invalid; `errors` lists the fields.",
    429: "Rate limited; see Retry-After.",
}
# What the gateway cannot tell from a route's policy or parameters: statuses the service
# behind it answers from its own rules.
ANSWERS: dict[tuple[str, str], frozenset[int]] = {
    # identity: credentials, account states
    ("POST", "/api/identity/login"): frozenset({403}),  # pending or suspended account
    ("POST", "/api/identity/refresh"): frozenset({403}),
    ("POST", "/api/identity/users/{user_id}/verify"): frozenset({409}),
    ("POST", "/api/identity/users/{user_id}/suspend"): frozenset({409}),
    ("POST", "/api/identity/users/{user_id}/reinstate"): frozenset({409}),
    ("DELETE", "/api/identity/users/{user_id}"): frozenset({409}),
    # identity: a second factor is enrolled, confirmed and removed in that order
    ("POST", "/api/identity/mfa/enrol"): frozenset({409}),
    ("POST", "/api/identity/mfa/confirm"): frozenset({409}),
    ("POST", "/api/identity/mfa/recovery-codes"): frozenset({409}),
    ("POST", "/api/identity/mfa/disable"): frozenset({409}),
    # common: replaying dead letters that are no longer there
    ("POST", "/api/common/dead-letters/replay"): frozenset({404}),
    # orders: what a request names must exist, and an order moves through states
    ("POST", "/api/orders/orders"): frozenset({404, 409}),
    ("POST", "/api/orders/clearances"): frozenset({404, 409}),
    ("POST", "/api/orders/providers"): frozenset({404, 409}),
    ("GET", "/api/orders/providers/me"): frozenset({404}),
    ("PUT", "/api/orders/providers/me"): frozenset({404, 409}),
    ("PATCH", "/api/orders/providers/{provider_id}"): frozenset({409}),
    ("POST", "/api/orders/providers/{provider_id}/suspend"): frozenset({409}),
    ("POST", "/api/orders/providers/{provider_id}/reinstate"): frozenset({409}),
    ("POST", "/api/orders/orders/{order_id}/transitions"): frozenset({409}),
    ("POST", "/api/orders/orders/{order_id}/messages"): frozenset({409}),
    ("POST", "/api/orders/orders/{order_id}/attachments"): frozenset({409, 415}),
    ("POST", "/api/orders/orders/{order_id}/reports"): frozenset({409}),
    ("POST", "/api/orders/reports/{report_id}/withdraw"): frozenset({409}),
    # rules: a rule's life cycle, rule files
    ("POST", "/api/rules/admin/rules"): frozenset({409}),
    ("PATCH", "/api/rules/admin/rules/{code}"): frozenset({409}),
    ("POST", "/api/rules/admin/rules/{code}/publish"): frozenset({409}),
    ("POST", "/api/rules/admin/rules/{code}/retire"): frozenset({409}),
    ("POST", "/api/rules/admin/import"): frozenset({415}),
}


def _statuses(route: Route, operation: dict[str, Any]) -> set[int]:
    """Every error status this operation can answer."""
    statuses = {401, 429}  # a token that fails verification is refused on any route
    if route.allow != PUBLIC:
        statuses.add(403)
    if "{" in route.path:
        statuses.add(404)
    if operation.get("parameters"):
        statuses.add(422)
    if "requestBody" in operation:
        statuses |= {400, 413, 422}
    statuses |= {int(s) for s in operation.get("responses", {}) if s.isdigit() and int(s) >= 400}
    return statuses | ANSWERS.get((route.method, route.path), frozenset())


def _problem(status: int, declared: dict[str, Any] | None) -> dict[str, Any]:
    description = (declared or {}).get("description", "")
    if not description or description == "Validation Error":  # FastAPI's, for its own shape
        description = WHY.get(status, "")
    content = (declared or {}).get("content") or {}
    if content and not any("json" in media_type for media_type in content):
        return declared or {}  # not a problem: the verification page answers 404 in HTML
    # A service may describe a problem with more members (sign-in's `SignInProblem`).
    schema = content.get(PROBLEM_JSON, {}).get("schema", _PROBLEM_REF)
    return {"description": description, "content": {PROBLEM_JSON: {"schema": schema}}}


def merge(routes: tuple[Route, ...], documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for document in documents.values():
        schemas.update(document.get("components", {}).get("schemas", {}))
    for name in _FASTAPI_VALIDATION:
        schemas.pop(name, None)
    schemas["Problem"] = PROBLEM_SCHEMA
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
        declared = operation.get("responses", {})
        responses = {s: r for s, r in declared.items() if not (s.isdigit() and int(s) >= 400)}
        for status in sorted(_statuses(route, operation)):
            responses[str(status)] = _problem(status, declared.get(str(status)))
        if "429" in responses:
            responses["429"]["headers"] = {
                "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
            }
        operation["responses"] = responses
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Clearway API",
            "version": "1",
            "description": "Every route of Clearway, through its one gateway. Errors are RFC "
            "9457 problem+json, one shape (`Problem`) for every status.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
