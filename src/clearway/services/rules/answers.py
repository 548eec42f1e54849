"""Rendered search answers, kept while the snapshot they came from and "now" allow.

A search's answer depends only on the query, the snapshot (rules, questions) and which of its
versions are in force. The store resets this cache whenever it swaps its snapshot, and the
cache clears itself when time reaches the next instant a version enters or leaves force, so a
kept answer is always the one a fresh lookup would give.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from clearway.services.rules.domain.lookup import RuleBase

MAX_ANSWERS = 4096
_NEVER = datetime.max.replace(tzinfo=UTC)

# market, hs_code, category, q, limit, offset, as_of: as the search handler has them after
# normalizing (a `q` that is an HS code also fills hs_code). Raw strings, since the body
# echoes them ("8518.22" and "851822" give different bodies).
Key = tuple[str, str | None, str | None, str | None, int, int, date | None]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Answer:
    """The encoded response, and what each search's `search.performed` event needs."""

    body: bytes
    hs_code: str | None
    category: str | None
    market: str


class Answers:
    """A bounded map of query key -> rendered answer, valid for one snapshot and time window."""

    def __init__(self, size: int = MAX_ANSWERS, clock: Callable[[], datetime] = utc_now) -> None:
        self.size = size
        self.clock = clock  # where "now" comes from
        # LRU rather than clearing when full: a few popular searches stay while the long tail
        # of one-off ones cycles through; OrderedDict makes each step O(1).
        self._entries: OrderedDict[Key, Answer] = OrderedDict()
        self._base = RuleBase((), {})
        self._since = self._until = _NEVER

    def __len__(self) -> int:
        return len(self._entries)

    def reset(self, base: RuleBase) -> None:
        """The store swapped its snapshot: forget everything rendered from the old one."""
        self._base = base
        self._window(self.clock())

    def _window(self, now: datetime) -> None:
        self._entries.clear()
        self._since = now
        self._until = self._base.next_change(now) or _NEVER

    def get(self, key: Key, render: Callable[[datetime], Answer]) -> Answer:
        """The kept answer for `key`, or `render(now)`'s, kept. An error raised by `render`
        keeps nothing."""
        now = self.clock()
        if not self._since <= now < self._until:
            # A version entered or left force (or the clock went back): start a new window.
            self._window(now)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        answer = render(now)
        self._entries[key] = answer
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return answer
