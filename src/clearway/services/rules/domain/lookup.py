"""The lookup path, served from memory: an immutable snapshot of the published rule base with
precomputed indexes (market x HS prefix, market x category), and typo-tolerant text matching.

A lookup is a few dictionary reads: an HS code has at most three prefixes (85, 8518, 851822),
and each rule is filed under every (market, prefix) its scope names. Effective dates are
checked per hit at lookup time, so a rule that starts tomorrow needs no reload to appear.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Literal

from rapidfuzz import fuzz, process

from clearway.services.rules.domain.categories import Category
from clearway.services.rules.domain.classify import Phrases
from clearway.services.rules.domain.hs import Nomenclature, dotted, prefixes
from clearway.services.rules.domain.markets import Markets
from clearway.services.rules.domain.questions import Question
from clearway.services.rules.domain.versions import RuleVersion

_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "or",
        "of",
        "the",
        "for",
        "with",
        "without",
        "in",
        "on",
        "to",
        "by",
        "not",
        "other",
        "than",
        "their",
        "its",
        "such",
        "as",
        "be",
        "whether",
        "nes",
        "etc",
        "thereof",
        "parts",
        "incl",
        "including",
        "excluding",
        "used",
        "use",
    }
)
SCORE = {"category": 1.0, 10: 0.97, 8: 0.96, 6: 0.95, 4: 0.9, 2: 0.8, "narrower": 0.5}
MIN_TEXT_SCORE = 0.45


@dataclass(frozen=True, slots=True)
class _Entry:
    version: RuleVersion
    scope_hs: str | None  # the HS code of the rule's scope that matched
    scope_category: str | None  # the category of the rule's scope that matched


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule in force that applies to the product, and why."""

    version: RuleVersion
    score: float
    reason: str
    matched_hs: str | None
    scope_hs: str | None
    scope_category: str | None
    narrower: bool


class RuleBase:
    """Published versions (in force, or starting or ending later), indexed once per reload."""

    def __init__(self, versions: Iterable[RuleVersion], categories: Mapping[str, Category]) -> None:
        self.categories = categories
        self.versions: dict[str, list[RuleVersion]] = {}
        self._markets: set[str] | None = None
        self._hs: dict[tuple[str, str], list[_Entry]] = {}
        self._under: dict[tuple[str, str], list[_Entry]] = {}
        self._category: dict[tuple[str, str], list[_Entry]] = {}
        for version in versions:
            self.versions.setdefault(version.code, []).append(version)
            market = version.content.market
            for code in version.content.hs_codes:
                self._file(market, code, _Entry(version, code, None))
            for category_id in version.content.categories:
                self._category.setdefault((market, category_id), []).append(
                    _Entry(version, None, category_id)
                )
                for code in categories[category_id].hs_codes:
                    self._file(market, code, _Entry(version, code, category_id))

    def _file(self, market: str, code: str, entry: _Entry) -> None:
        self._hs.setdefault((market, code), []).append(entry)
        for broader in prefixes(code)[:-1]:
            self._under.setdefault((market, broader), []).append(entry)

    def markets_with_rules(self) -> set[str]:
        if self._markets is None:  # computed once per snapshot
            self._markets = {v.content.market for vs in self.versions.values() for v in vs}
        return self._markets

    def has_rules(self, markets: list[str]) -> bool:
        """Whether any of these markets has published rules (in force or dated)."""
        return not self.markets_with_rules().isdisjoint(markets)

    def has_rules_under(self, markets: list[str], code: str, now: datetime) -> bool:
        """Whether a rule in force covers `code` or a part of it (an HS chapter, say)."""
        for market in markets:
            entries = [e for p in prefixes(code) for e in self._hs.get((market, p), ())]
            entries += self._under.get((market, code), ())
            if any(e.version.in_force(now) for e in entries):
                return True
        return False

    def in_force(self, code: str, now: datetime) -> RuleVersion | None:
        found = [v for v in self.versions.get(code, ()) if v.in_force(now)]
        return max(found, key=lambda v: v.version) if found else None

    def next_change(self, now: datetime) -> datetime | None:
        """The next instant after `now` at which a version enters or leaves force (None: never).
        Between two such instants every lookup gives the same answer."""
        moments = [
            moment
            for versions in self.versions.values()
            for v in versions
            for moment in (v.effective_from, v.effective_to)
            if moment is not None and moment > now
        ]
        return min(moments, default=None)

    def by_hs(self, markets: list[str], hs_code: str, now: datetime) -> list[Hit]:
        hits = []
        for market in markets:
            for prefix in prefixes(hs_code):
                for entry in self._hs.get((market, prefix), ()):
                    if entry.version.in_force(now):
                        hits.append(_hs_hit(entry, hs_code, self.categories))
            for entry in self._under.get((market, hs_code), ()):
                if entry.version.in_force(now):
                    hits.append(_narrower_hit(entry, hs_code))
        return hits

    def by_category(self, markets: list[str], category: Category, now: datetime) -> list[Hit]:
        hits = []
        for market in markets:
            for entry in self._category.get((market, category.id), ()):
                if entry.version.in_force(now):
                    reason = f"This rule covers the category \u201c{category.name}\u201d."
                    hits.append(
                        Hit(
                            entry.version, SCORE["category"], reason, None, None, category.id, False
                        )
                    )
        for code in category.hs_codes:
            for hit in self.by_hs(markets, code, now):
                if not hit.narrower:
                    hits.append(hit)
        return hits


