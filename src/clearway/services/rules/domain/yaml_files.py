"""Rule files in YAML: read with the line of every rule and field, refusing what safe loading
still allows to hurt; written as clearway-rules/2 where every rule has what version 2 needs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import yaml  # type: ignore[import-untyped]
from yaml.nodes import MappingNode, ScalarNode  # type: ignore[import-untyped]

from clearway.services.rules.domain import Invalid
from clearway.services.rules.domain.content import DEFAULT_OPERATORS, REQUIRED_V2
from clearway.services.rules.domain.file_model import (
    FORMATS,
    V1,
    V2,
    FileError,
    FileRule,
    RuleFileInvalid,
    format_moment,
)
from clearway.services.rules.domain.questions import Question, check_question
from clearway.services.rules.domain.versions import Status

MAX_DEPTH = 8  # a rule file is three levels deep; anything much deeper is not one
_YAML_NESTING = (
    yaml.BlockMappingStartToken,
    yaml.BlockSequenceStartToken,
    yaml.FlowMappingStartToken,
    yaml.FlowSequenceStartToken,
)
_YAML_CLOSING = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


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


def read_yaml(
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
