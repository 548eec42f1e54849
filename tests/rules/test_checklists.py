"""Self-check questions, checklists (save, reopen, answer, export) and the internal API."""

from __future__ import annotations

from tests.conftest import Api, bearer


async def test_self_check_asks_each_deciding_question_once(api: Api) -> None:
    response = await api.client.get(
        "/api/rules/self-check", params={"market": "EU", "q": "bluetooth speaker"}
    )
    assert response.status_code == 200
    questions = {q["id"]: q for q in response.json()["questions"]}
    assert "radio" in questions and "EU-RED" in questions["radio"]["decides"]
    assert "EU-EMC" in questions["radio"]["decides"]  # EMC applies only without radio


async def test_a_checklist_is_saved_reopened_answered_and_exported(api: Api) -> None:
    token = await api.customer("seller@example.com")
    body = {"market": "EU", "hs_code": "8518.22", "answers": {"radio": True, "electrical": True}}
    created = await api.client.post("/api/rules/checklists", json=body, headers=bearer(token))
    assert created.status_code == 201, created.text
    checklist = created.json()
    items = {r["code"]: r for r in checklist["requirements"]}
    assert items["EU-RED"]["applies"] and items["EU-RED"]["decided"]
    assert not items["EU-EMC"]["applies"] and "you answered yes" in items["EU-EMC"]["reason"]
    assert items["EU-REACH-ART"]["mandatory"] and items["EU-REACH-ART"]["applies"]
    assert not items["EU-BATT-EPR"]["decided"] and items["EU-BATT-EPR"]["applies"]  # unanswered

    path = f"/api/rules/checklists/{checklist['id']}"
    reopened = await api.client.get(path, headers=bearer(token))
    assert reopened.json()["requirements"] == checklist["requirements"]
    answered = await api.client.put(
        f"{path}/answers", json={"answers": {"battery": False}}, headers=bearer(token)
    )
    items = {r["code"]: r for r in answered.json()["requirements"]}
    assert items["EU-BATT-EPR"]["decided"] and not items["EU-BATT-EPR"]["applies"]
    mine = await api.client.get("/api/rules/checklists", headers=bearer(token))
    assert mine.json()["total"] == 1

    exported = await api.client.get(f"{path}/export", headers=bearer(token))
    assert exported.json()["id"] == checklist["id"]
    assert "attachment" in exported.headers["content-disposition"]
    page = await api.client.get(f"{path}/export", params={"format": "html"}, headers=bearer(token))
    assert page.headers["content-type"].startswith("text/html")
    assert "EU-RED" in page.text and "<script" not in page.text
    assert f"Coverage of the rule base: {checklist['coverage']}" in page.text

    other = await api.customer("other@example.com")
    assert (await api.client.get(path, headers=bearer(other))).status_code == 404
    assert (await api.client.get(path)).status_code == 401
    assert (await api.client.post("/api/rules/checklists", json=body)).status_code == 401


async def test_my_checklists_lists_summaries_that_count_what_the_checklist_says(api: Api) -> None:
    token = await api.customer("seller@example.com")
    first = {"market": "EU", "hs_code": "8518.22", "answers": {"radio": True}}
    second = {"market": "EU", "hs_code": "8518.22", "answers": {"radio": True, "battery": False}}
    saved = []
    for body in (first, second):
        created = await api.client.post("/api/rules/checklists", json=body, headers=bearer(token))
        saved.append(created.json())
    mine = await api.client.get("/api/rules/checklists", headers=bearer(token))
    assert mine.status_code == 200
    page = mine.json()
    assert page["total"] == 2 and [c["id"] for c in page["items"]] == [
        saved[1]["id"],
        saved[0]["id"],
    ]  # newest first
    for summary, whole in zip(page["items"], reversed(saved), strict=True):
        requirements = whole["requirements"]
        assert "requirements" not in summary and "answers" not in summary
        assert {k: summary[k] for k in ("market", "hs_code", "coverage", "created_at")} == {
            k: whole[k] for k in ("market", "hs_code", "coverage", "created_at")
        }
        assert summary["requirement_count"] == len(requirements)
        assert summary["applies_count"] == sum(r["applies"] and r["decided"] for r in requirements)
        assert summary["undecided_count"] == sum(not r["decided"] for r in requirements)
        assert summary["open_question_count"] == len(whole["open_questions"])
    # Answering the battery question decides a requirement: the second counts one fewer open.
    assert page["items"][0]["undecided_count"] < page["items"][1]["undecided_count"]
    assert page["items"][0]["open_question_count"] < page["items"][1]["open_question_count"]
    other = await api.customer("other@example.com")
    theirs = await api.client.get("/api/rules/checklists", headers=bearer(other))
    assert theirs.json()["total"] == 0 and theirs.json()["items"] == []


async def test_internal_api_for_orders(api: Api) -> None:
    token = await api.customer("seller@example.com")
    body = {"market": "DE", "hs_code": "851822", "answers": {"radio": True}}
    checklist = (
        await api.client.post("/api/rules/checklists", json=body, headers=bearer(token))
    ).json()
    upstreams = api.platform.upstreams
    document = await upstreams.get_json("rules", f"/internal/rules/checklists/{checklist['id']}")
    assert set(document) == {
        "id",
        "owner_id",
        "market",
        "hs_code",
        "category",
        "coverage",
        "coverage_reason",
        "created_at",
        "requirements",
    }
    assert document["coverage"] in ("complete", "partial") and document["coverage_reason"]
    assert document["owner_id"] == await api.user_id("seller@example.com")
    assert document["market"] == "DE" and document["hs_code"] == "851822"
    assert set(document["requirements"][0]) == {
        "code",
        "title",
        "evidence_type",
        "mandatory",
        "applies",
        "reason",
    }
    requirements = await upstreams.get_json(
        "rules", "/internal/rules/requirements?market=EU&hs_code=851822"
    )
    assert requirements["market"] == "EU" and requirements["hs_code"] == "851822"
    red = next(r for r in requirements["requirements"] if r["code"] == "EU-RED")
    assert red["conditional"] and not red["mandatory"] and red["questions"][0]["id"] == "radio"
    # not reachable from outside
    outside = await api.client.get(f"/internal/rules/checklists/{checklist['id']}")
    assert outside.status_code == 404
