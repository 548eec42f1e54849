"""Honest coverage: every answer says how far the rule base covers the product, with the
reason; rules apply from their real dates and `as_of` looks at another day; the coverage
matrix is served and rendered into the docs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clearway.services.rules.domain.categories import Category
from clearway.services.rules.domain.content import RuleContent
from clearway.services.rules.domain.coverage import Coverage
from clearway.services.rules.domain.lookup import RuleBase
from clearway.services.rules.domain.markets import Markets
from clearway.services.rules.domain.versions import RuleVersion, Status
from clearway.services.rules.shipped import coverage_markdown
from clearway.services.rules.snapshot import DATA
from tests.conftest import Api, bearer
from tests.rules.support import codes, search
from tests.rules.test_files import upload

DOCS = Path(__file__).parents[2] / "docs" / "coverage.md"

DATED = """\
format: clearway-rules/2
rules:
  - code: T-NOW
    market: NZ
    title: In force since 2024
    legal_reference: Test Act 2024, section 1
    authority: Test authority
    evidence_type: labelling
    measure: labelling
    issuers: [Maker]
    hs_codes: ["8518"]
    url: https://example.org/now
    last_verified: 2026-11-30
    effective_from: 2024-01-01
    effective_to: 2029-01-01
  - code: T-LATER
    market: NZ
    title: Applies from 2029
    legal_reference: Test Act 2028, section 1
    authority: Test authority
    evidence_type: declaration_of_conformity
    measure: certification
    issuers: [Maker]
    hs_codes: ["8518"]
    url: https://example.org/later
    last_verified: 2026-11-30
    effective_from: 2029-01-01
