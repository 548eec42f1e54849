"""Product phrases: what people call a product, mapped to where it is classified.

A curated table (`data/phrases.yaml`, format `clearway-phrases/1`) names the HS code of common
products ("power bank" -> 8507.60), and the categories' keywords name their category. A
description is read as the longest phrase it contains, typos forgiven; the phrase table wins
over a keyword of the same length. Where the longest phrases disagree, or a phrase is marked
ambiguous ("scooter": a toy or a motor vehicle?), the answer is the alternatives, never one of
them picked with false confidence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml  # type: ignore[import-untyped]
from rapidfuzz import fuzz, process

from clearway.services.rules.domain import Invalid
from clearway.services.rules.domain.categories import Category
from clearway.services.rules.domain.hs import HsNode, Nomenclature

FORMAT = "clearway-phrases/1"
Normalize = Callable[[str], list[str]]  # text -> the words the matching compares
MAX_PHRASE_WORDS = 6


@dataclass(frozen=True, slots=True)
class Meaning:
    kind: Literal["hs", "category"]
    key: str
    name: str


@dataclass(frozen=True, slots=True)
class Reading:
    """What the phrases make of a description: one meaning, or the alternatives."""

    phrase: str
    meanings: tuple[Meaning, ...]
    # Categories whose keywords are the same phrase: where an HS code is shared ("electric
    # scooter" and "e-bike" are both 8711.60), they tell which category the product is in.
    categories: tuple[str, ...] = ()

    @property
    def ambiguous(self) -> bool:
        return len(self.meanings) > 1


@dataclass(frozen=True, slots=True)
class _Phrase:
    words: tuple[str, ...]
    meanings: tuple[Meaning, ...]
    curated: bool  # from the phrase table (wins over a keyword of the same length)


class Phrases:
    def __init__(
        self, phrases: Iterable[_Phrase], normalize: Normalize, *, typo_min_length: int = 5
    ) -> None:
        self.normalize = normalize
        self.by_words: dict[tuple[str, ...], list[_Phrase]] = {}
        for phrase in phrases:
            if phrase.words:
                self.by_words.setdefault(phrase.words, []).append(phrase)
        self.vocabulary = frozenset(w for words in self.by_words for w in words)
        self._choices = sorted(self.vocabulary)
        self.typo_min_length = typo_min_length

    @classmethod
    def load(
        cls,
        path: Path,
        categories: Mapping[str, Category],
        nomenclature: Nomenclature,
        normalize: Normalize,
    ) -> Phrases:
        """The phrase table and the categories' keywords. A table entry is an HS code, or
        `{hs: "8507.60", name: ...}`, or `{ambiguous: ["8711.60", "9503"]}`."""
        entries: list[_Phrase] = []
        document: dict[str, Any] = {}
        if path.exists():
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if document.get("format", FORMAT) != FORMAT:
                raise ValueError(f"{path}: format must be {FORMAT}")
        for phrase, value in (document.get("phrases") or {}).items():
            spec = value if isinstance(value, Mapping) else {"hs": value}
            codes = spec.get("ambiguous") or [spec.get("hs")]
            meanings = []
            for raw in codes:
                try:
                    code = nomenclature.normalize(str(raw))
                except Invalid as exc:
                    raise ValueError(f"{path}: {phrase!r}: {exc}") from None
                node = nomenclature.nearest(code)
                name = str(spec.get("name") or (node.description if node else code))
                meanings.append(Meaning("hs", code, name if len(codes) == 1 else _short(node)))
            entries.append(_Phrase(tuple(normalize(str(phrase))), tuple(meanings), True))
        for category in categories.values():
            for keyword in category.keywords:
                meaning = Meaning("category", category.id, category.name)
                entries.append(_Phrase(tuple(normalize(keyword)), (meaning,), False))
        return cls(entries, normalize)

    def _correct(self, word: str) -> str:
        """A misspelt word of some phrase ("powerbnak" -> "powerbank"); others stay."""
        if word in self.vocabulary or len(word) < self.typo_min_length or word.isdigit():
            return word
        found = process.extractOne(word, self._choices, scorer=fuzz.ratio, score_cutoff=85)
        return str(found[0]) if found else word

    def read(self, text: str) -> Reading | None:
        """The longest phrase in `text` and what it means (None: no phrase found)."""
        words = [self._correct(w) for w in self.normalize(text)]
        best: list[_Phrase] = []
        for length in range(min(MAX_PHRASE_WORDS, len(words)), 0, -1):
            for start in range(len(words) - length + 1):
                best.extend(self.by_words.get(tuple(words[start : start + length]), ()))
            if best:
                break
        if not best:
            return None
        chosen = [p for p in best if p.curated] or best
        meanings = _narrowest(tuple(dict.fromkeys(m for p in chosen for m in p.meanings)))
        categories = tuple(
            dict.fromkeys(m.key for p in best for m in p.meanings if m.kind == "category")
        )
        return Reading(" ".join(chosen[0].words), meanings, categories)


def _narrowest(meanings: tuple[Meaning, ...]) -> tuple[Meaning, ...]:
    """HS codes that nest ("vacuum cleaner" 8508 and "robot vacuum" 8508.11 in "robot vacuum
    cleaner") are one reading, the narrowest; only codes side by side are alternatives."""
    codes = [m.key for m in meanings]
    if len(meanings) < 2 or any(m.kind != "hs" for m in meanings):
        return meanings
    narrowest = max(meanings, key=lambda m: len(m.key))
    if all(narrowest.key.startswith(code) for code in codes):
        return (narrowest,)
    return meanings


def _short(node: HsNode | None) -> str:
    return node.description if node is not None else ""
