"""RFC 9457 problem details: the only shape an error ever leaves an API in."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from clearway.kit.crypto.errors import DecryptionError
from clearway.kit.errors import DomainError

log = logging.getLogger("clearway.errors")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://clearway.dev/problems/"


class Problem(Exception):
    """Raise anywhere in a service to answer with problem+json."""

    def __init__(
        self,
        status: int,
        title: str | None = None,
        detail: str | None = None,
        *,
        type: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        self.status = status
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail
        self.type = TYPE_BASE + type if type else "about:blank"
        self.headers = headers or {}
        self.extensions = extensions
        super().__init__(detail or self.title)

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


def problem_response(problem: Problem, instance: str | None = None) -> Response:
    return Response(
        orjson.dumps(problem.body(instance)),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def problem_bytes(status: int, title: str | None = None, detail: str | None = None) -> bytes:
    """The body of a problem, for raw ASGI code that does not build a Response."""
    return orjson.dumps(Problem(status, title, detail).body())


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            errors.append({"field": "body", "message": _json_error(exc.body, error)})
            continue
        location = [str(part) for part in error.get("loc", ()) if part != "body"]
        errors.append({"field": ".".join(location) or "body", "message": error.get("msg", "")})
    return errors


def _json_error(document: Any, error: Any) -> str:
    """What is wrong with a body that is not JSON, where (FastAPI gives the offset only)."""
    reason = error.get("ctx", {}).get("error", "malformed")
    offset = error.get("loc", ("body", 0))[-1]
    if isinstance(document, bytes):
        document = document.decode("utf-8", "replace")
    if not isinstance(document, str) or not isinstance(offset, int):
        return f"body is not valid JSON: {reason}"
    line = document.count("\n", 0, offset) + 1
    column = offset - document.rfind("\n", 0, offset)
    return f"body is not valid JSON: {reason} at line {line} column {column}"


def install_problem_handlers(app: FastAPI) -> None:
    """Turn every error a FastAPI app can raise into problem+json, never a stack trace."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(exc, request.url.path)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problem = Problem(
            422,
            "Invalid request",
            "One or more fields are invalid.",
            type="validation",
            errors=_validation_errors(exc),
        )
        return problem_response(problem, request.url.path)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = dict(exc.headers) if exc.headers else None
        problem = Problem(exc.status_code, detail=detail, headers=headers)
        return problem_response(problem, request.url.path)

    async def on_domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        problem = Problem(
            exc.status, detail=str(exc), type=exc.code, headers=exc.headers, **exc.extensions
        )
        return problem_response(problem, request.url.path)

    async def on_integrity(request: Request, exc: Exception) -> Response:
        # Stored ciphertext that fails to open was altered, moved or shredded: not the
        # caller's fault, so a 500, but one that tells the operator what kind.
        log.error(
            "stored data failed to decrypt on %s %s: %s", request.method, request.url.path, exc
        )
        problem = Problem(
            500,
            "Stored data failed an integrity check",
            "A stored value could not be decrypted; an operator has been alerted.",
            type="data-integrity",
        )
        return problem_response(problem, request.url.path)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        problem = Problem(500, detail="An unexpected error occurred.")
        return problem_response(problem, request.url.path)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(DecryptionError, on_integrity)
    app.add_exception_handler(Exception, on_unexpected)
