"""The rules service's tables. No personal data: owners of checklists are user ids only."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, PrimaryKeyConstraint, String, Table, Text

from clearway.kit.db import UTCDateTime

metadata = MetaData()

# Every version of every rule; `content` is the rule as JSON (RuleContent.to_dict()).
rule_versions = Table(
    "rule_versions",
    metadata,
    Column("code", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("market", String(8), nullable=False),
    Column("content", Text, nullable=False),
    Column("effective_from", UTCDateTime(), nullable=True),
    Column("effective_to", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("updated_by", String(64), nullable=False),
    PrimaryKeyConstraint("code", "version"),
)

# Who changed what and when, with the change itself (field: {from, to}).
rule_history = Table(
    "rule_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("action", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("changes", Text, nullable=False),
    Column("source", String(300), nullable=True),  # the rule file, for imports
)

# The questions that decide conditional requirements, shared by the rules that ask them.
questions = Table(
    "questions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("text", Text, nullable=False),
    Column("spec", Text, nullable=True),  # JSON {kind, unit, min, max} of a numeric question
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("updated_by", String(64), nullable=False),
)

# A customer's self-check: the product, the answers and the requirements as they were decided.
checklists = Table(
    "checklists",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner_id", String(32), nullable=False),
    Column("market", String(8), nullable=False),
    Column("hs_code", String(10), nullable=True),
    Column("category", String(64), nullable=True),
    Column("answers", Text, nullable=False),
    Column("requirements", Text, nullable=False),
    Column("as_of", String(10), nullable=True),  # the date it was decided for (None: today)
    Column("coverage", Text, nullable=True),  # JSON {coverage, reason} when it was decided
    # Counted from `requirements` whenever they are decided, for lists (`checklists.counts`).
    Column("requirement_count", Integer, nullable=False),
    Column("applies_count", Integer, nullable=False),
    Column("undecided_count", Integer, nullable=False),
    Column("open_question_count", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

Index("ix_rule_history_code", rule_history.c.code, rule_history.c.id)
Index("ix_rule_versions_updated", rule_versions.c.updated_at)
Index("ix_checklists_owner", checklists.c.owner_id, checklists.c.created_at)
