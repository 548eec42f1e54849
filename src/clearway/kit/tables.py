"""The tables the kit keeps inside every service's own database (outbox, inbox, data keys).

Kit modules declare their tables on `metadata`; each service's first migration creates them.
"""

from __future__ import annotations

from sqlalchemy import Connection, MetaData

metadata = MetaData()


def create_kit_tables(connection: Connection) -> None:
    # Imported here so every kit module has registered its tables on `metadata`.
    from clearway.kit.bus import outbox  # noqa: F401
    from clearway.kit.crypto import envelope  # noqa: F401

    metadata.create_all(connection)
