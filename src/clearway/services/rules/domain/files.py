"""Rule files in YAML and CSV (schema in docs/rule-files.md): read with every error's file and
line, written back in the same shape so that exporting and importing again changes nothing.

Two formats: `clearway-rules/1` (and files that name none, and CSV) where the fields added in
version 2 are optional, and `clearway-rules/2`, where a rule must also name its measure, source
url, last-verified date and, when published, the date it applies from."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import Any, Literal

import yaml  # type: ignore[import-untyped]
from yaml.nodes import MappingNode, ScalarNode  # type: ignore[import-untyped]

from clearway.services.rules.domain import Invalid, TooLarge, Unsupported
from clearway.services.rules.domain.model import (
    DEFAULT_OPERATORS,
    FIELDS,
    REQUIRED_V2,
    Catalog,
    Condition,
    Question,
    RuleContent,
    Status,
    build_content,
    check_question,
    check_window,
    sane,
)

Format = Literal["yaml", "csv"]
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_RULES = 5000
MAX_DEPTH = 8  # a rule file is three levels deep; anything much deeper is not one
LIST_SEPARATOR = "|"
VERSION_FIELDS = ("status", "effective_from", "effective_to")
CSV_COLUMNS = (*FIELDS, *VERSION_FIELDS)
_LIST_FIELDS = ("issuers", "hs_codes", "categories", "operators", "regions")
V1 = "clearway-rules/1"
V2 = "clearway-rules/2"
FORMATS = (V1, V2)
_YAML_NESTING = (
    yaml.BlockMappingStartToken,
    yaml.BlockSequenceStartToken,
    yaml.FlowMappingStartToken,
    yaml.FlowSequenceStartToken,
)
_YAML_CLOSING = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


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
        questions, entries, errors, version = _read_yaml(filename, text)
    else:
        (questions, entries, errors), version = _read_csv(filename, text), V1
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


# --- YAML --------------------------------------------------------------------------------


class _LineDict(dict[str, Any]):
    line: int
    lines: dict[str, int]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe loading that remembers the line of every mapping and of each of its keys."""


def _construct_mapping(loader: _Loader, node: MappingNode) -> _LineDict:
    mapping = _LineDict(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    mapping.lines = {
        str(key.value): key.start_mark.line + 1
        for key, _ in node.value
        if isinstance(key, ScalarNode)
    }
    return mapping


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def _screen_yaml(filename: str, text: str) -> None:
    """Refuse what safe loading still allows to hurt: aliases (billion laughs) and deep nesting."""
    depth = 0
    try:
        for token in yaml.scan(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            if isinstance(token, yaml.AliasToken | yaml.AnchorToken):
                raise RuleFileInvalid(
                    [
                        FileError(
                            filename,
                            token.start_mark.line + 1,
                            "anchors and aliases are not allowed",
                        )
                    ]
                )
            if isinstance(token, _YAML_NESTING):
                depth += 1
                if depth > MAX_DEPTH:
                    raise RuleFileInvalid(
                        [FileError(filename, token.start_mark.line + 1, "nested too deeply")]
                    )
            elif isinstance(token, _YAML_CLOSING):
                depth -= 1
    except yaml.YAMLError as exc:
        raise RuleFileInvalid([_yaml_error(filename, exc)]) from None


def _yaml_error(filename: str, exc: yaml.YAMLError) -> FileError:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "is not valid YAML"
    return FileError(filename, mark.line + 1 if mark else 1, f"not valid YAML: {problem}")


def _read_yaml(
    filename: str, text: str
) -> tuple[list[tuple[int, Question]], list[tuple[int, Mapping[str, Any]]], list[FileError], str]:
    _screen_yaml(filename, text)
    try:
        document = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        raise RuleFileInvalid([_yaml_error(filename, exc)]) from None
    if document is None:
        document = _LineDict()
        document.line, document.lines = 1, {}
    if not isinstance(document, _LineDict):
        raise RuleFileInvalid([FileError(filename, 1, "a rule file is a mapping with 'rules:'")])
    errors: list[FileError] = []
    for key in document:
        if key not in ("format", "questions", "rules"):
            errors.append(
                FileError(filename, document.lines.get(key, 1), f"unknown section {key!r}")
            )
    version = document.get("format", V1)
    if version not in FORMATS:
        raise RuleFileInvalid(
            [
                FileError(
                    filename,
                    document.lines.get("format", 1),
                    f"unknown format {str(version)[:40]!r}:"
                    f" this version reads {' and '.join(FORMATS)}",
                )
            ]
        )
    questions: list[tuple[int, Question]] = []
    raw_questions = document.get("questions")
    if raw_questions is None:
        pass
    elif not isinstance(raw_questions, _LineDict):
        errors.append(
            FileError(filename, document.lines.get("questions", 1), "questions: map ids to texts")
        )
    else:
        for qid, qtext in raw_questions.items():
            line = raw_questions.lines.get(str(qid), raw_questions.line)
            try:
                questions.append((line, check_question(qid, qtext)))
            except Invalid as exc:
                errors.append(FileError(filename, line, str(exc)))
    entries: list[tuple[int, Mapping[str, Any]]] = []
    raw_rules = document.get("rules") or []
    if not isinstance(raw_rules, list):
        errors.append(FileError(filename, document.lines.get("rules", 1), "rules: must be a list"))
        raw_rules = []
    for position, raw in enumerate(raw_rules, 1):
        if not isinstance(raw, _LineDict):
            line = document.lines.get("rules", 1)
            errors.append(FileError(filename, line, f"rule #{position} is not a mapping"))
            continue
        entries.append((raw.line, raw))
    return questions, entries, errors, str(version)


def complete(rule: FileRule) -> bool:
    """Whether a rule has what a clearway-rules/2 file requires of it."""
    data = rule.content.to_dict()
    dated = rule.status is not Status.PUBLISHED or rule.effective_from is not None
    return dated and all(data[name] for name in REQUIRED_V2)


def dump_yaml(rules: Iterable[FileRule], questions: Mapping[str, Question]) -> str:
    """A clearway-rules/2 file; clearway-rules/1 when some rule lacks what version 2 requires
    (imported from an older file or created without it), so that the export imports back."""
    rules = list(rules)
    used = sorted({c.question for r in rules for c in r.content.conditions})
    document: dict[str, Any] = {
        "format": V2 if all(complete(r) for r in rules) else V1,
        "questions": {q: questions[q].to_file() for q in used if q in questions},
        "rules": [_yaml_rule(rule) for rule in rules],
    }
    return str(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100))


def _yaml_rule(rule: FileRule) -> dict[str, Any]:
    document = {k: v for k, v in rule.content.to_dict().items() if v not in (None, [], {})}
    if document.get("match") == "all":
        del document["match"]
    if document.get("operators") == list(DEFAULT_OPERATORS):
        del document["operators"]
    if rule.content.last_verified is not None:
        document["last_verified"] = rule.content.last_verified
    document["status"] = rule.status.value
    for name in ("effective_from", "effective_to"):
        moment = getattr(rule, name)
        if moment is not None:
            text = format_moment(moment)
            document[name] = date.fromisoformat(text) if text and len(text) == 10 else text
    return document


# --- CSV ---------------------------------------------------------------------------------


def _read_csv(
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


def with_defaults(rule: FileRule, now: datetime) -> FileRule:
    """A published rule without an effective date takes effect when it is imported."""
    if rule.status is Status.PUBLISHED and rule.effective_from is None:
        return replace(rule, effective_from=now)
    return rule


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
