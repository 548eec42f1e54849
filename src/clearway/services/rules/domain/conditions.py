"""Conditions: the answer to a deciding question under which a requirement applies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clearway.services.rules.domain.questions import Answer, Number, format_number

COMPARISONS = ("gt", "ge", "lt", "le", "between")
_COMPARISON_TEXT = {"gt": "more than", "ge": "at least", "lt": "less than", "le": "at most"}


@dataclass(frozen=True, slots=True)
class Condition:
    """When a requirement applies: an answer to a yes/no question, or a range of a quantity
    (every bound must hold: `{gt: 100, le: 160}`)."""

    question: str
    applies_when: bool | None = None
    bounds: tuple[tuple[str, Number | tuple[Number, Number]], ...] = ()

    @property
    def numeric(self) -> bool:
        return bool(self.bounds)

    def holds(self, answer: Answer) -> bool:
        if not self.numeric:
            return isinstance(answer, bool) and answer == self.applies_when
        if isinstance(answer, bool):
            return False
        for op, bound in self.bounds:
            if isinstance(bound, tuple):
                if not bound[0] <= answer <= bound[1]:
                    return False
            elif not {
                "gt": answer > bound,
                "ge": answer >= bound,
                "lt": answer < bound,
                "le": answer <= bound,
            }[op]:
                return False
        return True

    def data(self) -> bool | dict[str, Any]:
        """As stored and written in rule files: yes/no, or {op: bound}."""
        if not self.numeric:
            assert self.applies_when is not None
            return self.applies_when
        return {op: list(b) if isinstance(b, tuple) else b for op, b in self.bounds}

    def describe(self, unit: str | None = None) -> str:
        """ "yes", or "more than 100 Wh" (the answer under which it applies)."""
        if not self.numeric:
            return "yes" if self.applies_when else "no"
        suffix = f" {unit}" if unit else ""
        parts = []
        for op, bound in self.bounds:
            if isinstance(bound, tuple):
                parts.append(f"from {format_number(bound[0])} to {format_number(bound[1])}{suffix}")
            else:
                parts.append(f"{_COMPARISON_TEXT[op]} {format_number(bound)}{suffix}")
        return " and ".join(parts)

    @classmethod
    def from_data(cls, question: str, data: Any) -> Condition:
        """From `data()` output that was validated when it was stored."""
        if isinstance(data, Mapping):
            return cls(
                question,
                None,
                tuple((op, tuple(b) if isinstance(b, list) else b) for op, b in data.items()),
            )
        return cls(question, bool(data))
