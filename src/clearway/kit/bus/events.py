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


# High-volume streams (request records, searches) travel many events to one bus message, the
# envelope `<type>.batch`, so the bus does its work once per batch, not per event. Its data is a
# table: `fields` names the payload's fields, and each of `rows` is one event, its time (seconds
# since the Unix epoch) then its fields' values in that order. Event `i` of the batch has the id
# `<key>-<first + i>`: the same for a redelivered envelope and for the halves of a split one,
# so consumers de-duplicate on it as on any event id. Rows repeat nothing per event (whole
# CloudEvents did: an envelope and an id each, 400 bytes a request record against 144), and a
# producer appends a tuple where it built an event.
BATCH_SUFFIX = ".batch"


def batch(
    source: str,
    type: str,
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    key: str | None = None,
    first: int = 0,
) -> CloudEvent:
    """One envelope for events of `type`: each row is an event's time (seconds since the epoch)
    then the values of `fields` in order. The key is new unless given (see `split`)."""
    data = {"key": key or new_id(), "first": first, "fields": list(fields), "rows": rows}
    return CloudEvent.new(source, type + BATCH_SUFFIX, data)


def split(envelope: CloudEvent) -> tuple[CloudEvent, CloudEvent]:
    """A batch as two envelopes of half its rows each, whose events keep their ids (for a bus
    whose messages are smaller than the batch). `ValueError` if it cannot be split."""
    data = envelope.data
    rows = data.get("rows") if envelope.type.endswith(BATCH_SUFFIX) else None
    if not isinstance(rows, list | tuple) or len(rows) < 2:
        raise ValueError(f"event {envelope.id} is not a batch of two rows or more")
    half, kind = len(rows) // 2, envelope.type.removesuffix(BATCH_SUFFIX)
    key, fields, first = data["key"], data["fields"], data["first"]
    return (
        batch(envelope.source, kind, fields, rows[:half], key=key, first=first),
        batch(envelope.source, kind, fields, rows[half:], key=key, first=first + half),
    )


def expand(event: CloudEvent) -> list[CloudEvent]:
    """The events a batch envelope carries, or the event itself if it is not one.

    A malformed row or event inside a batch is skipped (and logged): it must not sink the
    others. Batches of whole CloudEvents in `data.events`, the form before rows, are still
    read: a durable queue may hold some from before an upgrade.
    """
    if not event.type.endswith(BATCH_SUFFIX):
        return [event]
    if "rows" in event.data:
        return _from_rows(event)
    items = event.data.get("events")
    if not isinstance(items, list):
        log.warning("batch %s carries no rows and no list of events", event.id)
        return []
    events = []
    for item in items:
        try:
            events.append(CloudEvent.from_document(item))
        except (ValueError, TypeError):
            log.warning("skipped a malformed event in batch %s", event.id)
    return events


def _from_rows(envelope: CloudEvent) -> list[CloudEvent]:
    data = envelope.data
    key, first, fields, rows = data.get("key"), data.get("first"), data.get("fields"), data["rows"]
    if not (
        isinstance(key, str)
        and key
        and type(first) is int
        and first >= 0
        and isinstance(fields, list)
        and all(isinstance(field, str) for field in fields)
        and isinstance(rows, list | tuple)
    ):
        log.warning("batch %s has malformed rows", envelope.id)
        return []
    kind, width = envelope.type.removesuffix(BATCH_SUFFIX), len(fields) + 1
    events = []
    for number, row in enumerate(rows, start=first):
        try:
            if not isinstance(row, list | tuple) or len(row) != width:
                raise ValueError("a row of the wrong length")
            if type(row[0]) not in (int, float):
                raise ValueError("a time that is not a number")
            time = datetime.fromtimestamp(row[0], UTC)
        except (ValueError, OverflowError, OSError):
            log.warning("skipped a malformed row in batch %s", envelope.id)
            continue
        values = dict(zip(fields, row[1:], strict=True))
        events.append(CloudEvent(f"{key}-{number}", envelope.source, kind, time, values))
    return events
