"""The audit trail: what goes in, that it holds no personal data, and that every kind of
tampering is detected and located, through the API and by `clearway audit verify`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from clearway.cli import main
from clearway.runtime.platform import Platform
from clearway.services.monitor.domain import audit_chain
from tests.conftest import Api, bearer, run_sql
from tests.monitor.conftest import event, ingested, job, publish, query

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
ENTRIES = 6


async def test_security_events_and_admin_actions_are_recorded(api: Api) -> None:
    admin = await api.admin_token()
    admin_id = await api.user_id("admin@clearway.example")
    await api.register("lab@example.com", role="provider")
    lab = await api.user_id("lab@example.com")
    assert (
        await api.client.post(f"/api/identity/users/{lab}/verify", headers=bearer(admin))
    ).status_code == 200
    wrong = await api.client.post(
        "/api/identity/login", json={"email": "lab@example.com", "password": "not-the-password"}
    )
    assert wrong.status_code == 401
    assert (
        await api.client.post("/api/common/keys/rotate", headers=bearer(admin))
    ).status_code == 200
    await publish(
        api.platform,
        [event("security.refresh_token_reused", T0, {"user_id": lab, "session_id": "s1"})],
    )
    # Each event reaches the monitor on its own path (identity's and common's outboxes, the test).
    await ingested(api.platform, "audit_log", 1, "action = 'user.verified'")
    await ingested(api.platform, "audit_log", 1, "action = 'security.login_failed'")
    await ingested(api.platform, "audit_log", 1, "action = 'key.rotated'")
    await ingested(api.platform, "audit_log", 1, "action = 'security.refresh_token_reused'")
    await ingested(api.platform, "audit_log", 2, "action = 'admin.request'")

    response = await api.client.get(
        "/api/monitor/audit",
        params={"from": "2025-12-01T00:00:00Z", "limit": "1000"},
        headers=bearer(admin),
    )
    assert response.status_code == 200
    items = response.json()["items"]
    actions = {(item["action"], item["actor"]) for item in items}
    assert ("user.verified", admin_id) in actions
    assert ("security.login_failed", "anonymous") in actions
    assert ("key.rotated", admin_id) in actions
    assert ("security.refresh_token_reused", lab) in actions
    assert ("admin.request", admin_id) in actions  # the POSTs, from the request stream
    failed = next(i for i in items if i["action"] == "security.login_failed")
    assert failed["details"]["user_id"] == lab and len(failed["details"]["client_ref"]) == 16
    assert [i["seq"] for i in items] == sorted(i["seq"] for i in items)
    everything = "".join(str(row) for row in query(api.platform, "SELECT * FROM audit_log"))
    assert "@" not in everything  # no e-mail address, sealed or not

    verified = await api.client.get("/api/monitor/audit/verify", headers=bearer(admin))
    assert verified.json()["ok"] is True


async def chain_of(platform: Platform) -> list[tuple[int, str]]:
    await publish(
        platform,
        [
            event(
                "security.login_failed",
                T0 + timedelta(seconds=i),
                {"user_id": f"u{i}", "client": "192.0.2.1"},
            )
            for i in range(ENTRIES)
        ],
    )
    await ingested(platform, "audit_log", ENTRIES)
    return [(seq, h) for seq, h in query(platform, "SELECT seq, hash FROM audit_log ORDER BY seq")]


def write(platform: Platform, *statements: tuple[str, tuple[object, ...]]) -> None:
    run_sql(platform.settings, "monitor", statements)


def edit(platform: Platform) -> None:
    write(platform, ("UPDATE audit_log SET actor = 'u-innocent' WHERE seq = 3", ()))


def edit_and_rehash(platform: Platform) -> None:
    """Change entry 3 and recompute every hash from there, as one without the key can."""
    rows = query(platform, "SELECT seq, time, actor, action, details FROM audit_log ORDER BY seq")
    prev = query(platform, "SELECT hash FROM audit_log WHERE seq = 2")[0][0]
    for seq, time, actor, action, details in rows[2:]:
        moment = time if isinstance(time, datetime) else datetime.fromisoformat(time)
        moment = moment.replace(tzinfo=UTC)
        actor = "u-innocent" if seq == 3 else actor
        digest = audit_chain.entry_hash(seq, moment, actor, action, details, prev)
        write(
            platform,
            (
                "UPDATE audit_log SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                (actor, prev, digest, seq),
            ),
        )
        prev = digest


def insert(platform: Platform) -> None:
    prev = query(platform, "SELECT hash FROM audit_log WHERE seq = 3")[0][0]
    details = audit_chain.canonical_details({"user_id": "u-ghost"})
    digest = audit_chain.entry_hash(4, T0, "u-ghost", "user.verified", details, prev)
    write(
        platform,
        ("UPDATE audit_log SET seq = -seq WHERE seq >= 4", ()),
        ("UPDATE audit_log SET seq = 1 - seq WHERE seq < 0", ()),
        (
            "INSERT INTO audit_log VALUES (4, ?, 'u-ghost', 'user.verified', ?, ?, ?, ?)",
            (T0, details, prev, digest, "0" * 64),
        ),
    )


def delete(platform: Platform) -> None:
    write(platform, ("DELETE FROM audit_log WHERE seq = 3", ()))


def delete_and_renumber(platform: Platform) -> None:
    write(
        platform,
        ("DELETE FROM audit_log WHERE seq = 3", ()),
        ("UPDATE audit_log SET seq = -seq WHERE seq > 3", ()),
        ("UPDATE audit_log SET seq = -seq - 1 WHERE seq < 0", ()),
    )


@pytest.mark.parametrize(
    ("tamper", "seq", "kind"),
    [
        (edit, 3, "edited"),
        (edit_and_rehash, 3, "edited"),
        (insert, 4, "inserted"),
        (delete, 3, "deleted"),
        (delete_and_renumber, 3, "deleted"),
    ],
)
async def test_tampering_is_detected_and_located(
    api: Api, tamper: Callable[[Platform], None], seq: int, kind: str
) -> None:
    await chain_of(api.platform)
    admin = await api.admin_token()
    before = await api.client.get("/api/monitor/audit/verify", headers=bearer(admin))
    assert before.json()["ok"] is True
    # In a thread: the platform's own writers must be able to finish while the tamperer waits
    # for SQLite's write lock (blocking the event loop here would deadlock until the timeout).
    await asyncio.to_thread(tamper, api.platform)
    after = (await api.client.get("/api/monitor/audit/verify", headers=bearer(admin))).json()
    assert (after["ok"], after["seq"], after["kind"]) == (False, seq, kind)


async def test_a_truncated_tail_is_detected_after_a_checkpoint(api: Api) -> None:
    chain = await chain_of(api.platform)
    assert await job(api.platform, "monitor-audit-checkpoint")() == len(chain)
    await asyncio.to_thread(write, api.platform, ("DELETE FROM audit_log WHERE seq > 4", ()))
    admin = await api.admin_token()
    after = (await api.client.get("/api/monitor/audit/verify", headers=bearer(admin))).json()
    assert (after["ok"], after["seq"], after["kind"]) == (False, 5, "deleted")


async def test_clearway_audit_verify(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = api.platform.settings
    monkeypatch.setenv("CLEARWAY_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CLEARWAY_DATABASE_URL", settings.database_url)
    assert settings.root_secret is not None
    monkeypatch.setenv("CLEARWAY_ROOT_SECRET", settings.root_secret.get_secret_value())
    await chain_of(api.platform)
    runner = CliRunner()
    ok = await asyncio.to_thread(runner.invoke, main, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert f"OK: {ENTRIES} audit entries" in ok.output
    delete(api.platform)
    broken = await asyncio.to_thread(runner.invoke, main, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "BROKEN at seq 3: deleted" in broken.output
