"""Deciding whether a conditional requirement applies, given a customer's answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from clearway.services.rules.domain.conditions import Condition
from clearway.services.rules.domain.content import RuleContent
from clearway.services.rules.domain.questions import Answer, Question, format_number


@dataclass(frozen=True, slots=True)
class Decision:
    applies: bool | None  # None: not decided yet (a deciding question is unanswered)
    reason: str
    open_questions: tuple[str, ...] = field(default=())


def _answered(answer: Answer, question: Question | None) -> str:
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    unit = question.unit if question else None
    return f"{format_number(answer)}{f' {unit}' if unit else ''}"


def decide(
    content: RuleContent, answers: Mapping[str, Answer], questions: Mapping[str, Question]
) -> Decision:
    """Whether a requirement applies given the customer's answers.

    `all`: applies when every deciding answer is the one it names, not when any differs.
    `any`: applies when one does, not when none can any more.
    """
    if not content.conditions:
        return Decision(True, "Mandatory for every product in this scope.")

    def text(question: str) -> str:
        found = questions.get(question)
        return found.text if found else question

    def wanted(c: Condition) -> str:
        found = questions.get(c.question)
        return c.describe(found.unit if found else None)

    hits, misses, open_ = [], [], []
    for condition in content.conditions:
        answer = answers.get(condition.question)
        if answer is None:
            open_.append(condition.question)
        elif condition.holds(answer):
            hits.append(condition)
        else:
            misses.append((condition, answer))
    if content.match == "all":
        if misses:
            c, given = misses[0]
            return Decision(
                False,
                f"Does not apply: you answered {_answered(given, questions.get(c.question))} to "
                f"\u201c{text(c.question)}\u201d.",
            )
        if not open_:
            return Decision(
                True,
                "Applies: "
                + "; ".join(f"\u201c{text(c.question)}\u201d \u2192 {wanted(c)}" for c in hits),
            )
    else:
        if hits:
            c = hits[0]
            given = answers[c.question]
            return Decision(
                True,
                f"Applies: you answered {_answered(given, questions.get(c.question))} to "
                f"\u201c{text(c.question)}\u201d.",
            )
        if not open_:
            return Decision(False, "Does not apply: none of the deciding answers holds.")
    return Decision(
        None,
        "Not decided yet: answer " + "; ".join(f"\u201c{text(q)}\u201d" for q in open_),
        tuple(open_),
    )
