"""Rule files in CSV: one rule a row, lists joined with `|`, conditions as `question=yes` or
`question=gt:100`; always clearway-rules/1."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

from clearway.services.rules.domain import Invalid
from clearway.services.rules.domain.conditions import Condition
from clearway.services.rules.domain.content import FIELDS
from clearway.services.rules.domain.file_model import (
    VERSION_FIELDS,
    FileError,
    FileRule,
    RuleFileInvalid,
    format_moment,
)
from clearway.services.rules.domain.questions import Question

LIST_SEPARATOR = "|"
CSV_COLUMNS = (*FIELDS, *VERSION_FIELDS)
_LIST_FIELDS = ("issuers", "hs_codes", "categories", "operators", "regions")


def read_csv(
    filename: str, text: str
) -> tuple[list[tuple[int, Question]], list[tuple[int, Mapping[str, Any]]], list[FileError]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    errors: list[FileError] = []
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise RuleFileInvalid([FileError(filename, 1, f"not valid CSV: {exc}")]) from None
    if header is None:
        return [], [], []
    header = [h.strip() for h in header]
    if not any(header):
        return [], [], []
    unknown = [h for h in header if h not in CSV_COLUMNS]
    missing = [c for c in ("code", "market", "title") if c not in header]
    if unknown or missing:
        problems = [f"unknown column {h!r}" for h in unknown] + [
            f"missing column {c!r}" for c in missing
        ]
        raise RuleFileInvalid([FileError(filename, 1, p) for p in problems])
    entries: list[tuple[int, Mapping[str, Any]]] = []
    line = reader.line_num
    while True:
        start = line + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(FileError(filename, start, f"not valid CSV: {exc}"))
            break
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            errors.append(
                FileError(filename, start, f"has {len(row)} cells, the header has {len(header)}")
            )
            continue
        try:
            entries.append((start, _csv_entry(dict(zip(header, row, strict=True)))))
        except Invalid as exc:
            errors.append(FileError(filename, start, str(exc)))
    return [], entries, errors


def _csv_entry(row: dict[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for name, cell in row.items():
        cell = cell.strip()
        if name in _LIST_FIELDS:
            entry[name] = [p.strip() for p in cell.split(LIST_SEPARATOR) if p.strip()]
        elif name == "conditions":
            entry[name] = _csv_conditions(cell)
        elif name == "validity_months":
            if cell and not cell.isdigit():
                raise Invalid("invalid-number", "validity_months must be a whole number")
            entry[name] = int(cell) if cell else None
        else:
            entry[name] = cell or None
    return entry


def _csv_number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def _csv_conditions(cell: str) -> dict[str, Any]:
    """`radio=yes|battery_wh=gt:100|battery_wh=le:160|age=between:0:36`."""
    conditions: dict[str, Any] = {}
    for part in (p.strip() for p in cell.split(LIST_SEPARATOR)):
        if not part:
            continue
        question, sep, answer = (x.strip() for x in part.partition("="))
        answer = answer.lower()
        op, _, bound = answer.partition(":")
        try:
            if not sep:
                raise ValueError
            if answer in ("yes", "no"):
                conditions[question] = answer == "yes"
            elif op == "between":
                low, _, high = bound.partition(":")
                conditions.setdefault(question, {})[op] = [_csv_number(low), _csv_number(high)]
            elif op in ("gt", "ge", "lt", "le"):
                conditions.setdefault(question, {})[op] = _csv_number(bound)
            else:
                raise ValueError
        except (ValueError, TypeError):
            raise Invalid(
                "invalid-conditions",
                f"conditions: write question=yes, question=no or question=gt:100, not {part!r}",
            ) from None
    return conditions


def _csv_condition(condition: Condition) -> str:
    data = condition.data()
    if isinstance(data, bool):
        return f"{condition.question}={'yes' if data else 'no'}"
    return LIST_SEPARATOR.join(
        f"{condition.question}={op}:{':'.join(str(b) for b in bound)}"
        if isinstance(bound, list)
        else f"{condition.question}={op}:{bound}"
        for op, bound in data.items()
    )


def dump_csv(rules: Iterable[FileRule]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for rule in rules:
        data = rule.content.to_dict()
        row = []
        for name in CSV_COLUMNS:
            if name in _LIST_FIELDS:
                row.append(LIST_SEPARATOR.join(data[name]))
            elif name == "conditions":
                row.append(LIST_SEPARATOR.join(_csv_condition(c) for c in rule.content.conditions))
            elif name == "status":
                row.append(rule.status.value)
            elif name in ("effective_from", "effective_to"):
                row.append(format_moment(getattr(rule, name)) or "")
            else:
                value = data[name]
                row.append("" if value is None else str(value))
        writer.writerow(row)
    return out.getvalue()
