"""The audit trail's rules in plain Python: what an entry keeps, the hash chain, and how a
broken chain is found and named."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from clearway.contracts.identity import LoginFailed

# --- audit entries --------------------------------------------------------------------------

GENESIS = "0" * 64
# Never copied into the audit trail: personal data, or sealed blobs of it.
PERSONAL_KEYS = frozenset(
    {"email", "name", "phone", "company", "address", "recipient", "link", "query", "password"}
)
MAX_DETAIL_CHARS = 200


@dataclass(frozen=True)
class AuditRecord:
    """What is appended; the chain adds seq, prev_hash, hash and mac."""

    time: datetime
    actor: str
    action: str
    details: dict[str, Any]


def is_audited(event_type: str, data: Mapping[str, Any]) -> bool:
    """Security events, key events, and every event an administrator caused (`by`)."""
    return event_type.startswith(("security.", "key.")) or data.get("by") is not None


def audit_details(data: Mapping[str, Any], pseudonym: Callable[[str], str]) -> dict[str, Any]:
    """Identifiers and facts only: personal fields dropped, the client address pseudonymised."""
    details: dict[str, Any] = {}
    for key, value in data.items():
        if key in PERSONAL_KEYS or key == "by":
            continue
        if key == "client":
            if value:
                details["client_ref"] = pseudonym(str(value))
            continue
        if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            details[key] = value[:50]
        elif _plain(value):
            details[key] = value
    return details


def _plain(value: object) -> bool:
    """A scalar that cannot be an e-mail address or a sealed blob."""
    if isinstance(value, str):
        return "@" not in value and len(value) <= MAX_DETAIL_CHARS
    return value is None or isinstance(value, bool | int | float)


def audit_actor(event_type: str, data: Mapping[str, Any]) -> str:
    by = data.get("by")
    if by:
        return str(by)
    if event_type.startswith("key."):
        return "operator"  # rotated from the command line, outside any account
    user_id = data.get("user_id")
    return str(user_id) if user_id and event_type != LoginFailed.TYPE else "anonymous"


DENIED = frozenset({401, 403})


def access_denied(request: Mapping[str, Any]) -> AuditRecord | None:
    """A permission denial, from a stored request record (whose client is already a pseudonym).
    Every change an administrator asks for is audited from the gateway's `admin.request` event,
    published before the change."""
    if request["status"] not in DENIED:
        return None
    details = {
        "route": request["route"],
        "method": request["method"],
        "status": request["status"],
        "role": request["role"],
        "user_id": request["user_id"],
        "request_id": request["request_id"],
    }
    if request["client"]:
        details["client_ref"] = request["client"]
    return AuditRecord(request["time"], request["user_id"] or "anonymous", "access.denied", details)


# --- the hash chain -------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    time: datetime
    actor: str
    action: str
    details: str  # canonical JSON
    prev_hash: str
    hash: str
    mac: str


def canonical_details(details: Mapping[str, Any]) -> str:
    return orjson.dumps(details, option=orjson.OPT_SORT_KEYS).decode()


def time_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    seq: int, time: datetime, actor: str, action: str, details: str, prev_hash: str
) -> str:
    """SHA-256 over the canonical JSON array of the entry's fields, details re-canonicalised."""
    document = [seq, time_text(time), actor, action, orjson.loads(details), prev_hash]
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()


Mac = Callable[[str], str]
"""A keyed MAC of an entry hash (its key is not in the monitor's database)."""


def chain(
    records: Iterable[AuditRecord], seq: int, prev_hash: str, mac: Mac
) -> Iterator[AuditEntry]:
    """Entries following the one numbered `seq - 1` whose hash is `prev_hash`."""
    for record in records:
        details = canonical_details(record.details)
        digest = entry_hash(seq, record.time, record.actor, record.action, details, prev_hash)
        yield AuditEntry(
            seq, record.time, record.actor, record.action, details, prev_hash, digest, mac(digest)
        )
        seq, prev_hash = seq + 1, digest


TamperKind = Literal["edited", "inserted", "deleted", "forged checkpoint"]


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    seq: int | None = None
    kind: TamperKind | None = None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "seq": self.seq,
            "kind": self.kind,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    mac: str


def _genuine_at(entry: AuditEntry, seq: int, prev_hash: str, mac: Mac) -> bool:
    """Would this entry, numbered `seq` after `prev_hash`, be exactly what the chain wrote?"""
    digest = entry_hash(seq, entry.time, entry.actor, entry.action, entry.details, prev_hash)
    return digest == entry.hash and entry.mac == mac(digest)


