"""Reading rule files (YAML or CSV) as one import: every rule checked, every error reported
with its file and line, nothing applied while any remains."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from clearway.services.rules.domain import Invalid, TooLarge, Unsupported
from clearway.services.rules.domain.checking import Catalog, build_content
from clearway.services.rules.domain.csv_files import read_csv
from clearway.services.rules.domain.file_model import (
    V1,
    V2,
    VERSION_FIELDS,
    FileError,
    FileRule,
    RuleFile,
    RuleFileInvalid,
    parse_moment,
)
from clearway.services.rules.domain.questions import Question
from clearway.services.rules.domain.versions import Status, check_window
from clearway.services.rules.domain.yaml_files import read_yaml

Format = Literal["yaml", "csv"]
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_RULES = 5000


def detect_format(filename: str, declared: str | None = None) -> Format:
    name = (declared or filename).lower()
    if name.endswith(("yaml", "yml")):
        return "yaml"
    if name.endswith("csv"):
        return "csv"
    raise Unsupported("unsupported-format", "Rule files are YAML (.yaml, .yml) or CSV (.csv).")


def decode(filename: str, data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise TooLarge(
            "file-too-large", f"{filename}: a rule file may have at most {MAX_FILE_BYTES} bytes."
        )
    if b"\x00" in data:
        raise Unsupported("binary-file", f"{filename}: this is a binary file, not a rule file.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unsupported("binary-file", f"{filename}: rule files are UTF-8 text.") from exc


def read_rule_file(filename: str, data: bytes, fmt: Format, catalog: Catalog) -> RuleFile:
    """Parse and check a whole file; `RuleFileInvalid` lists every error with its line."""
    text = decode(filename, data)
    if fmt == "yaml":
        questions, entries, errors, version = read_yaml(filename, text)
    else:
        (questions, entries, errors), version = read_csv(filename, text), V1
    if not questions and not entries and not errors:
        raise RuleFileInvalid([FileError(filename, 1, "the file holds no rules or questions")])
    known = {**catalog.questions, **{q.id: q for _, q in questions}}
    checking = _WithQuestions(catalog, known)
    rules: list[FileRule] = []
    seen: dict[str, int] = {}
    for line, raw in entries:
        rule, problems = _entry(filename, line, raw, checking, strict=version == V2)
        errors.extend(problems)
        if rule is None:
            continue
        code = rule.content.code
        if code in seen:
            errors.append(FileError(filename, line, f"rule {code} is already on line {seen[code]}"))
        seen[code] = line
        rules.append(rule)
    if len(entries) > MAX_RULES:
        errors.append(FileError(filename, 1, f"a file may hold at most {MAX_RULES} rules"))
    if errors:
        raise RuleFileInvalid(sorted(errors, key=lambda e: e.line))
    return RuleFile([q for _, q in questions], rules)


@dataclass(frozen=True)
class _WithQuestions:
    base: Catalog
    questions: Mapping[str, Question]

    @property
    def nomenclature(self) -> Any:
        return self.base.nomenclature

    @property
    def markets(self) -> Any:
        return self.base.markets

    @property
    def categories(self) -> Any:
        return self.base.categories


def _entry(
    filename: str, line: int, raw: Mapping[str, Any], catalog: Catalog, *, strict: bool
) -> tuple[FileRule | None, list[FileError]]:
    lines = getattr(raw, "lines", {})
    fields = {k: v for k, v in raw.items() if k not in VERSION_FIELDS}
    content, problems = build_content(fields, catalog, strict=strict)
    errors = [
        FileError(filename, lines.get(p.field, line), f"{p.field} {p.message}") for p in problems
    ]
    status_value = raw.get("status") or Status.PUBLISHED.value
    try:
        status = Status(status_value)
    except ValueError:
        errors.append(
            FileError(
                filename, lines.get("status", line), "status must be draft, published or retired"
            )
        )
        status = Status.DRAFT
    moments: dict[str, datetime | None] = {}
    for name in ("effective_from", "effective_to"):
        try:
            moments[name] = parse_moment(raw.get(name))
        except Invalid as exc:
            errors.append(FileError(filename, lines.get(name, line), f"{name} {exc}"))
    if strict and status is Status.PUBLISHED and not moments.get("effective_from"):
        errors.append(
            FileError(
                filename,
                lines.get("effective_from", line),
                f"effective_from is required in {V2}: the date the rule applies from",
            )
        )
    if moments.get("effective_from") and moments.get("effective_to"):
        try:
            check_window(moments["effective_from"], moments["effective_to"])  # type: ignore[arg-type]
        except Invalid as exc:
            errors.append(FileError(filename, lines.get("effective_to", line), str(exc)))
    if errors or content is None:
        return None, errors
    return (
        FileRule(
            filename, line, content, status, moments["effective_from"], moments["effective_to"]
        ),
        [],
    )


def read_rule_files(
    sources: Iterable[tuple[str, bytes, Format]], catalog: Catalog
) -> list[RuleFile]:
    """Several files as one import: questions of earlier files are known to later ones, and
    every error of every file is reported together."""
    known = dict(catalog.questions)
    files, errors = [], []
    for filename, data, fmt in sources:
        try:
            rule_file = read_rule_file(filename, data, fmt, _WithQuestions(catalog, known))
        except RuleFileInvalid as exc:
            errors.extend(exc.errors)
            continue
        known.update({q.id: q for q in rule_file.questions})
        files.append(rule_file)
    if errors:
        raise RuleFileInvalid(errors)
    return files