def _hs_hit(entry: _Entry, hs_code: str, categories: Mapping[str, Category]) -> Hit:
    scope = entry.scope_hs
    assert scope is not None
    if entry.scope_category is not None:
        name = categories[entry.scope_category].name
        reason = (
            f"HS {dotted(hs_code)} is in the category \u201c{name}\u201d (HS {dotted(scope)}),"
            " which this rule covers."
        )
    elif scope == hs_code:
        reason = f"This rule covers HS {dotted(scope)}."
    else:
        reason = f"HS {dotted(hs_code)} falls under HS {dotted(scope)}, which this rule covers."
    return Hit(
        entry.version, SCORE[len(scope)], reason, hs_code, scope, entry.scope_category, False
    )


def _narrower_hit(entry: _Entry, hs_code: str) -> Hit:
    scope = entry.scope_hs
    assert scope is not None
    reason = (
        f"This rule covers HS {dotted(scope)}, a part of HS {dotted(hs_code)}: it applies if"
        " your product is classified there."
    )
    return Hit(entry.version, SCORE["narrower"], reason, hs_code, scope, entry.scope_category, True)


def best_per_rule(hits: Iterable[Hit]) -> list[Hit]:
    """One hit per rule, the most specific; ranked by relevance, mandatory before conditional."""
    best: dict[str, Hit] = {}
    for hit in hits:
        current = best.get(hit.version.code)
        if current is None or hit.score > current.score:
            best[hit.version.code] = hit
    return sorted(
        best.values(),
        key=lambda h: (
            -h.score,
            h.version.content.conditional,
            h.version.content.market,
            h.version.code,
        ),
    )


# --- free text -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Interpretation:
    """What a free-text query is taken to mean: a category or an HS code."""

    kind: Literal["category", "hs"]
    key: str
    name: str
    score: float


@dataclass(frozen=True, slots=True)
class _Doc:
    kind: Literal["category", "hs"]
    key: str
    name: str
    weight: float


_LETTER_PREFIX = re.compile(r"\b([a-z])-(?=[a-z])")


def terms(text: str) -> list[str]:
    """A text as the matching reads it: lower case, no stop words, no plural s."""
    words = []
    # "e-bike", "t-shirt": one word, not a lone letter (dropped) and "bike".
    for word in _WORD.findall(_LETTER_PREFIX.sub(r"\1", text.lower())):
        if word in STOPWORDS or len(word) < 2:
            continue
        if len(word) > 4 and word.endswith("ies"):
            word = word[:-3] + "y"  # plural: batteries -> battery
        elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]  # plural: speakers -> speaker
        words.append(word)
    return words


