"""CORS from the settings (Starlette's middleware), with one change: a refused preflight is a
problem+json like every other error the gateway answers, not a plain-text body."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from clearway.kit.problems import Problem, problem_response

_BODY_HEADERS = frozenset({"content-length", "content-type"})


class ProblemCORSMiddleware(CORSMiddleware):
    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        # Starlette says what it refused ("Disallowed CORS origin, method"): keep that.
        detail = bytes(response.body).decode(errors="replace")
        headers = {k: v for k, v in response.headers.items() if k.lower() not in _BODY_HEADERS}
        return problem_response(Problem(response.status_code, detail=detail, headers=headers))
