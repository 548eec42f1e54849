"""What a rule file holds: its rules with the version state each asks for, its questions, and
errors that name their file and line (schema in docs/rule-files.md).

Two formats: `clearway-rules/1` (and files that name none, and CSV) where the fields added in
version 2 are optional, and `clearway-rules/2`, where a rule must also name its measure, source
url, last-verified date and, when published, the date it applies from."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import Any

from clearway.services.rules.domain import Invalid
from clearway.services.rules.domain.content import RuleContent
from clearway.services.rules.domain.questions import Question
from clearway.services.rules.domain.versions import Status, sane

V1 = "clearway-rules/1"
V2 = "clearway-rules/2"
FORMATS = (V1, V2)
VERSION_FIELDS = ("status", "effective_from", "effective_to")


@dataclass(frozen=True, slots=True)
class FileError:
    file: str
    line: int
    message: str


class RuleFileInvalid(Invalid):
    """A rule file has errors; none of it is applied."""

    def __init__(self, errors: list[FileError]) -> None:
        self.errors = errors
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(
            "invalid-rule-file",
            f"{first.file}, line {first.line}: {first.message}{more}",
            errors=[{"file": e.file, "line": e.line, "message": e.message} for e in errors],
        )


@dataclass(frozen=True, slots=True)
class FileRule:
    """One rule of a file: its content and the version state the file asks for."""

    file: str
    line: int
    content: RuleContent
    status: Status
    effective_from: datetime | None
    effective_to: datetime | None


@dataclass(frozen=True, slots=True)
class RuleFile:
    questions: list[Question]
    rules: list[FileRule]


def parse_moment(value: Any) -> datetime | None:
    """A date (midnight UTC) or an ISO 8601 date-time (UTC when no offset is given)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(), UTC)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise Invalid("invalid-date", "must be a date like 2024-12-13") from None
    else:
        raise Invalid("invalid-date", "must be a date like 2024-12-13")
    if not sane(moment):
        raise Invalid("invalid-date", "must be a date from 1900 to 2100")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def format_moment(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.time() == time() and moment.utcoffset() is not None:
        return moment.date().isoformat()
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def with_defaults(rule: FileRule, now: datetime) -> FileRule:
    """A published rule without an effective date takes effect when it is imported."""
    if rule.status is Status.PUBLISHED and rule.effective_from is None:
        return replace(rule, effective_from=now)
    return rule
