"""`search.performed`: one event per search, for the monitor's search statistics.

Searches are telemetry: they go out through the service's `Telemetry` in batches, straight to
the bus, so a search never waits for a database write (an outbox row per search would put
every search behind SQLite's single writer and the relay). A hard crash loses at most the
last quarter second of them.
"""

from __future__ import annotations

from clearway.kit.bus import CloudEvent

SOURCE = "/clearway/rules"
SEARCH_PERFORMED = "search.performed"
# A saved checklist's answers changed, so what applies to it may have (orders re-checks the
# clearances issued on it). Sent through the outbox with the change, unlike searches.
CHECKLIST_ANSWERED = "checklist.answered"


def checklist_answered(checklist_id: str) -> CloudEvent:
    return CloudEvent.new(
        SOURCE, CHECKLIST_ANSWERED, {"checklist_id": checklist_id}, subject=checklist_id
    )


def search_performed(
    *, query: str | None, hs_code: str | None, category: str | None, market: str, role: str
) -> CloudEvent:
    """What monitor's search statistics need; deliberately nothing about who searched."""
    return CloudEvent.new(
        SOURCE,
        SEARCH_PERFORMED,
        {
            "query": query,
            "hs_code": hs_code,
            "hs_chapter": hs_code[:2] if hs_code else None,
            "hs_heading": hs_code[:4] if hs_code and len(hs_code) >= 4 else None,
            "category": category,
            "market": market,
            "role": role,
        },
    )
