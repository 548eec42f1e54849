"""Telemetry built without validation is the event the validated path builds, byte for byte.

The gateway's request records and the rules' searches are built on every request from values
their producers already hold typed (`Event.unvalidated_cloudevent`); what consumers receive
must not change by a byte, and the contract class stays the one definition of the payload.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

import orjson
import pytest
from pydantic import Field, field_serializer

from clearway.contracts import TELEMETRY
from clearway.contracts.gateway import GatewayRequest
from clearway.contracts.rules import RuleRetired, SearchPerformed
from clearway.kit.bus import CloudEvent, Event
from clearway.kit.bus.events import batch, expand
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


def without_identity(event: CloudEvent) -> bytes:
    """The event as JSON, less what differs between any two events (its id and time)."""
    document = event.document()
    del document["id"], document["time"]
    return orjson.dumps(document)


@pytest.mark.parametrize(
    ("kind", "values"),
    [(GatewayRequest, r) for r in RECORDS] + [(SearchPerformed, s) for s in SEARCHES],
)
def test_the_unvalidated_event_is_the_validated_one_byte_for_byte(
    kind: type[Event], values: dict[str, Any]
) -> None:
    validated = kind(**values).to_cloudevent()
    unvalidated = kind.unvalidated_cloudevent(values)
    assert without_identity(unvalidated) == without_identity(validated)
    assert orjson.dumps(unvalidated.data) == orjson.dumps(validated.data)
    assert list(unvalidated.data) == list(validated.data), "the fields keep their order"
    assert unvalidated.id != validated.id and unvalidated.time.tzinfo is UTC
    # And it travels as any event does: through a telemetry batch, read back by its class.
    (received,) = expand(CloudEvent.from_json(batch("/t", [unvalidated]).to_json()))
    assert received.data == validated.data
    assert kind.decode(received).model_dump() == kind(**values).model_dump()


def test_every_telemetry_event_can_be_built_unvalidated() -> None:
    assert all(tuple(kind.model_fields) == kind.SCALAR_FIELDS for kind in TELEMETRY)


def test_an_event_not_made_of_json_scalars_must_be_validated() -> None:
    assert RuleRetired.SCALAR_FIELDS is None  # its times are datetimes, written as text
    values = {"code": "R1", "version": 1, "market": "EU", "at": datetime.now(UTC)}
    with pytest.raises(TypeError, match="RuleRetired"):
        RuleRetired.unvalidated_cloudevent(values | {"effective_from": None, "effective_to": None})


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


@pytest.mark.parametrize("kind", [Constrained, Serialized])
def test_constraints_and_serializers_keep_an_event_on_the_validated_path(
    kind: type[Event],
) -> None:
    assert kind.SCALAR_FIELDS is None
    with pytest.raises(TypeError):
        kind.unvalidated_cloudevent({"code": "abc"})


def test_a_missing_field_is_an_error_not_a_shorter_payload() -> None:
    incomplete = {k: v for k, v in RECORDS[0].items() if k != "client"}
    with pytest.raises(KeyError, match="client"):
        GatewayRequest.unvalidated_cloudevent(incomplete)
