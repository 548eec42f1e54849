from __future__ import annotations

from datetime import UTC

import orjson
import pytest

from clearway.kit.bus import CloudEvent, matches
from clearway.kit.bus.bus import check_topics
from clearway.kit.bus.events import batch, expand


def test_new_event_has_the_cloudevents_attributes() -> None:
    event = CloudEvent.new("/clearway/identity", "user.registered", {"user": "u1"}, subject="u1")
    assert len(event.id) == 32 and int(event.id, 16) >= 0
    assert event.specversion == "1.0"
    assert event.datacontenttype == "application/json"
    assert event.time.tzinfo is UTC
    document = orjson.loads(event.to_json())
    assert document["time"].endswith("Z")
    assert document["subject"] == "u1"
    assert document["data"] == {"user": "u1"}


def test_json_round_trip() -> None:
    event = CloudEvent.new("/clearway/orders", "order.created", {"n": 1, "items": ["a"]})
    assert CloudEvent.from_json(event.to_json()) == event
    assert "subject" not in orjson.loads(event.to_json())


def test_reads_an_event_written_elsewhere() -> None:
    raw = (
        b'{"specversion":"1.0","id":"A234-1234-1234","source":"/mycontext","type":"x.y",'
        b'"time":"2018-04-05T17:31:00+02:00","data":{"k":"v"}}'
    )
    event = CloudEvent.from_json(raw)
    assert event.id == "A234-1234-1234"
    assert event.data == {"k": "v"}
    assert event.time.utcoffset() is not None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"specversion": "0.3"}, "specversion"),
        ({"id": ""}, "'id'"),
        ({"type": 3}, "'type'"),
        ({"time": "2024-01-01T00:00:00"}, "UTC offset"),
        ({"datacontenttype": "text/plain"}, "datacontenttype"),
        ({"data": [1, 2]}, "data"),
        ({"subject": 5}, "subject"),
    ],
)
def test_rejects_malformed_events(change: dict[str, object], message: str) -> None:
    document = orjson.loads(CloudEvent.new("/s", "t", {}).to_json()) | change
    with pytest.raises(ValueError, match=message):
        CloudEvent.from_json(orjson.dumps(document))


def test_rejects_json_that_is_not_an_object() -> None:
    with pytest.raises(ValueError, match="object"):
        CloudEvent.from_json(b"[]")


@pytest.mark.parametrize(
    ("pattern", "event_type", "expected"),
    [
        ("order.created", "order.created", True),
        ("order.created", "order.paid", False),
        ("order.*", "order.paid", True),
        ("order.*", "order.item.added", True),
        ("order.*", "orders.paid", False),
        ("order.*", "order", False),
        ("*", "anything.at.all", True),
    ],
)
def test_topic_patterns(pattern: str, event_type: str, expected: bool) -> None:
    assert matches(pattern, event_type) is expected


@pytest.mark.parametrize("topics", [[], "order.*", ["*.created"], ["or*der"], [".*"], [""]])
def test_invalid_topics_are_refused(topics: list[str]) -> None:
    with pytest.raises(ValueError):
        check_topics(topics)


def test_a_batch_carries_whole_events_through_json() -> None:
    events = [CloudEvent.new("/gw", "gateway.request", {"n": n}) for n in range(3)]
    envelope = batch("/telemetry", events)
    assert envelope.type == "gateway.request.batch"
    assert expand(CloudEvent.from_json(envelope.to_json())) == events
    assert expand(envelope) == events  # built here, never serialized: datetimes still
    assert expand(events[0]) == [events[0]]  # not a batch: itself


def test_a_batch_holds_one_type() -> None:
    with pytest.raises(ValueError, match="one type"):
        batch("/t", [CloudEvent.new("/a", "a.x", {}), CloudEvent.new("/a", "a.y", {})])


def test_a_malformed_event_in_a_batch_is_skipped_not_the_batch() -> None:
    good = CloudEvent.new("/gw", "gateway.request", {"n": 1})
    document = orjson.loads(batch("/t", [good]).to_json())
    document["data"]["events"].insert(0, {"specversion": "1.0", "id": "", "type": "x"})
    document["data"]["events"].append("not an event")
    assert expand(CloudEvent.from_json(orjson.dumps(document))) == [good]
