"""The event catalogue, generated from the contracts: an AsyncAPI 3.0 document (served at
`/api/asyncapi.json`), its Markdown rendering (`docs/events.md`) and a Mermaid picture of who
publishes what to whom (in `docs/architecture.md`). `clearway docs events` writes the files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic.json_schema import models_json_schema

from clearway.contracts import (
    PUBLISHERS,
    SUBSCRIBERS,
    TELEMETRY,
    publisher_of,
    subscribers_of,
)
from clearway.kit.bus.contract import Event

SCHEMAS = "#/components/schemas/{model}"
MAX_LISTED = 4  # event types written on one arrow of the picture; more are summed up
BATCH_NOTE = (
    "High-volume: published in batches, envelopes of type `{type}.batch` whose `data` is a "
    "table: `fields` names this payload's fields, and each of `rows` is one event, its time "
    "(seconds since the Unix epoch) then its fields' values in that order. Event `i` of the "
    "batch has the id `<key>-<first + i>`, from the batch's `key` and `first`."
)


def _channel_id(event: type[Event]) -> str:
    return event.TYPE.replace(".", "-")


def _summary(event: type[Event]) -> str:
    return " ".join((event.__doc__ or "").split())


def _events() -> list[type[Event]]:
    return [event for events in PUBLISHERS.values() for event in events]


def schemas() -> dict[str, Any]:
    """JSON Schemas of every payload (and the models they use), keyed by class name."""
    _, document = models_json_schema(
        [(event, "validation") for event in _events()], ref_template=SCHEMAS
    )
    found: dict[str, Any] = document.get("$defs", {})
    return found


def asyncapi() -> dict[str, Any]:
    """Every event as an AsyncAPI 3.0 document: channel = CloudEvents type."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for event in _events():
        name, channel = event.__name__, _channel_id(event)
        description = _summary(event)
        if event in TELEMETRY:
            description = f"{description} {BATCH_NOTE.format(type=event.TYPE)}".strip()
        messages[name] = {
            "name": event.TYPE,
            "title": name,
            "summary": description,
            "contentType": "application/json",
            "payload": {"$ref": SCHEMAS.format(model=name)},
            "x-cloudevents": {
                "type": event.TYPE,
                "source": event.SOURCE,
                "subject": event.SUBJECT,
                "schemaVersion": event.VERSION,
            },
        }
        channels[channel] = {
            "address": event.TYPE,
            "description": description,
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
        reference = {"$ref": f"#/channels/{channel}"}
        message = [{"$ref": f"#/channels/{channel}/messages/{name}"}]
        publisher = publisher_of(event)
        operations[f"{publisher}-sends-{channel}"] = {
            "action": "send",
            "channel": reference,
            "messages": message,
            "tags": [{"name": publisher}],
        }
        for subscriber in subscribers_of(event):
            operations[f"{subscriber}-receives-{channel}"] = {
                "action": "receive",
                "channel": reference,
                "messages": message,
                "tags": [{"name": subscriber}],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Clearway events",
            "version": "1",
            "description": "Every event Clearway's services exchange, as CloudEvents 1.0 in "
            "JSON structured mode: the channel is the event's `type`, the payload its `data`. "
            "A consumer accepts the previous schema version of an event; new versions only "
            "add optional fields.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas()},
    }


# --- Markdown ------------------------------------------------------------------------------


def _type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(_type_of(option) for option in schema["anyOf"])
    if "enum" in schema:
        return " \\| ".join(f"`{value}`" for value in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {_type_of(schema.get('items', {}))}"
    if kind == "null":
        return "null"
    return f"{kind} ({schema['format']})" if "format" in schema else str(kind)


def _fields(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", ()))
    rows = ["| Field | Type | Required | Meaning |", "|---|---|---|---|"]
    for field, spec in schema.get("properties", {}).items():
        meaning = " ".join(spec.get("description", "").split())
        yes = "yes" if field in required else "no"
        rows.append(f"| `{field}` | {_type_of(spec)} | {yes} | {meaning} |")
    return rows


def events_markdown() -> str:
    """`docs/events.md`: the catalogue for readers, generated; never edit it by hand."""
    found = schemas()
    lines = [
        "# Events",
        "",
        "<!-- Generated from src/clearway/contracts by `clearway docs events`; do not edit. -->",
        "",
        "Every event Clearway's services exchange. Each travels as a CloudEvent 1.0 (JSON",
        "structured mode) whose `type` is the heading below and whose `data` holds the fields.",
        "The classes in `src/clearway/contracts/` are the source; the same catalogue is served",
        "as an AsyncAPI 3.0 document at `GET /api/asyncapi.json`.",
        "",
        "A consumer accepts the previous schema version of an event: a new version may only",
        "add optional fields, and unknown fields are ignored. A payload that does not fit its",
        "class is dead-lettered at once with the validation error as the reason.",
        "",
    ]
    used: set[str] = set()
    for publisher, events in PUBLISHERS.items():
        lines += [f"## Published by {publisher}", ""]
        for event in events:
            subject = f"`{event.SUBJECT}`" if event.SUBJECT else "none"
            readers = ", ".join(subscribers_of(event))
            lines += [f"### `{event.TYPE}`", ""]
            if summary := _summary(event):
                lines += [summary, ""]
            if event in TELEMETRY:
                lines += [BATCH_NOTE.format(type=event.TYPE), ""]
            lines += [
                f"Class `{event.__name__}`, schema version {event.VERSION}, source "
                f"`{event.SOURCE}`, subject {subject}. Subscribers: {readers}.",
                "",
                *_fields(found[event.__name__]),
                "",
            ]
            used.update(_refs(found[event.__name__]))
    nested = sorted(used - {event.__name__ for event in _events()})
    if nested:
        lines += ["## Shared shapes", ""]
        for name in nested:
            lines += [f"### {name}", "", *_fields(found[name]), ""]
    return "\n".join(lines)


def _refs(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        own = {schema["$ref"].rsplit("/", 1)[-1]} if "$ref" in schema else set()
        return own.union(*(_refs(value) for value in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_refs(value) for value in schema))
    return set()


# --- Mermaid -------------------------------------------------------------------------------


def flows_mermaid() -> str:
    """Who publishes to whom: one arrow per publisher and subscriber, with the event types
    (or "all N events" when a subscriber takes everything a publisher sends)."""
    lines = ["flowchart LR"]
    for publisher, events in PUBLISHERS.items():
        for subscriber, wanted in SUBSCRIBERS.items():
            taken = [event for event in events if event in wanted]
            if not taken:
                continue
            label = "<br/>".join(_label(taken, everything=len(taken) == len(events)))
            lines.append(f'    {publisher} -->|"{label}"| {subscriber}')
    return "\n".join(lines)


def _label(events: list[type[Event]], everything: bool) -> list[str]:
    if everything and len(events) > MAX_LISTED:
        return [f"all {len(events)} events"]
    if len(events) <= MAX_LISTED:
        return [event.TYPE for event in events]
    families: dict[str, int] = {}
    for event in events:
        family = event.TYPE.split(".")[0]
        families[family] = families.get(family, 0) + 1
    return [f"{count} {family}.* events" for family, count in families.items()]


# --- the generated files -------------------------------------------------------------------

EVENTS_DOC = "docs/events.md"
ARCHITECTURE_DOC = "docs/architecture.md"
FLOWS_BEGIN = "<!-- event-flows: generated by `clearway docs events`; do not edit -->"
FLOWS_END = "<!-- /event-flows -->"


def documents(read: Callable[[str], str]) -> dict[str, str]:
    """What the generated files must hold, by path from the repository root: the events
    document whole, and the architecture document with its event-flow picture replaced
    (`read` gives a file's current text)."""
    architecture = read(ARCHITECTURE_DOC)
    before, begin, rest = architecture.partition(FLOWS_BEGIN)
    _, end, after = rest.partition(FLOWS_END)
    if not begin or not end:
        raise ValueError(f"{ARCHITECTURE_DOC} lacks the markers {FLOWS_BEGIN} ... {FLOWS_END}")
    picture = f"{FLOWS_BEGIN}\n```mermaid\n{flows_mermaid()}\n```\n{FLOWS_END}"
    return {EVENTS_DOC: events_markdown() + "\n", ARCHITECTURE_DOC: before + picture + after}
