"""Rule files v2: the new fields load and reach the answers; numeric questions and conditions;
national tariff lines; sub-national scope; what a v2 file must give; v1 still imports."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, bearer
from tests.rules.support import codes, search
from tests.rules.test_files import upload

V2 = """\
format: clearway-rules/2
questions:
  pack_wh: {text: "What is the battery's energy in watt-hours?", kind: number, unit: Wh,
            min: 0, max: 100000}
rules:
  - code: T-V2-BIG-PACK
    market: NZ
    title: Large battery packs - transport test summary
    legal_reference: Test Act 2024, section 9
    authority: Test authority
    evidence_type: test_report
    measure: certification
    customs_document: Y929
    issuers: ["Test laboratory (UN 38.3, section 38.3.5)"]
    operators: [manufacturer, distributor]
    hs_codes: ["8507.60.00"]
    regions: [NZ-AUK]
    conditions: {pack_wh: {gt: 100}}
    url: https://example.org/test-act
    publication: Test Gazette 12, 1.2.2024
    last_verified: 2026-11-30
    effective_from: 2024-02-01
  - code: T-V2-ANY-PACK
    market: NZ
    title: Battery packs - labelling
    legal_reference: Test Act 2024, section 10
    authority: Test authority
    evidence_type: labelling
    measure: labelling
    issuers: [Manufacturer]
    hs_codes: ["8507"]
    url: https://example.org/test-act
    last_verified: 2026-11-30
    effective_from: 2024-02-01
"""


async def test_a_v2_file_loads_and_answers_show_its_fields(api: Api) -> None:
    admin = await api.admin_token()
    response = await upload(api, admin, V2, filename="v2.yaml")
    assert response.status_code == 200, response.text
    assert response.json()["counts"] == {"create": 2}
    # A national tariff line (CN8) falls back to HS-6, heading and chapter.
    found = await search(api, hs_code="8507.60.00.10")
    assert found["matched"]["hs_code"] == "8507600010"
    assert found["matched"]["hs_edition"] == "HS 2022"
    assert codes(found) == ["T-V2-BIG-PACK", "T-V2-ANY-PACK"]
    assert found["groups"] == {"mandatory": ["T-V2-ANY-PACK"], "conditional": ["T-V2-BIG-PACK"]}
    big = found["items"][0]
    assert big["measure"] == "certification" and big["customs_document"] == "Y929"
    assert big["operators"] == ["manufacturer", "distributor"]
    assert big["regions"] == ["NZ-AUK"] and big["url"] == "https://example.org/test-act"
    assert big["publication"] == "Test Gazette 12, 1.2.2024"
    assert big["last_verified"] == "2026-11-30"
    assert big["issuers"] == ["Test laboratory (UN 38.3, section 38.3.5)"]
    assert big["effective_from"].startswith("2024-02-01")
    [question] = big["questions"]
    assert question["kind"] == "number" and question["unit"] == "Wh"
    assert question["applies_when"] == {"gt": 100} and question["applies_if"] == "more than 100 Wh"
    assert big["why"]["scope_hs_code"] == "85076000"
    # the operators default to manufacturer and importer
    assert found["items"][1]["operators"] == ["manufacturer", "importer"]
    # a heading search lists the line's rule as narrower, not the other way round
    assert "T-V2-BIG-PACK" in codes(await search(api, hs_code="8507.60"))
    assert codes(await search(api, hs_code="8507.10")) == ["T-V2-ANY-PACK"]


async def test_numeric_questions_are_asked_with_units_and_decide(api: Api) -> None:
    admin = await api.admin_token()
    assert (await upload(api, admin, V2, filename="v2.yaml")).status_code == 200
    check = await api.client.get(
        "/api/rules/self-check", params={"market": "NZ", "hs_code": "850760"}
    )
    assert check.status_code == 200
    [asked] = check.json()["questions"]
    assert asked == {
        "id": "pack_wh",
        "text": "What is the battery's energy in watt-hours?",
        "kind": "number",
        "unit": "Wh",
        "min": 0,
        "max": 100000,
        "decides": ["T-V2-BIG-PACK"],
    }
    token = await api.customer("numbers@example.com")

    async def decided(answer: Any) -> dict[str, Any]:
        response = await api.client.post(
            "/api/rules/checklists",
            json={"market": "NZ", "hs_code": "850760", "answers": {"pack_wh": answer}},
            headers=bearer(token),
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return next(r for r in body["requirements"] if r["code"] == "T-V2-BIG-PACK")

    big = await decided(150)
    assert big["applies"] and "more than 100 Wh" in big["reason"]
    small = await decided(99.5)
    assert not small["applies"] and "99.5 Wh" in small["reason"]
    for wrong in (True, -1, 100001):
        response = await api.client.post(
            "/api/rules/checklists",
            json={"market": "NZ", "hs_code": "850760", "answers": {"pack_wh": wrong}},
            headers=bearer(token),
        )
        assert response.status_code == 422, (wrong, response.text)
        assert "pack_wh" in response.text


async def test_v2_requires_measure_source_verification_and_dates(api: Api) -> None:
    admin = await api.admin_token()
    bare = """\
format: clearway-rules/2
rules:
  - code: T-V2-BARE
    market: NZ
    title: Bare
    legal_reference: Test Act 2024, section 1
    authority: Test authority
    evidence_type: labelling
    issuers: [Maker]
    hs_codes: ["8518"]