def _self_consistent(entry: AuditEntry) -> bool:
    return entry.hash == entry_hash(
        entry.seq, entry.time, entry.actor, entry.action, entry.details, entry.prev_hash
    )


RENUMBER_SEARCH = 1000
"""How many removed entries a renumbered deletion may hide and still be named a deletion."""


def _diagnose(
    current: AuditEntry,
    following: AuditEntry | None,
    seq: int,
    prev_hash: str,
    mac: Mac,
    checkpointed: int,
) -> Verdict:
    if following is not None and _genuine_at(following, seq, prev_hash, mac):
        return Verdict(False, seq - 1, seq, "inserted", "an entry was added here")
    for removed in range(1, RENUMBER_SEARCH + 1):
        if _genuine_at(current, seq + removed, current.prev_hash, mac):
            return Verdict(
                False, seq - 1, seq, "deleted", f"{removed} entry(ies) removed, the rest renumbered"
            )
    appended = following is None and seq > checkpointed  # a checkpoint saw no entry here
    if appended and current.prev_hash == prev_hash and _self_consistent(current):
        return Verdict(False, seq - 1, seq, "inserted", "appended without the audit key")
    return Verdict(False, seq - 1, seq, "edited", "content or hash was changed")


class ChainVerifier:
    """Walks the chain from seq 1 and names the first place it breaks, and how.

    Every entry must sit at the next seq, link to its predecessor's hash, hash to its own
    content, and carry a MAC of that hash made with a key the database does not hold, so
    rewriting the chain from some point on (recomputing every hash) is caught too. The entry
    at the break is compared with its neighbours to tell an insertion (the next entry is the
    genuine one for this seq), a deletion (a gap, or this entry is genuine at a later seq) and
    an edit. Checkpoints (MAC'd chain heads taken periodically) catch a truncated tail.

    Fed in chunks (`feed` returns False once it has a verdict), so a long chain never has to
    be in memory at once.
    """

    def __init__(self, checkpoints: Iterable[Checkpoint], mac: Mac) -> None:
        self.mac = mac
        self.verdict: Verdict | None = None
        self.marks: dict[int, Checkpoint] = {}
        for checkpoint in checkpoints:
            if checkpoint.mac != checkpoint_mac(mac, checkpoint.seq, checkpoint.hash):
                self.verdict = Verdict(
                    False, 0, checkpoint.seq, "forged checkpoint", "its MAC is wrong"
                )
                break
            self.marks[checkpoint.seq] = checkpoint
        self.seq, self.prev_hash = 1, GENESIS
        self._pending: AuditEntry | None = None  # waits for its follower before it is judged

    def feed(self, entries: Iterable[AuditEntry]) -> bool:
        for entry in entries:
            if self.verdict is not None:
                return False
            if self._pending is not None:
                self._judge(self._pending, entry)
            self._pending = entry
        return self.verdict is None

    def finish(self) -> Verdict:
        if self.verdict is None and self._pending is not None:
            self._judge(self._pending, None)
        if self.verdict is not None:
            return self.verdict
        last = self.seq - 1
        if self.marks and max(self.marks) > last:
            seen = max(self.marks)
            detail = f"the chain ends at {last} but a checkpoint saw it reach {seen}"
            return Verdict(False, last, last + 1, "deleted", detail)
        return Verdict(True, last)

    def _judge(self, current: AuditEntry, following: AuditEntry | None) -> None:
        seq, prev_hash = self.seq, self.prev_hash
        if current.seq > seq:
            missing = f"seq {seq} to {current.seq - 1} missing"
            self.verdict = Verdict(False, seq - 1, seq, "deleted", missing)
        elif current.seq < seq:
            repeated = "a repeated sequence number"
            self.verdict = Verdict(False, seq - 1, current.seq, "inserted", repeated)
        elif not _genuine_at(current, seq, prev_hash, self.mac):
            checkpointed = max(self.marks, default=0)
            self.verdict = _diagnose(current, following, seq, prev_hash, self.mac, checkpointed)
        elif seq in self.marks and self.marks[seq].hash != current.hash:
            self.verdict = Verdict(False, seq - 1, seq, "edited", "differs from a checkpoint")
        else:
            self.seq, self.prev_hash = seq + 1, current.hash


def verify(entries: Iterable[AuditEntry], checkpoints: Iterable[Checkpoint], mac: Mac) -> Verdict:
    verifier = ChainVerifier(checkpoints, mac)
    verifier.feed(entries)
    return verifier.finish()


def checkpoint_mac(mac: Mac, seq: int, digest: str) -> str:
    return mac(f"checkpoint|{seq}|{digest}")
