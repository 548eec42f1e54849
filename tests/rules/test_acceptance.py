"""Acceptance set of the shipped rule base: for realistic products in every market, the search
through the gateway names the legal acts a correct answer must name (tests/rules/acceptance.yaml).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from clearway.services.rules.snapshot import DATA
from tests.conftest import Api

SET = yaml.safe_load((Path(__file__).parent / "acceptance.yaml").read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = SET["cases"]
AS_OF = str(SET["as_of"])
UNIONS: Mapping[str, list[str]] = {
    union: entry["members"]
    for union, entry in yaml.safe_load((DATA / "markets.yaml").read_text())["unions"].items()
}


def _shipped_markets() -> set[str]:
    markets = set()
    for path in (DATA / "rules").glob("*.yaml"):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        markets |= {rule["market"] for rule in document.get("rules") or ()}
    return markets


def _home(market: str) -> str:
    """The market a case is about: a union's member country counts for its union."""
    code = {"UK": "GB"}.get(market, market)
    return next((union for union, members in UNIONS.items() if code in members), code)


async def _everything(api: Api, case: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every requirement the search finds for the case, page by page."""
    found: dict[str, dict[str, Any]] = {}
    offset = 0
    while True:
        response = await api.client.get(
            "/api/rules/search",
            params={
                "market": case["market"],
                "hs_code": case["hs_code"],
                "as_of": AS_OF,
                "limit": 100,
                "offset": offset,
            },
        )
        assert response.status_code == 200, response.text
        page = response.json()
        found.update({item["code"]: item for item in page["items"]})
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return found


def test_the_set_is_broad_and_covers_every_market_of_the_rule_base() -> None:
    assert len(CASES) >= 40
    assert {_home(case["market"]) for case in CASES} >= _shipped_markets()
    for case in CASES:
        assert case["product"] and case["expect"], case


@pytest.mark.parametrize("market", sorted({_home(case["market"]) for case in CASES}))
async def test_each_product_gets_the_legal_acts_it_must(api: Api, market: str) -> None:
    missing = []
    for case in (c for c in CASES if _home(c["market"]) == market):
        found = await _everything(api, case)
        for code, act in case["expect"].items():
            item = found.get(code)
            if item is None:
                missing.append(f"{case['product']} ({case['market']}): {code} not found")
            elif act not in item["legal_reference"]:
                missing.append(
                    f"{case['product']} ({case['market']}): {code} does not cite {act!r} "
                    f"but {item['legal_reference']!r}"
                )
        missing.extend(
            f"{case['product']} ({case['market']}): {code} is not in force on {AS_OF}"
            for code in case.get("absent", ())
            if code in found
        )
    assert not missing, "\n".join(missing)
