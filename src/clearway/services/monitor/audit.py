"""The audit trail in the monitor's database: appended in the ingest transactions, verified here.

Each entry's hash is MAC'd with a key derived from the platform key store (the blind-index
secret, under its own HKDF label), never stored in monitor.db: whoever can write the database
can recompute hashes but not MACs, so a chain rewritten from some entry on is still caught.
Checkpoints (the head's seq, hash and MAC, taken by a job and written to the log as well) catch
a truncated tail; the log line is the copy an attacker on this machine cannot roll back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.kit.crypto import BlindIndex
from clearway.kit.db import Database, page
from clearway.services.monitor.domain import audit_chain
from clearway.services.monitor.tables import audit_checkpoints, audit_head, audit_log

log = logging.getLogger("clearway.monitor.audit")

VERIFY_CHUNK = 5000


def audit_mac(blind_index: BlindIndex) -> audit_chain.Mac:
    def mac(message: str) -> str:
        return blind_index.compute("monitor", "audit_log", "mac", message)

    return mac


def client_pseudonym(blind_index: BlindIndex) -> audit_chain.Mac:
    """Equal addresses get equal references (to follow an attack), but no address is stored."""

    def pseudonym(address: str) -> str:
        return blind_index.compute("monitor", "audit_log", "client", address)[:16]

    return pseudonym


class AuditTrail:
    def __init__(self, db: Database, mac: audit_chain.Mac) -> None:
        self.db = db
        self.mac = mac

    async def append(
        self, session: AsyncSession, records: Sequence[audit_chain.AuditRecord]
    ) -> int:
        """Append in the caller's transaction; the head row lock orders concurrent appenders."""
        if not records:
            return 0
        query = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
        if not self.db.is_sqlite:  # SQLite's single writer already serialises
            query = query.with_for_update()
        head = (await session.execute(query)).first()
        seq, prev_hash = (head.seq + 1, head.hash) if head else (1, audit_chain.GENESIS)
        entries = list(audit_chain.chain(records, seq, prev_hash, self.mac))
        await session.execute(
            insert(audit_log),
            [
                {
                    "seq": e.seq,
                    "time": e.time,
                    "actor": e.actor,
                    "action": e.action,
                    "details": e.details,
                    "prev_hash": e.prev_hash,
                    "hash": e.hash,
                    "mac": e.mac,
                }
                for e in entries
            ],
        )
        last = entries[-1]
        if head is None:
            await session.execute(insert(audit_head).values(id=1, seq=last.seq, hash=last.hash))
        else:
            await session.execute(
                update(audit_head).where(audit_head.c.id == 1).values(seq=last.seq, hash=last.hash)
            )
        return len(entries)

    async def checkpoint(self) -> int | None:
        """Record the head if it moved since the last checkpoint; return its seq."""
        async with self.db.transaction() as session:
            head = (await session.execute(select(audit_head.c.seq, audit_head.c.hash))).first()
            last = (
                await session.execute(
                    select(audit_checkpoints.c.seq).order_by(audit_checkpoints.c.id.desc()).limit(1)
                )
            ).scalar()
            if head is None or head.seq == last:
                return None
            mac = audit_chain.checkpoint_mac(self.mac, head.seq, head.hash)
            await session.execute(
                insert(audit_checkpoints).values(
                    seq=head.seq, hash=head.hash, mac=mac, created_at=datetime.now(UTC)
                )
            )
        log.info(
            "audit checkpoint",
            extra={"audit_seq": head.seq, "audit_hash": head.hash, "audit_mac": mac},
        )
        return int(head.seq)

    async def verify(self) -> audit_chain.Verdict:
        async with self.db.read() as session:
            marks = (await session.execute(select(audit_checkpoints))).all()
        verifier = audit_chain.ChainVerifier(
            (audit_chain.Checkpoint(m.seq, m.hash, m.mac) for m in marks), self.mac
        )
        after = 0
        while True:
            # One short read per chunk: a long verification never holds a snapshot for long.
            async with self.db.read() as session:
                rows = (
                    await session.execute(
                        select(audit_log)
                        .where(audit_log.c.seq > after)
                        .order_by(audit_log.c.seq)
                        .limit(VERIFY_CHUNK)
                    )
                ).all()
            if not rows:
                break
            entries = [
                audit_chain.AuditEntry(
                    r.seq, r.time, r.actor, r.action, r.details, r.prev_hash, r.hash, r.mac
                )
                for r in rows
            ]
            if not verifier.feed(entries):
                break
            after = entries[-1].seq
        return verifier.finish()

    async def page(
        self, start: datetime, end: datetime, limit: int, offset: int
    ) -> tuple[list[audit_chain.AuditEntry], int]:
        where = (audit_log.c.time >= start) & (audit_log.c.time < end)
        async with self.db.read() as session:
            rows, total = await page(session, audit_log, [where], [audit_log.c.seq], limit, offset)
        return [
            audit_chain.AuditEntry(
                r.seq, r.time, r.actor, r.action, r.details, r.prev_hash, r.hash, r.mac
            )
            for r in rows
        ], int(total)
