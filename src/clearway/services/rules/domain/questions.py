"""The questions that decide conditional requirements: yes/no, or a quantity in a unit."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from clearway.services.rules.domain import Invalid

QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


Number = int | float
Answer = bool | Number  # a yes/no answer, or a quantity in the question's unit


@dataclass(frozen=True, slots=True)
class Question:
    """A deciding question: yes/no, or a quantity (`kind` "number") in `unit` within bounds."""

    id: str
    text: str
    kind: Literal["yes_no", "number"] = "yes_no"
    unit: str | None = None
    min: Number | None = None
    max: Number | None = None

    @property
    def numeric(self) -> bool:
        return self.kind == "number"

    def spec(self) -> dict[str, Any] | None:
        """What a numeric question adds to its text (None for yes/no)."""
        if not self.numeric:
            return None
        return {"kind": self.kind, "unit": self.unit, "min": self.min, "max": self.max}

    def to_file(self) -> str | dict[str, Any]:
        """As a rule file writes it: the text, or a mapping for a numeric question."""
        spec = self.spec()
        if spec is None:
            return self.text
        return {"text": self.text, **{k: v for k, v in spec.items() if v is not None}}

    def check_answer(self, answer: Any) -> str | None:
        """What is wrong with an answer to this question (None: nothing)."""
        if not self.numeric:
            return None if isinstance(answer, bool) else "answer yes (true) or no (false)"
        if isinstance(answer, bool) or not isinstance(answer, int | float):
            return f"answer with a number{f' in {self.unit}' if self.unit else ''}"
        if (self.min is not None and answer < self.min) or (
            self.max is not None and answer > self.max
        ):
            return f"answer a number from {self.min} to {self.max}"
        return None


def format_number(value: Number) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


QUESTION_KEYS = frozenset({"text", "kind", "unit", "min", "max"})


def check_question(question_id: str, value: Any) -> Question:
    """A question as a rule file or the API gives it: its text (yes/no), or a mapping
    `{text: ..., kind: number, unit: Wh, min: 0, max: 100000}`."""
    if not isinstance(question_id, str) or not QUESTION_ID.match(question_id):
        raise Invalid("invalid-question", f"{question_id!r}: question ids are like 'has_radio'")
    spec: Mapping[str, Any] = value if isinstance(value, Mapping) else {"text": value}
    text = spec.get("text")
    if not isinstance(text, str) or not 5 <= len(text.strip()) <= 300:
        raise Invalid("invalid-question", f"question {question_id!r} needs a text of 5-300 chars")
    unknown = sorted(str(k) for k in set(spec) - QUESTION_KEYS)
    if unknown:
        raise Invalid("invalid-question", f"question {question_id!r}: unknown key {unknown[0]!r}")
    kind = spec.get("kind") or "yes_no"
    if kind not in ("yes_no", "number"):
        raise Invalid("invalid-question", f"question {question_id!r}: kind is yes_no or number")
    text = " ".join(text.split())
    if kind == "yes_no":
        if any(spec.get(k) is not None for k in ("unit", "min", "max")):
            raise Invalid(
                "invalid-question", f"question {question_id!r}: only a number has unit and bounds"
            )
        return Question(question_id, text)
    unit = spec.get("unit")
    if unit is not None and (not isinstance(unit, str) or not 1 <= len(unit.strip()) <= 20):
        raise Invalid("invalid-question", f"question {question_id!r}: a unit like Wh, V or kg")
    low, high = spec.get("min"), spec.get("max")
    for bound in (low, high):
        if bound is not None and (
            isinstance(bound, bool)
            or not isinstance(bound, int | float)
            or not math.isfinite(bound)
        ):
            raise Invalid("invalid-question", f"question {question_id!r}: min and max are numbers")
    if low is not None and high is not None and low > high:
        raise Invalid("invalid-question", f"question {question_id!r}: min is above max")
    return Question(question_id, text, "number", unit.strip() if unit else None, low, high)
