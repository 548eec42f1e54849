"""The monitor's rules without a platform: percentiles from histograms, the audit chain."""

from __future__ import annotations

import hashlib
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from clearway.services.monitor.domain import audit_chain
from clearway.services.monitor.domain.stats import (
    BIN_COUNT,
    BIN_RATIO,
    BOUNDS,
    RangeError,
    RequestStats,
    bin_of,
    check_range,
    search_keys,
)

T0 = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


def mac(message: str) -> str:
    return hashlib.sha256(b"test-key|" + message.encode()).hexdigest()


def test_percentiles_are_exact_on_bin_bounds() -> None:
    # 10.24 ms = 0.01 ms · 2^10 is a bin bound, as are its doublings.
    stats = RequestStats()
    for latency, times in ((10.24, 50), (20.48, 40), (40.96, 5), (81.92, 4), (163.84, 1)):
        for _ in range(times):
            stats.add(200, latency)
    # Nearest rank: p50 is the 50th value, p95 the 95th, p99 the 99th of 100 sorted.
    assert stats.percentile(0.50) == 10.24
    assert stats.percentile(0.95) == 40.96
    assert stats.percentile(0.99) == 81.92
    assert stats.percentile(1.0) == 163.84


def test_percentiles_are_never_below_and_at_most_one_bin_above() -> None:
    latencies = [float(ms) for ms in range(1, 101)]  # 1 … 100 ms
    stats = RequestStats()
    for latency in latencies:
        stats.add(200, latency)
    for q, exact in ((0.50, 50.0), (0.95, 95.0), (0.99, 99.0)):
        reported = stats.percentile(q)
        assert reported is not None
        assert exact <= reported <= exact * BIN_RATIO
    assert stats.percentile(1.0) == 100.0  # capped by the exact maximum


def test_merged_histograms_equal_one_histogram_of_everything() -> None:
    first, second, whole = RequestStats(), RequestStats(), RequestStats()
    for i in range(200):
        latency, status = 0.5 + i * 1.7, 500 if i % 10 == 0 else 200
        (first if i % 3 else second).add(status, latency)
        whole.add(status, latency)
    first.merge(second)
    assert first == whole
    assert first.errors == 20


def test_ranges() -> None:
    with pytest.raises(RangeError):
        check_range(T0, T0, "minute")
    with pytest.raises(RangeError):
        check_range(T0, T0 - timedelta(days=1), "day")
    with pytest.raises(RangeError):
        check_range(T0, T0 + timedelta(days=30), "minute")  # 43,200 buckets
    with pytest.raises(RangeError):
        check_range(T0.replace(tzinfo=None), T0 + timedelta(hours=1), "hour")
    check_range(T0, T0 + timedelta(days=6), "minute")


def test_search_keys_take_the_most_specific_product() -> None:
    data = {"hs_code": "850440", "hs_chapter": "85", "hs_heading": "8504", "market": "de"}
    assert search_keys(data) == {
        "product": "850440",
        "chapter": "85",
        "heading": "8504",
        "market": "DE",
    }
    assert search_keys({"category": "toys"}) == {"product": "toys", "category": "toys"}


def test_audit_details_hold_no_personal_data() -> None:
    details = audit_chain.audit_details(
        {
            "user_id": "u1",
            "email": "someone@example.com",
            "recipient": "sealed…",
            "note": "ping me at someone@example.com",
            "client": "198.51.100.7",
            "fields": ["name", "phone"],
            "by": "admin-1",
        },
        lambda address: "ref-" + address[-1],
    )
    assert details == {"user_id": "u1", "client_ref": "ref-7", "fields": ["name", "phone"]}


# --- the chain ------------------------------------------------------------------------------


def entries(count: int = 6) -> list[audit_chain.AuditEntry]:
    records = [
        audit_chain.AuditRecord(
            T0 + timedelta(seconds=i), f"user-{i}", "security.login_failed", {"n": i}
        )
        for i in range(count)
    ]
    return list(audit_chain.chain(records, 1, audit_chain.GENESIS, mac))


