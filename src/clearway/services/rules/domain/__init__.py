"""The rules service's domain in plain Python: nomenclature, markets, rules and their versions,
conditions, rule files and the in-memory lookup. No web framework, no database."""

from __future__ import annotations

from clearway.kit.errors import Conflict, DomainError, Invalid, NotFound, TooLarge, Unsupported

__all__ = ["Conflict", "DomainError", "Invalid", "NotFound", "TooLarge", "Unsupported"]