"""
    response = await upload(api, admin, bare, filename="bare.yaml")
    assert response.status_code == 422
    messages = " ".join(e["message"] for e in response.json()["errors"])
    for field in ("measure", "url", "last_verified", "effective_from"):
        assert field in messages, field
    # the same rule as a v1 file imports: those fields are optional there, and
    # a published v1 rule without a date takes effect on import
    v1 = bare.replace("clearway-rules/2", "clearway-rules/1")
    assert (await upload(api, admin, v1, filename="v1.yaml")).json()["counts"] == {"create": 1}
    [found] = (await search(api, hs_code="8518"))["items"]
    assert found["measure"] is None and found["operators"] == ["manufacturer", "importer"]


async def test_bad_v2_values_are_refused_with_their_line(api: Api) -> None:
    admin = await api.admin_token()
    broken = (
        V2.replace("measure: certification", "measure: vibes")
        .replace("regions: [NZ-AUK]", "regions: [US-CA]")
        .replace("{gt: 100}", "{above: 100}")
        .replace("operators: [manufacturer, distributor]", "operators: [retailer]")
    )
    response = await upload(api, admin, broken, filename="broken.yaml")
    assert response.status_code == 422
    errors = {e["line"]: e["message"] for e in response.json()["errors"]}
    assert "measure" in errors[12] and "retailer" in errors[15]
    assert "US-CA" in errors[17] and "compare" in errors[18]


async def test_an_entry_split_by_an_unquoted_comma_is_refused(api: Api) -> None:
    admin = await api.admin_token()
    split = V2.replace(
        'issuers: ["Test laboratory (UN 38.3, section 38.3.5)"]',
        "issuers: [Test laboratory (UN 38.3, section 38.3.5)]",
    )
    response = await upload(api, admin, split, filename="split.yaml")
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["line"] == 14 and "unbalanced" in error["message"]
    assert "Test laboratory (UN 38.3" in error["message"]


async def test_unknown_formats_and_empty_files_are_refused(api: Api) -> None:
    admin = await api.admin_token()
    for body, name in (
        (V2.replace("clearway-rules/2", "clearway-rules/9"), "future.yaml"),
        ("", "empty.yaml"),
        ("format: clearway-rules/2\n", "nothing.yaml"),
        ("# only a comment\n", "comment.yaml"),
        ("", "empty.csv"),
        ("code,market,title\n", "header.csv"),
    ):
        response = await upload(api, admin, body, filename=name)
        assert response.status_code == 422, (name, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    future = await upload(api, admin, V2.replace("clearway-rules/2", "x"), filename="x.yaml")
    assert "unknown format 'x'" in future.json()["errors"][0]["message"]


async def test_a_member_state_scope_in_a_union(api: Api) -> None:
    admin = await api.admin_token()
    body = {
        "code": "T-EU-DE-PACKAGING",
        "market": "EU",
        "title": "Packaging registration in Germany",
        "legal_reference": "VerpackG",
        "authority": "ZSVR",
        "evidence_type": "registration",
        "measure": "registration",
        "issuers": ["ZSVR (LUCID)"],
        "hs_codes": ["8518"],
        "regions": ["de"],
    }
    created = await api.client.post("/api/rules/admin/rules", json=body, headers=bearer(admin))
    assert created.status_code == 201, created.text
    assert created.json()["regions"] == ["DE"]
    refused = await api.client.post(
        "/api/rules/admin/rules",
        json={**body, "code": "T-EU-US", "regions": ["US"]},
        headers=bearer(admin),
    )
    assert refused.status_code == 422 and "member state" in refused.text


async def test_a_national_line_is_described_by_its_subheading(api: Api) -> None:
    response = await api.client.get("/api/rules/hs/8507.60.00")
    assert response.status_code == 200
    node = response.json()
    assert node["code"] == "85076000" and node["dotted"] == "8507.60.00"
    assert node["national"] and node["edition"] == "HS 2022"
    assert [p["code"] for p in node["path"]] == ["85", "8507", "850760"]
    assert (await api.client.get("/api/rules/hs/8599.00.00")).status_code == 422


async def test_numeric_conditions_survive_an_export_in_both_formats(api: Api) -> None:
    admin = await api.admin_token()
    ranged = V2.replace("{pack_wh: {gt: 100}}", "{pack_wh: {between: [100, 160]}, radio: no}")
    assert (await upload(api, admin, ranged, filename="ranged.yaml")).status_code == 200
    for fmt, written in (
        ("yaml", "between:\n      - 100\n      - 160"),
        ("csv", "pack_wh=between:100:160"),
    ):
        exported = await api.client.get(
            "/api/rules/admin/export", params={"format": fmt, "market": "NZ"}, headers=bearer(admin)
        )
        assert written in exported.text, exported.text
        if fmt == "yaml":
            assert exported.text.startswith("format: clearway-rules/2")
            assert "unit: Wh" in exported.text  # the numeric question travels with its rules
        report = await upload(api, admin, exported.text, filename=f"again.{fmt}", dry_run=True)
        assert report.json()["counts"] == {"unchanged": 2}, report.text
    check = await api.client.get(
        "/api/rules/self-check", params={"market": "NZ", "hs_code": "850760"}
    )
    [big] = [r for r in check.json()["requirements"] if r["code"] == "T-V2-BIG-PACK"]
    assert big["questions"][0]["applies_if"] == "from 100 to 160 Wh"