def rehash(chain: list[audit_chain.AuditEntry], start: int) -> list[audit_chain.AuditEntry]:
    """What someone with write access but without the key does: recompute hashes onwards."""
    out = chain[:start]
    prev = out[-1].hash if out else audit_chain.GENESIS
    for position, entry in enumerate(chain[start:], start=start + 1):
        digest = audit_chain.entry_hash(
            position, entry.time, entry.actor, entry.action, entry.details, prev
        )
        out.append(replace(entry, seq=position, prev_hash=prev, hash=digest))
        prev = digest
    return out


def forged(seq: int, prev: str) -> audit_chain.AuditEntry:
    details = audit_chain.canonical_details({"n": "forged"})
    digest = audit_chain.entry_hash(seq, T0, "intruder", "user.verified", details, prev)
    return audit_chain.AuditEntry(
        seq, T0, "intruder", "user.verified", details, prev, digest, "0" * 64
    )


def verdict(
    chain: list[audit_chain.AuditEntry], marks: list[audit_chain.Checkpoint] | None = None
) -> tuple[object, ...]:
    result = audit_chain.verify(chain, marks or [], mac)
    return (result.ok, result.seq, result.kind)


def test_an_intact_chain_verifies() -> None:
    assert audit_chain.verify(entries(), [], mac) == audit_chain.Verdict(True, 6)
    assert audit_chain.verify([], [], mac) == audit_chain.Verdict(True, 0)


def test_an_edited_entry_is_named() -> None:
    chain = entries()
    chain[2] = replace(chain[2], actor="someone-else")
    assert verdict(chain) == (False, 3, "edited")


def test_an_edit_with_every_hash_recomputed_is_caught_by_the_mac() -> None:
    chain = entries()
    chain[2] = replace(chain[2], details=audit_chain.canonical_details({"n": 99}))
    assert verdict(rehash(chain, 2)) == (False, 3, "edited")


def test_an_inserted_entry_is_named() -> None:
    chain = entries()
    with_insert = [*chain[:3], forged(4, chain[2].hash), *chain[3:]]
    # Renumbered as an intruder would, to keep the sequence unbroken.
    renumbered = with_insert[:4] + [replace(e, seq=e.seq + 1) for e in with_insert[4:]]
    assert verdict(renumbered) == (False, 4, "inserted")


def test_an_appended_entry_is_named() -> None:
    chain = entries()
    assert verdict([*chain, forged(7, chain[-1].hash)]) == (False, 7, "inserted")


def test_a_deleted_entry_is_named() -> None:
    chain = entries()
    assert verdict(chain[:2] + chain[3:]) == (False, 3, "deleted")


def test_a_deletion_hidden_by_renumbering_is_named() -> None:
    chain = entries()
    renumbered = chain[:2] + [replace(e, seq=e.seq - 2) for e in chain[4:]]
    assert verdict(renumbered) == (False, 3, "deleted")


def test_a_truncated_tail_is_caught_by_a_checkpoint() -> None:
    chain = entries()
    mark = audit_chain.Checkpoint(
        6, chain[5].hash, audit_chain.checkpoint_mac(mac, 6, chain[5].hash)
    )
    assert verdict(chain, [mark]) == (True, None, None)
    assert verdict(chain[:4], [mark]) == (False, 5, "deleted")


def test_a_forged_checkpoint_is_named() -> None:
    chain = entries()
    mark = audit_chain.Checkpoint(6, chain[5].hash, "f" * 64)
    assert verdict(chain, [mark]) == (False, 6, "forged checkpoint")


def test_a_chain_is_verified_in_chunks() -> None:
    chain = entries(25)
    chain[17] = replace(chain[17], action="user.deleted")
    verifier = audit_chain.ChainVerifier([], mac)
    for start in range(0, 25, 4):
        if not verifier.feed(chain[start : start + 4]):
            break
    result = verifier.finish()
    assert (result.ok, result.seq, result.kind, result.checked) == (False, 18, "edited", 17)


def test_bins_cover_every_latency() -> None:
    assert bin_of(0) == 0
    assert bin_of(10.24) == 80
    assert bin_of(10.25) == 81
    assert bin_of(1e9) == BIN_COUNT - 1
    assert math.isclose(BOUNDS[8], 0.02)