"""


async def test_rules_apply_from_their_dates_and_as_of_looks_at_another_day(api: Api) -> None:
    admin = await api.admin_token()
    assert (await upload(api, admin, DATED, filename="dated.yaml")).status_code == 200
    assert codes(await search(api, hs_code="8518")) == ["T-NOW"]
    later = await search(api, hs_code="8518", as_of="2029-06-01")
    assert codes(later) == ["T-LATER"] and later["as_of"] == "2029-06-01"
    assert codes(await search(api, hs_code="8518", as_of="2023-12-31")) == []
    check = await api.client.get(
        "/api/rules/self-check", params={"market": "NZ", "hs_code": "8518", "as_of": "2029-01-01"}
    )
    assert [r["code"] for r in check.json()["requirements"]] == ["T-LATER"]
    token = await api.customer("planner@example.com")
    created = await api.client.post(
        "/api/rules/checklists",
        json={"market": "NZ", "hs_code": "8518", "as_of": "2029-06-01"},
        headers=bearer(token),
    )
    assert created.status_code == 201, created.text
    checklist = created.json()
    assert checklist["as_of"] == "2029-06-01"
    assert [r["code"] for r in checklist["requirements"]] == ["T-LATER"]
    # answering again decides on the same day, not today
    again = await api.client.put(
        f"/api/rules/checklists/{checklist['id']}/answers",
        json={"answers": {"radio": True}},
        headers=bearer(token),
    )
    assert [r["code"] for r in again.json()["requirements"]] == ["T-LATER"]
    for wrong in ("1899-01-01", "9999-12-31", "tomorrow"):
        response = await api.client.get(
            "/api/rules/search", params={"market": "NZ", "hs_code": "8518", "as_of": wrong}
        )
        assert response.status_code == 422, wrong


async def test_a_market_without_rules_says_so_instead_of_an_empty_answer(api: Api) -> None:
    found = await search(api, market="AQ", hs_code="8518")
    assert found["items"] == [] and found["coverage"] == "none"
    assert found["coverage_reason"] == "no rules for this market"
    check = await api.client.get("/api/rules/self-check", params={"market": "KP", "q": "drone"})
    assert check.json()["coverage"] == "none"
    assert check.json()["coverage_reason"] == "no rules for this market"


async def test_a_product_outside_the_rule_base_says_so(api: Api) -> None:
    admin = await api.admin_token()
    assert (await upload(api, admin, DATED, filename="dated.yaml")).status_code == 200
    drone = await search(api, hs_code="8806")
    assert drone["items"] == [] and drone["coverage"] == "none"
    assert drone["coverage_reason"] == "no rules for HS chapter 88 in this market"
    near = await search(api, hs_code="8517")  # chapter 85 has rules, 8517 none
    assert near["coverage"] == "none" and "HS 8517" in near["coverage_reason"]
    speaker = await search(api, hs_code="8518.22")
    assert speaker["coverage"] == "partial" and speaker["items"]
    assert speaker["coverage_reason"] == "rules found for HS 8518.22; not reviewed as complete"


async def test_ambiguous_text_offers_alternatives_not_a_pick(api: Api) -> None:
    found = await search(api, market="EU", q="scooter")
    assert found["matched"]["ambiguous"] and found["matched"]["interpretation"] is None
    assert found["items"] == [] and found["coverage"] == "none"
    assert "choose one of the alternatives" in found["coverage_reason"]
    keys = {a["key"] for a in found["alternatives"]}
    assert {"871160", "950300"} <= keys


async def test_the_coverage_matrix_is_served(api: Api) -> None:
    response = await api.client.get("/api/rules/coverage")
    assert response.status_code == 200
    matrix: dict[str, Any] = response.json()
    markets = [m["code"] for m in matrix["markets"]]
    categories = [c["id"] for c in matrix["categories"]]
    assert "EU" in markets and "US" in markets and "toys" in categories
    cells = {(c["market"], c["category"]): c for c in matrix["cells"]}
    assert len(cells) == len(markets) * len(categories)  # every cell, none left blank
    assert all(
        c["coverage"] in ("complete", "partial", "none") and c["reason"] for c in cells.values()
    )
    assert cells[("EU", "toys")]["coverage"] != "none"


def _version(code: str, market: str, category: str) -> RuleVersion:
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    content = RuleContent(code, market, "t", "l", "a", "labelling", ("m",), categories=(category,))
    return RuleVersion(content, 1, Status.PUBLISHED, moment, None, moment, "s", moment, "s")


def test_declared_cells_win_and_the_rest_is_computed(tmp_path: Path) -> None:
    markets = Markets.from_yaml(DATA / "markets.yaml")
    categories = {
        "drones": Category("drones", "Drones", ("8806",)),
        "toys": Category("toys", "Toys", ("9503",)),
        "knives": Category("knives", "Knives", ("8211",)),
    }
    declared = tmp_path / "coverage.yaml"
    declared.write_text(
        "format: clearway-coverage/1\n"
        "markets:\n"
        "  EU:\n"
        "    categories:\n"
        "      drones: complete\n"
        "      knives: {coverage: none, reason: not yet reviewed for knives}\n"
    )
    coverage = Coverage.from_yaml(declared, markets, categories)
    base = RuleBase([_version("EU-DRONES", "EU", "drones")], categories)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    eu, de, us = (markets.get(c) for c in ("EU", "DE", "US"))
    assert eu and de and us
    drones = coverage.cell(base, markets, de, categories["drones"], now)  # a member inherits
    assert drones.coverage == "complete" and drones.declared
    knives = coverage.cell(base, markets, eu, categories["knives"], now)
    assert (knives.coverage, knives.reason) == ("none", "not yet reviewed for knives")
    toys = coverage.cell(base, markets, eu, categories["toys"], now)
    assert (toys.coverage, toys.reason) == ("none", "no rules for toys in this market")
    assert coverage.cell(base, markets, us, categories["toys"], now).reason == (
        "no rules for this market"
    )
    product = coverage.for_product(
        base,
        markets,
        de,
        category=None,
        hs_code="880621",
        categories=categories.values(),
        hits=[],
        now=now,
    )
    assert product.coverage == "complete"  # declared for the category the code falls in


def test_docs_coverage_page_is_current() -> None:
    rendered = coverage_markdown()
    assert DOCS.read_text(encoding="utf-8") == rendered, (
        "docs/coverage.md is stale: run `clearway rules coverage --markdown > docs/coverage.md`"
    )
