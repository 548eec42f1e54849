"""Administration: only administrators write; versions decide what customers see; history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import Api, bearer
from tests.rules.support import codes, create, publish, rule, search


async def test_only_administrators_write(api: Api) -> None:
    customer = await api.customer("c@example.com")
    provider = await api.provider("p@example.com")
    for headers, status in (({}, 401), (bearer(customer), 403), (bearer(provider), 403)):
        response = await api.client.post(
            "/api/rules/admin/rules", json=rule("T-1"), headers=headers
        )
        assert response.status_code == status
        for method, path in (
            ("POST", "/api/rules/admin/rules/EU-RED/retire"),
            ("POST", "/api/rules/admin/import?filename=x.yaml"),
            ("GET", "/api/rules/admin/export"),
        ):
            assert (await api.client.request(method, path, headers=headers)).status_code == status
    assert "EU-RED" in codes(await search(api, market="EU", category="audio-radio"))


async def test_a_draft_is_never_shown_and_publishing_shows_it(api: Api) -> None:
    admin = await api.admin_token()
    draft = await create(api, admin, code="T-DRAFT")
    assert draft["status"] == "draft" and draft["version"] == 1
    assert codes(await search(api, hs_code="8518")) == []
    published = await publish(api, admin, "T-DRAFT")
    assert published["status"] == "published" and published["in_force"]
    assert codes(await search(api, hs_code="8518")) == ["T-DRAFT"]


async def test_a_future_effective_date_is_not_yet_in_force(api: Api) -> None:
    admin = await api.admin_token()
    await create(api, admin, code="T-LATER")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    published = await publish(api, admin, "T-LATER", effective_from=tomorrow)
    assert not published["in_force"]
    assert codes(await search(api, hs_code="8518")) == []


async def test_a_retired_rule_no_longer_applies(api: Api) -> None:
    admin = await api.admin_token()
    await create(api, admin, code="T-OLD")
    await publish(api, admin, "T-OLD")
    response = await api.client.post("/api/rules/admin/rules/T-OLD/retire", headers=bearer(admin))
    assert response.status_code == 200
    assert response.json()["versions"][0]["status"] == "retired"
    assert codes(await search(api, hs_code="8518")) == []
    again = await api.client.post("/api/rules/admin/rules/T-OLD/retire", headers=bearer(admin))
    assert again.status_code == 409


async def test_a_change_is_a_new_draft_until_published_with_history(api: Api) -> None:
    admin = await api.admin_token()
    await create(api, admin, code="T-V")
    await publish(api, admin, "T-V")
    changed = await api.client.patch(
        "/api/rules/admin/rules/T-V", json={"title": "New title"}, headers=bearer(admin)
    )
    assert changed.status_code == 200
    assert changed.json()["version"] == 2 and changed.json()["status"] == "draft"
    [served] = (await search(api, hs_code="8518"))["items"]
    assert served["title"] == "Requirement T-V" and served["version"] == 1
    await publish(api, admin, "T-V")
    [served] = (await search(api, hs_code="8518"))["items"]
    assert served["title"] == "New title" and served["version"] == 2
    versions = (await api.client.get("/api/rules/admin/rules/T-V", headers=bearer(admin))).json()
    assert versions["versions"][0]["effective_to"] is not None
    history = (
        await api.client.get("/api/rules/admin/rules/T-V/history", headers=bearer(admin))
    ).json()["items"]
    assert [h["action"] for h in history] == [
        "create",
        "publish",
        "update",
        "superseded",
        "publish",
    ]
    update = history[2]
    assert update["changes"] == {"title": {"from": "Requirement T-V", "to": "New title"}}
    assert update["actor"] == await api.user_id("admin@clearway.example")


async def test_invalid_rules_are_refused_and_nothing_is_stored(api: Api) -> None:
    admin = await api.admin_token()
    bad = rule(
        "T-BAD",
        market="Atlantis",
        hs_codes=["85x"],
        evidence_type="vibes",
        conditions={"nope": True},
    )
    response = await api.client.post("/api/rules/admin/rules", json=bad, headers=bearer(admin))
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"market", "hs_codes", "evidence_type", "conditions"}
    missing = await api.client.get("/api/rules/admin/rules/T-BAD", headers=bearer(admin))
    assert missing.status_code == 404
    await create(api, admin, code="T-DUP")
    dup = await api.client.post("/api/rules/admin/rules", json=rule("T-DUP"), headers=bearer(admin))
    assert dup.status_code == 409
