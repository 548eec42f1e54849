"""Domain errors every service raises: plain Python, so `domain.py` modules can use them.

`status` is what the API answers with, `code` names the broken rule (it becomes the problem
type), the message is safe to show, and extensions travel as problem members. The kit turns
them into RFC 9457 problem+json on every service (`kit.problems`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DomainError(Exception):
    status = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        self.code = code
        self.headers = dict(headers or {})
        self.extensions = extensions
        super().__init__(message)


class Unauthorized(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class TooLarge(DomainError):
    status = 413


class Unsupported(DomainError):
    status = 415


class Invalid(DomainError):
    status = 422


class Unavailable(DomainError):
    status = 503
