"""The shipped rule base read straight from its files (no database): for the coverage page of
the docs, which `clearway rules coverage --markdown` renders and a test keeps current."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from clearway.services.rules.domain.categories import load_categories
from clearway.services.rules.domain.coverage import Coverage, markdown, matrix
from clearway.services.rules.domain.files import read_rule_files
from clearway.services.rules.domain.hs import nomenclature
from clearway.services.rules.domain.lookup import Catalogs, RuleBase
from clearway.services.rules.domain.markets import Markets
from clearway.services.rules.domain.versions import SYSTEM, RuleVersion, Status
from clearway.services.rules.rule_files import rule_files
from clearway.services.rules.snapshot import DATA

_ALWAYS = datetime(2000, 1, 1, tzinfo=UTC)


def coverage_markdown(data: Path = DATA) -> str:
    """The markets x categories matrix of every shipped rule, whatever its dates (so the page
    changes with the files, not with the calendar)."""
    names = nomenclature()
    markets = Markets.from_yaml(data / "markets.yaml")
    categories = load_categories(data / "categories.yaml", names)
    catalogs = Catalogs(names, markets, categories, {})
    sources = [(p.name, p.read_bytes(), "yaml") for p in rule_files(data / "rules")]
    files = read_rule_files(sources, catalogs)  # type: ignore[arg-type]
    versions = [
        RuleVersion(r.content, 1, Status.PUBLISHED, _ALWAYS, None, _ALWAYS, SYSTEM, _ALWAYS, SYSTEM)
        for f in files
        for r in f.rules
        if r.status is Status.PUBLISHED
    ]
    coverage = Coverage.from_yaml(data / "coverage.yaml", markets, categories)
    listed, cells = matrix(coverage, RuleBase(versions, categories), markets, categories, _ALWAYS)
    return markdown(listed, categories, cells)
