"""Telemetry sent as rows, unvalidated, is received as the event the validated path builds.

The gateway's request records and the rules' searches are sent on every request from values
their producers already hold typed, as a row in the order of the contract class's fields
(`kit.bus.telemetry`); what consumers receive must be the payload, byte for byte, that
validating the class would have sent, and the class stays the one definition of it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

import orjson
import pytest
from pydantic import Field, field_serializer

from clearway.contracts import TELEMETRY
from clearway.contracts.gateway import GatewayRequest
from clearway.contracts.rules import RuleRetired, SearchPerformed
from clearway.kit.bus import CloudEvent, Event
from clearway.kit.bus.events import expand
from clearway.kit.bus.telemetry import Telemetry
from clearway.services.rules.events import search_performed

RECORDS: list[dict[str, Any]] = [
    {
        "route": "/api/identity/me",
        "method": "GET",
        "status": 200,
        "latency_ms": 0.412,
        "role": "customer",
        "user_id": "0f3a9c",
        "client": "127.0.0.1",
        "request_id": "a" * 32,
    },
    {
        "route": "unmatched",
        "method": "POST",
        "status": 404,
        "latency_ms": 12.0,
        "role": "anonymous",
        "user_id": None,
        "client": None,
        "request_id": "req-ünïcode-0001",
    },
    {
        "route": "/api/orders/{order_id}",
        "method": "DELETE",
        "status": 503,
        "latency_ms": 1e-06,
        "role": "admin",
        "user_id": "admin-1",
        "client": "2001:db8::1",
        "request_id": "x" * 128,
        "ignored": "an extra value is left out, as validation ignores it",
    },
]

SEARCHES: list[dict[str, Any]] = [
    search_performed(query=None, hs_code="851822", category=None, market="EU", role="customer"),
    search_performed(query="lipstick", hs_code="330410", category=None, market="US", role="admin"),
    search_performed(query="tea", hs_code=None, category="food", market="DE", role="anonymous"),
    search_performed(query=None, hs_code="85", category=None, market="CN", role="provider"),
]


class Stored:
    """A bus that keeps each envelope as it would travel: serialized."""

    def __init__(self) -> None:
        self.envelopes: list[CloudEvent] = []

    async def publish_many(self, events: Sequence[CloudEvent]) -> None:
        self.envelopes += [CloudEvent.from_json(event.to_json()) for event in events]

    def received(self) -> list[CloudEvent]:
        return [event for envelope in self.envelopes for event in expand(envelope)]


@pytest.mark.parametrize(
    ("kind", "values"),
    [(GatewayRequest, r) for r in RECORDS] + [(SearchPerformed, s) for s in SEARCHES],
)
async def test_a_row_is_received_as_the_validated_event(
    kind: type[Event], values: dict[str, Any]
) -> None:
    bus = Stored()
    telemetry = Telemetry(bus, "test")
    before = time.time()
    telemetry.add(kind, values)
    after = time.time()
    await telemetry.flush()
    validated = kind(**values).to_cloudevent()
    (received,) = bus.received()
    assert orjson.dumps(received.data) == orjson.dumps(validated.data), "byte for byte, in order"
    assert (received.type, received.source, received.subject) == (kind.TYPE, kind.SOURCE, None)
    assert before <= received.time.timestamp() <= after and received.time.tzinfo is UTC
    assert kind.decode(received).model_dump() == kind(**values).model_dump()


async def test_each_kind_travels_in_its_own_envelopes_of_at_most_a_batch() -> None:
    bus = Stored()
    telemetry = Telemetry(bus, "test")
    for n in range(1001):
        telemetry.add(GatewayRequest, RECORDS[n % 2] | {"request_id": f"r{n}"})
    telemetry.add(SearchPerformed, SEARCHES[0])
    await telemetry.flush()
    assert [(e.type, len(e.data["rows"])) for e in bus.envelopes] == [
        ("gateway.request.batch", 500),
        ("gateway.request.batch", 500),
        ("gateway.request.batch", 1),
        ("search.performed.batch", 1),
    ]
    received = bus.received()
    assert [e.data["request_id"] for e in received[:-1]] == [f"r{n}" for n in range(1001)]
    assert len({e.id for e in received}) == 1002, "every event its own id"
    # A row repeats nothing per event: a request record is a third of a whole CloudEvent.
    whole = len(GatewayRequest(**RECORDS[0]).to_cloudevent().to_json())
    assert len(bus.envelopes[0].to_json()) / 500 < whole / 2


def test_every_telemetry_event_can_be_sent_as_rows() -> None:
    assert all(tuple(kind.model_fields) == kind.SCALAR_FIELDS for kind in TELEMETRY)
    assert all(kind.SUBJECT is None for kind in TELEMETRY)


def test_an_event_not_made_of_json_scalars_must_be_validated() -> None:
    assert RuleRetired.SCALAR_FIELDS is None  # its times are datetimes, written as text
    values = {"code": "R1", "version": 1, "market": "EU", "at": datetime.now(UTC)}
    with pytest.raises(TypeError, match="RuleRetired"):
        Telemetry(Stored(), "test").add(
            RuleRetired, values | {"effective_from": None, "effective_to": None}
        )


class WithSubject(Event):
    TYPE: ClassVar[str] = "test.subject"
    SOURCE: ClassVar[str] = "/tests"
    SUBJECT: ClassVar[str | None] = "code"
    code: str


class Constrained(Event):
    TYPE: ClassVar[str] = "test.constrained"
    SOURCE: ClassVar[str] = "/tests"
    code: Annotated[str, Field(max_length=4)]


class Serialized(Event):
    TYPE: ClassVar[str] = "test.serialized"
    SOURCE: ClassVar[str] = "/tests"
    code: str

    @field_serializer("code")
    def upper(self, code: str) -> str:
        return code.upper()


@pytest.mark.parametrize("kind", [Constrained, Serialized, WithSubject])
def test_constraints_serializers_and_subjects_keep_an_event_on_the_validated_path(
    kind: type[Event],
) -> None:
    assert (kind.SCALAR_FIELDS is None) is (kind is not WithSubject)
    with pytest.raises(TypeError, match=kind.__name__):
        Telemetry(Stored(), "test").add(kind, {"code": "abc"})


async def test_a_missing_field_is_an_error_not_a_shorter_row() -> None:
    incomplete = {k: v for k, v in RECORDS[0].items() if k != "client"}
    bus = Stored()
    telemetry = Telemetry(bus, "test")
    with pytest.raises(KeyError, match="client"):
        telemetry.add(GatewayRequest, incomplete)
    await telemetry.flush()
    assert not bus.envelopes, "nothing half-added"
