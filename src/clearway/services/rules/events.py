"""The events the rules service reacts to and the telemetry it sends.

`rule.published`/`rule.retired`: the snapshot searches read is rebuilt, here and (through the
cache bus) in every other rules process. Published here or in another process (the CLI,
another worker), each event reaches only one of the competing consumers.

`search.performed`: one event per search, for the monitor's search statistics. Searches are
telemetry: they go out through the service's `Telemetry` in batches, straight to the bus, so a
search never waits for a database write (an outbox row per search would put every search behind
SQLite's single writer and the relay). A hard crash loses at most the last quarter second of
them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clearway.contracts._types import CallerRole
from clearway.contracts.rules import (
    RulePublished,
    RuleRetired,
    RuleVersionEvent,
)
from clearway.kit.bus import Subscription, subscribe
from clearway.kit.cache_bus import CacheBus
from clearway.services.rules.snapshot import RuleSnapshot

CHANNEL, SNAPSHOT_KEY = "rules", "snapshot"


def rule_changes(snapshot: RuleSnapshot, cache: CacheBus) -> Subscription:
    """Rebuild the snapshot when a rule is published or retired, in every process."""

    async def on_rules_changed(event: RuleVersionEvent, session: AsyncSession) -> None:
        snapshot.invalidate()
        await cache.publish(CHANNEL, SNAPSHOT_KEY)

    cache.subscribe(CHANNEL, lambda key: snapshot.invalidate())
    return subscribe((RulePublished, RuleRetired), on_rules_changed)


def search_performed(
    *, query: str | None, hs_code: str | None, category: str | None, market: str, role: CallerRole
) -> dict[str, Any]:
    """A `SearchPerformed`'s values: what monitor's search statistics need, deliberately nothing
    about who searched. Typed by this signature, so the event is built without validation."""
    return {
        "query": query,
        "hs_code": hs_code,
        "hs_chapter": hs_code[:2] if hs_code else None,
        "hs_heading": hs_code[:4] if hs_code and len(hs_code) >= 4 else None,
        "category": category,
        "market": market,
        "role": role,
    }
