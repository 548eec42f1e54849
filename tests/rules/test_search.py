"""Search: HS prefixes at every depth, categories, free text, unions, paging, bad input, events."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, bearer
from tests.rules.support import codes, create, publish, search
from tests.support import capture_published


@pytest.fixture
async def depths(api: Api) -> Api:
    admin = await api.admin_token()
    for code, hs in (
        ("T-CHAPTER", "85"),
        ("T-HEADING", "8518"),
        ("T-SUB", "8518.22"),
        ("T-OTHER", "851829"),
    ):
        await create(api, admin, code=code, hs_codes=[hs])
        await publish(api, admin, code)
    return api


async def test_hs_prefix_matching_at_every_depth(depths: Api) -> None:
    found = await search(depths, hs_code="8518.22")
    assert set(codes(found)) == {"T-CHAPTER", "T-HEADING", "T-SUB"}
    assert found["matched"]["hs_code"] == "851822"
    assert codes(found)[0] == "T-SUB"  # the most specific rule ranks first
    why = {i["code"]: i["why"] for i in found["items"]}
    assert why["T-CHAPTER"]["scope_hs_code"] == "85"
    assert "falls under HS 85" in why["T-CHAPTER"]["reason"]

    heading = await search(depths, hs_code="8518")
    assert set(codes(heading)) == {"T-CHAPTER", "T-HEADING", "T-SUB", "T-OTHER"}
    narrower = {i["code"] for i in heading["items"] if i["why"]["narrower"]}
    assert narrower == {"T-SUB", "T-OTHER"}

    assert set(codes(await search(depths, hs_code="85"))) == {
        "T-CHAPTER",
        "T-HEADING",
        "T-SUB",
        "T-OTHER",
    }
    assert set(codes(await search(depths, hs_code="851830"))) == {"T-CHAPTER", "T-HEADING"}
    assert codes(await search(depths, hs_code="8504")) == ["T-CHAPTER"]
    assert codes(await search(depths, hs_code="9503")) == []


async def test_paging(depths: Api) -> None:
    first = await search(depths, hs_code="85", limit=3)
    second = await search(depths, hs_code="85", limit=3, offset=3)
    assert first["total"] == second["total"] == 4
    assert len(first["items"]) == 3 and len(second["items"]) == 1
    assert not set(codes(first)) & set(codes(second))


async def test_free_text_with_typos_finds_audio_with_radio(api: Api) -> None:
    found = await search(api, market="EU", q="blutooth speakr")
    assert found["matched"]["category"]["id"] == "audio-radio"
    assert found["matched"]["interpretation"]["kind"] == "category"
    red = next(i for i in found["items"] if i["code"] == "EU-RED")
    assert red["conditional"] and red["questions"][0]["id"] == "radio"
    assert red["legal_reference"].startswith("Directive 2014/53/EU")
    assert red["why"]["reason"]


async def test_an_hs_code_typed_as_text_is_an_hs_code(api: Api) -> None:
    found = await search(api, market="EU", q="8518.22")
    assert found["matched"]["hs_code"] == "851822"
    assert "EU-RED" in codes(found)


async def test_a_member_country_gets_its_union_rules(api: Api) -> None:
    found = await search(api, market="Germany", category="toys")
    assert found["market"]["code"] == "DE" and found["market"]["unions"] == ["EU"]
    assert "EU-TOYS" in codes(found)
    uk = await search(api, market="UK", category="toys")
    assert "GB-TOYS" in codes(uk) and "EU-TOYS" not in codes(uk)


async def test_the_shipped_rule_base_covers_ten_markets_and_twenty_categories(api: Api) -> None:
    markets = (await api.client.get("/api/rules/markets")).json()["items"]
    countries = {m["code"] for m in markets if m["kind"] == "country"}
    assert {"US", "GB", "CN", "JP", "KR", "CA", "AU", "IN", "BR"} <= countries
    categories = (await api.client.get("/api/rules/categories")).json()["items"]
    assert len(categories) >= 20
    for market in ("EU", "US", "GB", "CN", "JP", "KR", "CA", "AU", "IN", "BR"):
        assert (await search(api, market=market, hs_code="851713"))["total"] > 0, market


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"market": "EU", "hs_code": "85a8"}, "malformed-hs-code"),
        ({"market": "EU", "hs_code": "851"}, "malformed-hs-code"),
        ({"market": "EU", "hs_code": "8599"}, "unknown-hs-code"),
        ({"market": "Atlantis", "hs_code": "8518"}, "unknown-market"),
        ({"market": "EU", "category": "spaceships"}, "unknown-category"),
        ({"market": "EU"}, "no-product"),
        ({"market": "EU", "hs_code": "8" * 30}, "validation"),
        ({"hs_code": "8518"}, "validation"),
    ],
)
async def test_bad_input_is_a_clear_422(api: Api, params: dict[str, str], problem: str) -> None:
    response = await api.client.get("/api/rules/search", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith(problem)


async def test_each_search_emits_search_performed_without_personal_data(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = capture_published(api.platform, monkeypatch)
    token = await api.customer("searcher@example.com")
    response = await api.client.get(
        "/api/rules/search", params={"market": "EU", "hs_code": "8518.22"}, headers=bearer(token)
    )
    assert response.status_code == 200
    await api.client.get("/api/rules/search", params={"market": "US", "q": "lipstick"})
    hosted = api.platform.hosted["rules"]
    await hosted.telemetry.flush()
    searches: list[dict[str, Any]] = [e.data for e in published if e.type == "search.performed"]
    assert searches[0] == {
        "query": None,
        "hs_code": "851822",
        "hs_chapter": "85",
        "hs_heading": "8518",
        "category": None,
        "market": "EU",
        "role": "customer",
    }
    # "lipstick" is a product phrase: read as HS 3304.10 (lip make-up)
    assert searches[1]["hs_code"] == "330410" and searches[1]["role"] == "anonymous"
    assert all("user_id" not in s for s in searches)
