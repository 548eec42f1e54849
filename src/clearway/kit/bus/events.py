"""CloudEvents 1.0 in JSON structured mode: the one envelope every Clearway event travels in.

A standard envelope lets any consumer (another service, NATS, an external webhook) read an event
without knowing who wrote it, and its `id` is what consumers de-duplicate on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from clearway.kit.ids import new_id

log = logging.getLogger(__name__)

SPECVERSION = "1.0"
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class CloudEvent:
    """One event. `data` must be JSON-serialisable (orjson also accepts datetimes and UUIDs)."""

    id: str
    source: str
    type: str
    time: datetime
    data: dict[str, Any]
    subject: str | None = None
    specversion: str = SPECVERSION
    datacontenttype: str = JSON

    @classmethod
    def new(
        cls, source: str, type: str, data: dict[str, Any], subject: str | None = None
    ) -> CloudEvent:
        return cls(
            id=new_id(),
            source=source,
            type=type,
            time=datetime.now(UTC),
            data=data,
            subject=subject,
        )

    def document(self) -> dict[str, Any]:
        """The event as a CloudEvents JSON object (datetimes still as datetimes)."""
        document: dict[str, Any] = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time,
            "datacontenttype": self.datacontenttype,
            "data": self.data,
        }
        if self.subject is not None:
            document["subject"] = self.subject
        return document

    def to_json(self) -> bytes:
        # OPT_UTC_Z writes "Z" rather than "+00:00", the form RFC 3339 examples and readers use.
        return orjson.dumps(self.document(), option=orjson.OPT_UTC_Z)

    @classmethod
    def from_json(cls, raw: bytes | str) -> CloudEvent:
        """Parse and check an event; a malformed one raises `ValueError` (never half-built)."""
        return cls.from_document(orjson.loads(raw))

    @classmethod
    def from_document(cls, document: Any) -> CloudEvent:
        """Check a parsed CloudEvents JSON object; a malformed one raises `ValueError`."""
        if not isinstance(document, dict):
            raise ValueError("a CloudEvent must be a JSON object")
        if document.get("specversion") != SPECVERSION:
            raise ValueError(f"unsupported CloudEvents specversion {document.get('specversion')!r}")
        for attribute in ("id", "source", "type"):
            if not isinstance(document.get(attribute), str) or not document[attribute]:
                raise ValueError(f"CloudEvent attribute {attribute!r} must be a non-empty string")
        contenttype = document.get("datacontenttype", JSON)
        if contenttype != JSON:
            raise ValueError(f"unsupported datacontenttype {contenttype!r}")
        data = document.get("data", {})
        if not isinstance(data, dict):
            raise ValueError("CloudEvent data must be a JSON object")
        subject = document.get("subject")
        if subject is not None and not isinstance(subject, str):
            raise ValueError("CloudEvent subject must be a string")
        time = document.get("time")
        if isinstance(time, str) and time:
            time = datetime.fromisoformat(time)
        elif not isinstance(time, datetime):  # a batch built in this process holds datetimes
            raise ValueError("CloudEvent attribute 'time' must be a non-empty string")
        if time.tzinfo is None:
            raise ValueError("CloudEvent time must carry a UTC offset (RFC 3339)")
        return cls(
            id=document["id"],
            source=document["source"],
            type=document["type"],
            time=time,
            data=data,
            subject=subject,
        )


# High-volume streams (request records, searches) travel many events to one bus message: the
# envelope `<type>.batch` carries them in `data.events`, each a whole CloudEvent with its own
# id (what consumers de-duplicate on). The bus then does its work once per batch, not per event.
BATCH_SUFFIX = ".batch"


def batch(source: str, events: Sequence[CloudEvent]) -> CloudEvent:
    """One envelope for `events`, which must all be of one type."""
    types = {event.type for event in events}
    if len(types) != 1:
        raise ValueError(f"a batch holds events of one type, not {sorted(types)}")
    return CloudEvent.new(
        source, types.pop() + BATCH_SUFFIX, {"events": [e.document() for e in events]}
    )


def expand(event: CloudEvent) -> list[CloudEvent]:
    """The events a batch envelope carries, or the event itself if it is not one.

    A malformed event inside a batch is skipped (and logged): it must not sink the others.
    """
    if not event.type.endswith(BATCH_SUFFIX):
        return [event]
    items = event.data.get("events")
    if not isinstance(items, list):
        log.warning("batch %s carries no list of events", event.id)
        return []
    events = []
    for item in items:
        try:
            events.append(CloudEvent.from_document(item))
        except (ValueError, TypeError):
            log.warning("skipped a malformed event in batch %s", event.id)
    return events
