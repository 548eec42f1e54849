from __future__ import annotations

from datetime import UTC

import orjson
import pytest

from clearway.kit.bus import CloudEvent, matches
from clearway.kit.bus.bus import check_topics
from clearway.kit.bus.events import batch, expand, split


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


FIELDS = ("route", "status")
ROWS = [(1_700_000_000.25, "/a", 200), (1_700_000_001.5, "/b", 404), (1_700_000_002.0, "/c", 500)]


def through_json(event: CloudEvent) -> CloudEvent:
    return CloudEvent.from_json(event.to_json())


def test_a_batch_carries_its_rows_as_events_through_json() -> None:
    envelope = batch("/gw", "gateway.request", FIELDS, ROWS)
    assert envelope.type == "gateway.request.batch"
    events = expand(through_json(envelope))
    assert [e.data for e in events] == [
        {"route": "/a", "status": 200},
        {"route": "/b", "status": 404},
        {"route": "/c", "status": 500},
    ]
    assert [e.time.timestamp() for e in events] == [row[0] for row in ROWS]
    assert all(e.time.tzinfo is UTC for e in events)
    assert {(e.type, e.source, e.subject) for e in events} == {("gateway.request", "/gw", None)}
    key = envelope.data["key"]
    assert [e.id for e in events] == [f"{key}-0", f"{key}-1", f"{key}-2"]
    assert expand(envelope) == events  # built here, never serialized: tuples still
    assert expand(events[0]) == [events[0]]  # not a batch: itself


def test_a_batch_delivered_again_gives_the_same_ids_and_another_batch_others() -> None:
    envelope = batch("/gw", "gateway.request", FIELDS, ROWS)
    again = [e.id for e in expand(through_json(envelope))]
    assert again == [e.id for e in expand(through_json(envelope))]
    other = [e.id for e in expand(batch("/gw", "gateway.request", FIELDS, ROWS))]
    assert not set(again) & set(other)


@pytest.mark.parametrize("count", [2, 3, 500])
def test_the_halves_of_a_split_batch_give_the_same_events(count: int) -> None:
    rows = [(1_700_000_000.0 + n, f"/r{n}", 200) for n in range(count)]
    envelope = batch("/gw", "gateway.request", FIELDS, rows)
    first, second = split(through_json(envelope))
    halves = expand(through_json(first)) + expand(through_json(second))
    assert halves == expand(through_json(envelope))
    assert len(first.data["rows"]) == count // 2
    assert first.id != second.id != envelope.id  # each half is a message of its own


@pytest.mark.parametrize(
    "event",
    [
        batch("/gw", "gateway.request", FIELDS, ROWS[:1]),
        CloudEvent.new("/gw", "gateway.request", {"route": "/a"}),
        CloudEvent.new("/t", "gateway.request.batch", {"events": []}),
    ],
)
def test_only_a_batch_of_two_rows_or_more_splits(event: CloudEvent) -> None:
    with pytest.raises(ValueError, match="two rows"):
        split(event)


def test_a_malformed_row_in_a_batch_is_skipped_not_the_batch() -> None:
    document = orjson.loads(batch("/t", "gateway.request", FIELDS, ROWS[:1]).to_json())
    key = document["data"]["key"]
    document["data"]["rows"] += [
        [1_700_000_000.0, "/short"],  # a value missing
        ["yesterday", "/a", 200],  # a time that is not a number
        [True, "/a", 200],  # nor is a boolean
        [1e300, "/a", 200],  # out of range
        "not a row",
        [1_700_000_003.0, "/last", 200],
    ]
    events = expand(CloudEvent.from_json(orjson.dumps(document)))
    assert [(e.id, e.data["route"]) for e in events] == [(f"{key}-0", "/a"), (f"{key}-6", "/last")]


@pytest.mark.parametrize(
    "change",
    [
        {"key": ""},
        {"key": 7},
        {"first": -1},
        {"first": "0"},
        {"fields": "route"},
        {"fields": ["route", 2]},
        {"rows": {"0": []}},
    ],
)
def test_a_batch_whose_table_is_malformed_gives_nothing(change: dict[str, object]) -> None:
    document = orjson.loads(batch("/t", "gateway.request", FIELDS, ROWS).to_json())
    document["data"] |= change
    assert expand(CloudEvent.from_json(orjson.dumps(document))) == []


def test_a_batch_of_whole_events_from_before_rows_is_still_read() -> None:
    """A durable queue may hold envelopes written before an upgrade."""
    good = CloudEvent.new("/gw", "gateway.request", {"n": 1})
    document = {
        "specversion": "1.0",
        "id": "b1",
        "source": "/clearway/telemetry",
        "type": "gateway.request.batch",
        "time": "2026-12-01T10:00:00Z",
        "data": {
            "events": [
                {"specversion": "1.0", "id": "", "type": "x"},  # malformed: skipped
                orjson.loads(good.to_json()),
                "not an event",
            ]
        },
    }
    assert expand(CloudEvent.from_json(orjson.dumps(document))) == [good]
    document["data"] = {"events": "none"}
    assert expand(CloudEvent.from_json(orjson.dumps(document))) == []
