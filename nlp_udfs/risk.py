"""Risk detection for the priority engine: safety, fraud, privacy, legal threats, media exposure.

Independent of the taxonomy seed on purpose: a business user may rename or drop risk tags,
but an exploding battery or a threat to call 12315 must still raise a risk. The rules are data
(``lexicons/risk.txt``), matched per clause with the taxonomy keyword syntax, and every hit
keeps the phrase and clause that raised it, so a risk in the mart can be audited.

A risk keyword does not count when

- a negator stands right before it (``不发烫``, ``没有起火``, ``从没漏电``): the customer says
  the hazard is absent;
- a veto phrase for that category occurs in the clause (``心态炸了`` is not an explosion,
  ``隐私都被曝光了`` is a privacy problem, not media exposure).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .clauses import Clause, split_clauses
from .lexicon_files import read_lexicon_lines
from .matching import ClauseMemo, PhraseIndex
from .taxonomy import Keyword, parse_keywords

RISK_CATEGORIES = ("safety", "fraud", "privacy", "legal", "media")
# Negators that, right before a risk keyword, say the risk is absent.
RISK_NEGATORS = ("没有", "没", "不", "无", "未", "不会", "从没", "从来没", "从不", "并没有", "并不", "不再")
NEGATOR_REACH = 3  # characters between a negator and the keyword ("不会发烫", "没有出现过起火" is out of reach)


@dataclass(frozen=True)
class RiskHit:
    """One risk raised by a keyword in a clause."""

    category: str
    keyword: str
    clause: str

    def as_evidence(self) -> dict[str, str]:
        return {"category": self.category, "keyword": self.keyword, "clause": self.clause}


@dataclass(frozen=True)
class RiskRule:
    category: str
    keyword: Keyword
    is_veto: bool


class RiskRules:
    """The rules of ``lexicons/risk.txt``, indexed by the first part of each keyword."""

    def __init__(self, rules: list[RiskRule]):
        self.rules = tuple(rules)
        by_first: dict[str, list[RiskRule]] = {}
        for rule in self.rules:
            by_first.setdefault(rule.keyword.parts[0], []).append(rule)
        self._index: PhraseIndex[list[RiskRule]] = PhraseIndex(by_first.items())
        self._clause_hits = ClauseMemo(self._hits_in_clause_uncached)

    def hits_in_clause(self, clause: str) -> dict[str, str]:
        """category -> first affirmed keyword in this (lower-cased) clause, vetoes applied.

        Memoized (``ClauseMemo``); callers must not modify the returned dict.
        """
        return self._clause_hits(clause)

    def _hits_in_clause_uncached(self, clause: str) -> dict[str, str]:
        hits: dict[str, str] = {}
        vetoed: set[str] = set()
        for start, _, rules in self._index.find_all(clause):
            for rule in rules:
                if not rule.keyword.matches_at(clause, start):
                    continue
                if rule.is_veto:
                    vetoed.add(rule.category)
                elif rule.category not in hits and not _negated(clause, start):
                    hits[rule.category] = rule.keyword.text
        return {category: keyword for category, keyword in hits.items() if category not in vetoed}


@lru_cache(maxsize=1)
def risk_rules() -> RiskRules:
    """The rules of ``lexicons/risk.txt`` (cached)."""
    rules: list[RiskRule] = []
    for row in read_lexicon_lines("risk.txt"):
        name, phrases = row[0], "".join(row[1:])
        category = name.lstrip("!")
        if category not in RISK_CATEGORIES:
            raise ValueError(f"unknown risk category in risk.txt: {category}")
        rules += [RiskRule(category, keyword, name.startswith("!")) for keyword in parse_keywords(phrases)]
    return RiskRules(rules)


def _negated(clause: str, start: int) -> bool:
    """A negator ends at most ``NEGATOR_REACH - 1`` characters before ``start``."""
    window = clause[max(0, start - NEGATOR_REACH - 3):start]
    for negator in RISK_NEGATORS:
        position = window.rfind(negator)
        if position >= 0 and len(window) - (position + len(negator)) <= NEGATOR_REACH - 1:
            return True
    return False


def detect_risks(text: str | None, clauses: Sequence[Clause] | None = None) -> list[RiskHit]:
    """Risks raised by ``text`` (cleaned text), at most one hit per category, in category order.

    ``clauses`` (from ``split_clauses(text)``) may be passed to avoid splitting twice.
    """
    if not text:
        return []
    rules = risk_rules()
    found: dict[str, RiskHit] = {}
    for clause in clauses if clauses is not None else split_clauses(text):
        lowered = clause.text.lower()
        for category, keyword in rules.hits_in_clause(lowered).items():
            if category not in found:
                found[category] = RiskHit(category, keyword, clause.text)
    return [found[category] for category in RISK_CATEGORIES if category in found]


def risk_categories(text: str | None) -> list[str]:
    """Only the category names of ``detect_risks``."""
    return [hit.category for hit in detect_risks(text)]


def risk_evidence_json(hits: list[RiskHit]) -> str:
    if not hits:
        return "[]"
    return json.dumps([hit.as_evidence() for hit in hits], ensure_ascii=False)
