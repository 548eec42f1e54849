"""Where events live on NATS: one subject per event type under the stream's prefix, and the
filter subjects of a queue's durable consumer, made from its topics."""

from __future__ import annotations

import re
from collections.abc import Sequence

_TOKEN = re.compile(r"[^\s.*>]+")


class Subjects:
    """Subjects of a stream: events on `<prefix>.events.<type>`, dead letters on
    `<prefix>.dlq.<queue token>`."""

    def __init__(self, stream: str) -> None:
        prefix = stream.lower()
        self.events = f"{prefix}.events."
        self.dlq = f"{prefix}.dlq."

    def of(self, event_type: str) -> str:
        """The subject an event of `event_type` is published on."""
        if not all(_TOKEN.fullmatch(token) for token in event_type.split(".")):
            raise ValueError(f"event type {event_type!r} cannot be a NATS subject")
        return self.events + event_type

    def matching(self, topic: str) -> str:
        """The subject filter passing what `topic` matches (`order.*`: `….order.>`)."""
        if topic == "*":
            return self.events + ">"
        if topic.endswith(".*"):
            return self.of(topic[:-2]) + ".>"
        return self.of(topic)

    def filters(self, topics: Sequence[str], *, several: bool) -> list[str]:
        """A consumer's filter subjects for `topics`: as many as needed where the server takes
        `several` (2.10 and later), else one that covers them all (narrowed when delivered)."""
        subjects = _narrowest([self.matching(topic) for topic in topics])
        return subjects if several or len(subjects) == 1 else [_cover(subjects)]


def _narrowest(subjects: Sequence[str]) -> list[str]:
    """The subjects without those another one's `>` already covers (filters may not overlap)."""
    wildcards = [s[:-1] for s in subjects if s.endswith(".>")]
    unique = dict.fromkeys(subjects)
    return [s for s in unique if not any(s != w + ">" and s.startswith(w) for w in wildcards)]


def _cover(subjects: Sequence[str]) -> str:
    """One subject matching all of `subjects`, for a server that takes one filter per consumer."""
    if len(set(subjects)) == 1:
        return subjects[0]
    split = [s.split(".") for s in subjects]
    common: list[str] = []
    for tokens in zip(*split, strict=False):
        if len(set(tokens)) != 1 or tokens[0] == ">":
            break
        common.append(tokens[0])
    # `>` stands for one token or more, so the prefix must stop short of the shortest subject.
    return ".".join([*common[: min(map(len, split)) - 1], ">"])