class TextMatcher:
    """Typo-tolerant matching of a product description against categories and HS texts.

    Each query word is matched to the vocabulary exactly or by edit similarity ("blutooth"
    -> "bluetooth"); documents score by the rarity-weighted share of query words they contain.
    """

    def __init__(self, categories: Iterable[Category], nomenclature: Nomenclature) -> None:
        self.docs: list[_Doc] = []
        postings: dict[str, set[int]] = {}

        def add(doc: _Doc, text: str) -> None:
            index = len(self.docs)
            self.docs.append(doc)
            for term in terms(text):
                postings.setdefault(term, set()).add(index)

        for category in categories:
            add(
                _Doc("category", category.id, category.name, 1.0),
                " ".join((category.name, category.description, *category.keywords)),
            )
        for node in nomenclature.nodes.values():
            add(_Doc("hs", node.code, node.description, 0.8 + 0.02 * node.level), node.description)
        total = len(self.docs)
        self.postings = {t: frozenset(d) for t, d in postings.items()}
        self.idf = {t: math.log(1 + total / len(d)) for t, d in postings.items()}
        self.vocabulary = list(self.postings)
        self.match = lru_cache(maxsize=4096)(self._match)

    def _similar(self, word: str) -> list[tuple[str, float]]:
        if word in self.postings:
            return [(word, 1.0)]
        if len(word) < 4 or word.isdigit():
            return []
        found = process.extract(word, self.vocabulary, scorer=fuzz.ratio, score_cutoff=80, limit=4)
        return [(term, score / 100) for term, score, _ in found]

    def _match(self, text: str, limit: int = 5) -> tuple[Interpretation, ...]:
        words = list(dict.fromkeys(terms(text)))[:12]
        if not words:
            return ()
        scores: dict[int, float] = {}
        possible = 0.0
        for word in words:
            best_for_doc: dict[int, float] = {}
            best_weight = 0.0
            for term, similarity in self._similar(word):
                weight = similarity * self.idf[term]
                best_weight = max(best_weight, weight)
                for doc in self.postings[term]:
                    if weight > best_for_doc.get(doc, 0.0):
                        best_for_doc[doc] = weight
            possible += best_weight or max(self.idf.values())
            for doc, weight in best_for_doc.items():
                scores[doc] = scores.get(doc, 0.0) + weight
        if not scores or possible == 0:
            return ()
        ranked = sorted(
            ((score / possible * self.docs[doc].weight, doc) for doc, score in scores.items()),
            key=lambda pair: (-pair[0], self.docs[pair[1]].key),
        )
        return tuple(
            Interpretation(self.docs[d].kind, self.docs[d].key, self.docs[d].name, round(s, 3))
            for s, d in ranked[:limit]
            if s >= MIN_TEXT_SCORE
        )


# --- the whole lookup ----------------------------------------------------------------------


@dataclass(frozen=True)
class Catalogs:
    """The reference data a lookup needs besides the rules (loaded once per process)."""

    nomenclature: Nomenclature
    markets: Markets
    categories: Mapping[str, Category]
    questions: Mapping[str, Question]


def category_of(hs_code: str, categories: Mapping[str, Category]) -> Category | None:
    """The category an HS code falls in: the one naming the longest part of it."""
    best, length = None, 0
    for category in categories.values():
        for code in category.hs_codes:
            if hs_code.startswith(code) and len(code) > length:
                best, length = category, len(code)
    return best


@dataclass(frozen=True)
class Found:
    """The answer to a lookup: how the product was understood and the rules that apply."""

    hs_code: str | None
    category: Category | None
    interpretation: Interpretation | None
    alternatives: tuple[Interpretation, ...]
    hits: list[Hit]
    ambiguous: bool = False  # the description fits several products: see the alternatives
    hs_category: Category | None = None  # the category the HS code falls in


def find(
    base: RuleBase,
    matcher: TextMatcher,
    catalogs: Catalogs,
    markets: list[str],
    *,
    hs_code: str | None,
    category: Category | None,
    text: str | None,
    now: datetime,
    phrases: Phrases | None = None,
) -> Found:
    """Rules in force for a product in a market. An HS code or a category given wins over text.
    Text is read as the product phrase it contains, else as its best textual match (the others
    offered as alternatives); a phrase that fits several products finds no rules, only the
    alternatives to choose from."""
    interpretation = None
    alternatives: tuple[Interpretation, ...] = ()
    hs_category = None
    if hs_code is None and category is None and text:
        query = text.strip().lower()
        reading = phrases.read(query) if phrases is not None else None
        matched = matcher.match(query)
        if reading is not None and reading.ambiguous:
            options = tuple(Interpretation(m.kind, m.key, m.name, 1.0) for m in reading.meanings)
            return Found(None, None, None, options, [], ambiguous=True)
        if reading is not None:
            meaning = reading.meanings[0]
            interpretation = Interpretation(meaning.kind, meaning.key, meaning.name, 1.0)
            alternatives = tuple(m for m in matched if m.key != meaning.key)[:4]
        elif matched:
            interpretation, alternatives = matched[0], matched[1:]
        if interpretation is not None:
            if interpretation.kind == "category":
                category = catalogs.categories[interpretation.key]
            else:
                hs_code = interpretation.key
                named = [catalogs.categories[c] for c in reading.categories] if reading else []
                hs_category = category_of(hs_code, {c.id: c for c in named})
    hits: list[Hit] = []
    if hs_code is not None:
        hits.extend(base.by_hs(markets, hs_code, now))
    if category is not None:
        hits.extend(base.by_category(markets, category, now))
    ranked = best_per_rule(hits)
    if interpretation is not None:
        ranked = [
            Hit(
                h.version,
                round(h.score * interpretation.score, 3),
                h.reason,
                h.matched_hs,
                h.scope_hs,
                h.scope_category,
                h.narrower,
            )
            for h in ranked
        ]
    return Found(
        hs_code,
        category,
        interpretation,
        alternatives,
        ranked,
        hs_category=hs_category or (category_of(hs_code, catalogs.categories) if hs_code else None),
    )
