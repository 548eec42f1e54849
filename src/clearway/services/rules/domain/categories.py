"""Product categories: the platform's names for kinds of products, each mapped onto HS codes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from clearway.services.rules.domain.hs import Nomenclature


@dataclass(frozen=True, slots=True)
class Category:
    """A product category of the platform, mapped onto HS codes."""

    id: str
    name: str
    hs_codes: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    description: str = ""


def load_categories(path: Path, nomenclature: Nomenclature) -> dict[str, Category]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    categories = {}
    for key, item in document["categories"].items():
        codes = tuple(nomenclature.normalize(str(code)) for code in item["hs_codes"])
        categories[key] = Category(
            key,
            item["name"],
            codes,
            tuple(str(k) for k in item.get("keywords", ())),
            item.get("description", ""),
        )
    return categories
