"""Unique ids for hot paths (request ids, event ids) without a system call per id.

A random per-process prefix plus a counter is unique across processes and restarts and costs
no entropy read: `uuid4()` releases the GIL for `os.urandom`, and under load getting it back
behind a busy thread costs far more than the id itself.
"""

from __future__ import annotations

import itertools
import os

_prefix = os.urandom(8).hex()
_counter = itertools.count(1)


def new_id() -> str:
    """32 hex characters, like `uuid4().hex`."""
    return f"{_prefix}{next(_counter):016x}"


def _reseed_after_fork() -> None:
    global _prefix, _counter
    _prefix = os.urandom(8).hex()
    _counter = itertools.count(1)


os.register_at_fork(after_in_child=_reseed_after_fork)
