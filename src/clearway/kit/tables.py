"""The tables the kit keeps inside every service's own database (outbox, inbox, data keys).

Kit modules declare their tables on `metadata`; each service's first migration creates them
(`clearway.kit.migrations.create_kit_tables`).
"""

from __future__ import annotations

from sqlalchemy import MetaData

metadata = MetaData()
