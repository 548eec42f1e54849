"""The rules service's domain in plain Python: nomenclature, markets, rules and their versions,
conditions, rule files and the in-memory lookup. No web framework, no database."""

from __future__ import annotations


class RulesError(Exception):
    """A rule of the rule base was broken; `code` names it, the message is safe to show."""

    status = 422

    def __init__(self, code: str, message: str, **extensions: object) -> None:
        self.code = code
        self.extensions = extensions
        super().__init__(message)


class Invalid(RulesError):
    status = 422


class NotFound(RulesError):
    status = 404


class Conflict(RulesError):
    status = 409


class Unsupported(RulesError):
    status = 415
