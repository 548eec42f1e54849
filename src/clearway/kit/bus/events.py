"""CloudEvents 1.0 in JSON structured mode: the one envelope every Clearway event travels in.

A standard envelope lets any consumer (another service, NATS, an external webhook) read an event
without knowing who wrote it, and its `id` is what consumers de-duplicate on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from clearway.kit.ids import new_id

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

    def to_json(self) -> bytes:
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
        # OPT_UTC_Z writes "Z" rather than "+00:00", the form RFC 3339 examples and readers use.
        return orjson.dumps(document, option=orjson.OPT_UTC_Z)

    @classmethod
    def from_json(cls, raw: bytes | str) -> CloudEvent:
        """Parse and check an event; a malformed one raises `ValueError` (never half-built)."""
        document = orjson.loads(raw)
        if not isinstance(document, dict):
            raise ValueError("a CloudEvent must be a JSON object")
        if document.get("specversion") != SPECVERSION:
            raise ValueError(f"unsupported CloudEvents specversion {document.get('specversion')!r}")
        for attribute in ("id", "source", "type", "time"):
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
        time = datetime.fromisoformat(document["time"])
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
