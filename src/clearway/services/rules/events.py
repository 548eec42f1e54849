"""`search.performed`: one event per search, for the monitor's search statistics.

Searches are telemetry: they go out through the service's `Telemetry` in batches, straight to
the bus, so a search never waits for a database write (an outbox row per search would put
every search behind SQLite's single writer and the relay). A hard crash loses at most the
last quarter second of them.
"""

from __future__ import annotations

from clearway.contracts._types import CallerRole
from clearway.contracts.rules import SearchPerformed


def search_performed(
    *, query: str | None, hs_code: str | None, category: str | None, market: str, role: CallerRole
) -> SearchPerformed:
    """What monitor's search statistics need; deliberately nothing about who searched."""
    return SearchPerformed(
        query=query,
        hs_code=hs_code,
        hs_chapter=hs_code[:2] if hs_code else None,
        hs_heading=hs_code[:4] if hs_code and len(hs_code) >= 4 else None,
        category=category,
        market=market,
        role=role,
    )
