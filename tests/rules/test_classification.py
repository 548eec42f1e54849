"""Classification that understands products: curated product descriptions, as people type
them, land on the right HS code or category through the search; ambiguous ones offer the
alternatives instead of a confident pick."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.rules.support import search

# description -> the HS code it must be read as (its first digits), a category id, or a list:
# the alternatives an ambiguous description must offer (and nothing picked).
CASES: list[tuple[str, str | list[str]]] = [
    # batteries and power: a power bank is an accumulator, not a charger
    ("power bank", "8507.60"),
    ("20000mAh USB-C power bank", "8507.60"),
    ("Anker powerbank 10000", "8507.60"),
    ("portable charger for iPhone", "8507.60"),
    ("lithium ion battery pack 48V", "8507.60"),
    ("car battery 12V", "8507.10"),
    ("AA alkaline batteries", "8506.10"),
    ("CR2032 coin cell", "8506"),
    ("battery", ["8506", "8507"]),
    ("usb charger", "8504.40"),
    ("65W GaN wall charger", "8504.40"),
    ("laptop power adapter", "8504.40"),
    ("wireless charger pad", "8504.40"),
    ("solar panel 400W", "8541.43"),
    # knives and kitchen
    ("kitchen knife", "8211"),
    ("Japanese chef's knife", "8211"),
    ("set of 6 kitchen knives", "8211"),
    ("folding pocket knife", "8211.93"),
    ("stainless steel frying pan", "7323.93"),
    ("plastic food container", "3924.10"),
    ("porcelain mug", "6911.10"),
    ("scissors", "8213"),
    # mobility: an electric scooter is a vehicle, not a toy; a kick scooter for kids is a toy
    ("e-bike", "8711.60"),
    ("E-Bike 250W pedelec", "8711.60"),
    ("electric bike for commuting", "8711.60"),
    ("electric scooter", "8711.60"),
    ("Xiaomi electric scooter 350W", "8711.60"),
    ("e-scooter", "8711.60"),
    ("hoverboard", "8711.60"),
    ("kick scooter for kids", "9503"),
    ("scooter", ["8711.60", "9503.00"]),
    ("bicycle", "8712"),
    ("mountain bike", "8712"),
    ("bicycle helmet", "6506.10"),
    ("baby stroller", "8715"),
    # drones
    ("drone", "8806"),
    ("DJI mini camera drone", "8806"),
    ("quadcopter with 4K camera", "8806"),
    # electronics
    ("bluetooth speaker", "audio-radio"),
    ("blutooth speakr", "audio-radio"),
    ("wireless headphones", "audio-radio"),
    ("smartphone", "mobile-phones"),
    ("Android mobile phone", "mobile-phones"),
    ("wifi router", "network-equipment"),
    ("smartwatch", "wearables"),
    ("laptop", "8471.30"),
    ("gaming laptop 15 inch", "8471.30"),
    ("tablet", ["8471.30", "3004.90"]),
    ("computer mouse", "8471.60"),
    ("4K television", "8528.72"),
    ("game console", "9504.50"),
    ("e-cigarette", "8543.40"),
    # appliances, lighting, tools
    ("electric kettle", "8516.79"),
    ("hair dryer", "8516.31"),
    ("hairdryer 2000W", "8516.31"),
    ("air fryer", "8516.60"),
    ("robot vacuum cleaner", "8508.11"),
    ("electric toothbrush", "8509.80"),
    ("LED bulb E27", "8539.52"),
    ("desk lamp", "9405.21"),
    ("cordless drill", "8467.21"),
    # toys and games
    ("teddy bear", "9503"),
    ("plush toy for babies", "9503"),
    ("jigsaw puzzle 1000 pieces", "9503"),
    ("board game", "9504.90"),
    # textiles, eyewear, jewellery, watches, PPE
    ("cotton t-shirt", "6109.10"),
    ("leather shoes", "6403"),
    ("sneakers", "6404.11"),
    ("sunglasses", "9004.10"),
    ("polarized sunglasses", "9004.10"),
    ("reading glasses", "9004.90"),
    ("gold ring", "7113.19"),
    ("silver necklace", "7113.11"),
    ("fashion jewellery earrings", "7117"),
    ("earrings", ["7113", "7117"]),
    ("wristwatch", "9102"),
    ("safety gloves", "6116.10"),
    # cosmetics, food, health, furniture
    ("lipstick", "3304.10"),
    ("face cream", "3304.99"),
    ("shampoo", "3305.10"),
    ("perfume", "3303"),
    ("dietary supplement", "2106.90"),
    ("vitamin tablets", "2106.90"),
    ("roasted coffee beans", "0901.21"),
    ("olive oil", "1509"),
    ("baby bottle", "3924.90"),
    ("blood pressure monitor", "9018.90"),
    ("thermometer", ["9025.19", "9025.11"]),
    ("office chair", "9401.31"),
    ("mattress", "9404.21"),
]


def test_the_curated_list_is_long_enough() -> None:
    assert len(CASES) >= 60
    assert len({text for text, _ in CASES}) == len(CASES)


def _digits(code: str) -> str:
    return code.replace(".", "")


def _wrong(found: dict[str, Any], expected: str | list[str]) -> str | None:
    """What is wrong with how a description was read (None: nothing)."""
    matched = found["matched"]
    if isinstance(expected, list):
        offered = {a["key"] for a in found["alternatives"]}
        if not matched["ambiguous"] or matched["interpretation"] is not None:
            return f"picked {matched['interpretation']} instead of offering {expected}"
        if found["items"] or found["coverage"] != "none":
            return "an ambiguous description found rules"
        if not {_digits(c) for c in expected} <= offered:
            return f"offered {sorted(offered)}"
        return None
    if matched["ambiguous"]:
        return f"found it ambiguous: {[a['key'] for a in found['alternatives']]}"
    if expected[0].isdigit():
        if not (matched["hs_code"] or "").startswith(_digits(expected)):
            return f"read as HS {matched['hs_code']} / category {matched['category']}"
        return None
    if not matched["category"] or matched["category"]["id"] != expected:
        return f"read as category {matched['category']} / HS {matched['hs_code']}"
    return None


async def test_product_descriptions_land_where_they_are_classified(api: Api) -> None:
    # One platform for the whole list (a platform per case would start it ninety times).
    wrong = {}
    for text, expected in CASES:
        problem = _wrong(await search(api, market="EU", q=text), expected)
        if problem is not None:
            wrong[text] = f"expected {expected}, {problem}"
    assert wrong == {}


async def test_an_electric_scooter_is_not_a_toy(api: Api) -> None:
    found = await search(api, market="EU", q="electric scooter")
    assert found["matched"]["hs_code"] == "871160"
    assert (found["matched"]["hs_category"] or {}).get("id") != "toys"
    for item in found["items"]:
        assert item["why"]["scope_category"] != "toys"
        assert not (item["why"]["scope_hs_code"] or "").startswith("9503"), item["code"]


async def test_the_hs_lookup_names_a_phrase_first(api: Api) -> None:
    response = await api.client.get("/api/rules/hs", params={"q": "power bank"})
    assert response.status_code == 200
    first = response.json()["items"][0]
    assert (first["kind"], first["key"], first["score"]) == ("hs", "850760", 1.0)
