"""The feedback taxonomy (data the caller passes: rows of the dbt seed) and clause-aware
multi-label tagging.

Seed columns: ``tag, l1, l2, description, keywords, negative_keywords, text_negative_keywords,
aspects, aspect_context, is_complaint, owner_team``. The word lists are ``|``-separated.

Keyword syntax (matched on the lower-cased, half-width clause):

- ``物流慢``: the phrase occurs in the clause.
- ``物流*慢``: ``物流``, then ``慢`` later in the same clause with at most ``MAX_GAP``
  characters between them (``物流挺慢的``, ``物流速度太慢``). Keeps keywords specific without
  listing every adverb a customer may put in between.
- Keywords starting/ending with Latin letters or digits only match at Latin word edges
  (``app`` does not match inside ``whatsapp``, ``12315`` not inside an order number).

A tag matches a clause when one of its keywords occurs in the clause and none of its
negative keywords does. Each match carries the clause's own sentiment (aspect level), so
"物流挺快的,但是包装破了" gives 物流体验-时效性 positive and 物流体验-包装破损 negative.
``text_negative_keywords`` veto the tag anywhere in the text: no 产品质量-功能故障 in a review
that speaks of 酒店 or 入住 (there "噪音大" is the room).

Aspects (issue 17): keyword lists plateau because customers judge a topic with any evaluative
word ("物流太差", "物流真心垃圾", "客服有点彪"). An **aspect** is a topic noun (``物流``,
``质量``, ``效果``) that gives its tag when the clause also *judges*: its own sentiment score
takes a side (``label_for`` is not neutral; the sentiment scorer decides from its lexicons and
model), and the clause is short (``ASPECT_CLAUSE_MAX``), so the judgement is of the aspect and
not of something else in a long clause. An aspect is a fallback for what the keywords miss:

- it does not count when a keyword of a tag of the same L1 group matched the clause ("物流信息
  不更新太差": 物流信息 by keyword, no 物流 aspect for 时效性), nor when it lies inside a word of
  a longer keyword of any tag that matched (``快递`` inside ``快递员``);
- the tag's negative keywords and text vetoes apply as to keywords;
- contexts: an aspect may need words of the *text*. ``太小@苹果/水果`` counts only in a text
  holding 苹果 or 水果; an entry without ``@`` takes the row's ``aspect_context`` (empty: any
  text). When the same aspect word is listed by several tags, the tags whose context occurs in
  the text take it, and the tags without a context only when none does: ``服务`` is
  客户服务-服务态度 in a shop review and 门店体验-店员服务 in a hotel review; ``太小`` is
  做工材质 (the size of fruit) in a fruit review and 尺码版型 in a clothing review.

Nothing in the code depends on tag names.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from .matching import ClauseMemo, PhraseIndex, ascii_boundaries_ok
from .sentiment import ScoredClause, analyze_sentiment, label_for, squash
from .text_cleaning import to_half_width

KEYWORD_SEPARATOR = "|"
GAP_MARKER = "*"
CONTEXT_MARKER = "@"  # in an aspect: "太小@水果/苹果", the words of the text it needs
CONTEXT_SEPARATOR = "/"
MAX_GAP = 10
# An aspect speaks for a clause only when the clause is about little else: in "客服太差" the
# judgement is of the 客服; in "打客服电话要等二十分钟才接" it is of the wait, a concept of its own.
ASPECT_CLAUSE_MAX = 12
SEED_COLUMNS = (
    "tag", "l1", "l2", "description", "keywords", "negative_keywords", "text_negative_keywords", "aspects", "aspect_context",
    "is_complaint", "owner_team",
)
_TRUE_STRINGS = {"true", "t", "1", "yes", "y", "是"}


def normalize_keyword(raw: str) -> str:
    """Half-width, lower-case, no whitespace: the form keywords and clauses are compared in."""
    return "".join(to_half_width(raw).lower().split())


@dataclass(frozen=True)
class Keyword:
    """One seed keyword; ``parts`` has more than one element for ``A*B`` patterns."""

    text: str
    parts: tuple[str, ...]

    @classmethod
    def parse(cls, raw: str) -> Keyword | None:
        text = normalize_keyword(raw)
        parts = tuple(part for part in text.split(GAP_MARKER) if part)
        if not parts:
            return None
        return cls(GAP_MARKER.join(parts), parts)

    def matches_at(self, clause: str, start: int) -> bool:
        """True if the keyword matches with its first part at ``start`` (already checked)."""
        return self.end_at(clause, start) >= 0

    def end_at(self, clause: str, start: int) -> int:
        """Where the match that starts at ``start`` (first part already found there) ends, or -1."""
        position = start + len(self.parts[0])
        for part in self.parts[1:]:
            found = clause.find(part, position, position + MAX_GAP + len(part))
            if found < 0:
                return -1
            position = found + len(part)
        if ascii_boundaries_ok(clause, start, start + len(self.parts[0])) and (
            len(self.parts) == 1 or ascii_boundaries_ok(clause, position - len(self.parts[-1]), position)
        ):
            return position
        return -1

    def occurs_in(self, clause: str) -> bool:
        first = self.parts[0]
        position = clause.find(first)
        while position >= 0:
            if self.matches_at(clause, position):
                return True
            position = clause.find(first, position + 1)
        return False


def parse_keywords(value: Any) -> tuple[Keyword, ...]:
    """``"a|b*c"`` or ``["a", "b*c"]`` -> keywords (empty and duplicate entries dropped)."""
    if value is None:
        return ()
    if isinstance(value, str):
        raw_items: Iterable[Any] = value.split(KEYWORD_SEPARATOR)
    else:
        raw_items = value
    keywords: dict[str, Keyword] = {}
    for raw in raw_items:
        if raw is None:
            continue
        keyword = Keyword.parse(str(raw))
        if keyword is not None:
            keywords.setdefault(keyword.text, keyword)
    return tuple(keywords.values())


class Aspect(NamedTuple):
    """An aspect word of a tag and the text words it needs (empty: counts in any text)."""

    keyword: Keyword
    context: tuple[Keyword, ...]


def parse_aspects(value: Any, default_context: tuple[Keyword, ...] = ()) -> tuple[Aspect, ...]:
    """``"质量|太小@水果/苹果"`` -> aspects; an entry without ``@`` takes ``default_context``."""
    if value is None:
        return ()
    raw_items = value.split(KEYWORD_SEPARATOR) if isinstance(value, str) else value
    aspects: dict[tuple[str, tuple[str, ...]], Aspect] = {}
    for raw in raw_items:
        if raw is None:
            continue
        word, marker, context_words = str(raw).partition(CONTEXT_MARKER)
        keyword = Keyword.parse(word)
        if keyword is None:
            continue
        context = parse_keywords(context_words.split(CONTEXT_SEPARATOR)) if marker else default_context
        aspects.setdefault((keyword.text, tuple(word.text for word in context)), Aspect(keyword, context))
    return tuple(aspects.values())


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in _TRUE_STRINGS


@dataclass(frozen=True)
class TagDefinition:
    tag: str
    l1: str
    l2: str
    description: str
    keywords: tuple[Keyword, ...]
    negative_keywords: tuple[Keyword, ...]
    is_complaint: bool
    owner_team: str
    aspects: tuple[Aspect, ...] = ()
    aspect_context: tuple[Keyword, ...] = ()
    text_negative_keywords: tuple[Keyword, ...] = ()

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TagDefinition:
        tag = str(row.get("tag") or "").strip()
        if not tag:
            raise ValueError(f"taxonomy row without a tag: {dict(row)!r}")
        l1_default, _, l2_default = tag.partition("-")
        aspect_context = parse_keywords(row.get("aspect_context"))
        return cls(
            tag=tag,
            l1=str(row.get("l1") or l1_default).strip(),
            l2=str(row.get("l2") or l2_default).strip(),
            description=str(row.get("description") or "").strip(),
            keywords=parse_keywords(row.get("keywords")),
            negative_keywords=parse_keywords(row.get("negative_keywords")),
            is_complaint=parse_bool(row.get("is_complaint")),
            owner_team=str(row.get("owner_team") or "").strip(),
            aspects=parse_aspects(row.get("aspects"), aspect_context),
            aspect_context=aspect_context,
            text_negative_keywords=parse_keywords(row.get("text_negative_keywords")),
        )

    def vetoed_in(self, clause: str) -> bool:
        return any(negative.occurs_in(clause) for negative in self.negative_keywords)


class TagMatch(NamedTuple):
    """A tag found in a clause: the seed keyword that fired, the clause and its sentiment.

    A named tuple rather than a frozen dataclass: one is built per tag and clause of every
    feedback item, and a tuple is several times cheaper to create."""

    tag: str
    keyword: str
    clause: str
    sentiment: str
    score: float
    clause_start: int

    def as_evidence(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "keyword": self.keyword,
            "clause": self.clause,
            "sentiment": self.sentiment,
            "score": self.score,
        }


class AspectHit(NamedTuple):
    """An aspect of a tag found in a clause, kept when the clause judges (see the module doc)."""

    tag_index: int
    keyword: Keyword
    context: frozenset[str]  # the text words it needs (normalized), empty: none


class ClauseMatch(NamedTuple):
    """What the taxonomy finds in one clause: keyword matches (vetoes applied), the aspect hits
    that count if the clause takes a side, the tags whose text vetoes occur in it and the context
    words of aspects that occur in it (both hold for the whole text they are part of)."""

    keywords: tuple[tuple[int, Keyword], ...]
    aspects: tuple[AspectHit, ...]
    text_vetoes: frozenset[int]
    context_words: frozenset[str]


_KEYWORD, _ASPECT, _TEXT_VETO, _CONTEXT = range(4)
_NOTHING = ClauseMatch((), (), frozenset(), frozenset())


class Taxonomy:
    """An ordered set of tag definitions with a keyword index for fast clause matching."""

    def __init__(self, tags: Iterable[TagDefinition]):
        self.tags: tuple[TagDefinition, ...] = tuple(tags)
        seen: set[str] = set()
        for definition in self.tags:
            if definition.tag in seen:
                raise ValueError(f"duplicate taxonomy tag: {definition.tag}")
            seen.add(definition.tag)
        # One automaton for every word the clause matcher looks for, by the word's first part:
        # (tag index, word, aspect or None, kind).
        by_first_part: dict[str, list[tuple[int, Keyword, Aspect | None, int]]] = {}

        def add(tag_index: int, word: Keyword, aspect: Aspect | None, kind: int) -> None:
            by_first_part.setdefault(word.parts[0], []).append((tag_index, word, aspect, kind))

        context_words: dict[str, Keyword] = {}
        for tag_index, definition in enumerate(self.tags):
            for keyword in definition.keywords:
                add(tag_index, keyword, None, _KEYWORD)
            for aspect in definition.aspects:
                add(tag_index, aspect.keyword, aspect, _ASPECT)
                context_words.update((word.text, word) for word in aspect.context)
            for word in definition.text_negative_keywords:
                add(tag_index, word, None, _TEXT_VETO)
        for word in context_words.values():
            add(-1, word, None, _CONTEXT)
        self._index: PhraseIndex[list[tuple[int, Keyword, Aspect | None, int]]] = PhraseIndex(by_first_part.items())
        self._clause_matches = ClauseMemo(self._match_clause_uncached)

    def __len__(self) -> int:
        return len(self.tags)

    def __repr__(self) -> str:
        return f"Taxonomy({len(self.tags)} tags)"

    @property
    def tag_names(self) -> list[str]:
        return [definition.tag for definition in self.tags]

    def get(self, tag: str) -> TagDefinition | None:
        return next((definition for definition in self.tags if definition.tag == tag), None)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> Taxonomy:
        return cls(TagDefinition.from_row(row) for row in rows)

    @classmethod
    def from_json(cls, text: str | bytes | None) -> Taxonomy:
        """A JSON array of seed-row objects (``{"tags": [...]}`` is accepted too)."""
        if text is None or (isinstance(text, (str, bytes)) and not text.strip()):
            return cls(())
        data = json.loads(text)
        if isinstance(data, Mapping):
            data = data.get("tags", [])
        if not isinstance(data, list):
            raise ValueError("taxonomy JSON must be an array of objects")
        return cls.from_rows(data)

    @classmethod
    def from_csv(cls, path: str | Path) -> Taxonomy:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return cls.from_rows(csv.DictReader(handle))

    def user_words(self) -> frozenset[str]:
        """Keyword and aspect pieces for jieba's user dictionary, so taxonomy words stay whole."""
        words = set()
        for definition in self.tags:
            for keyword in definition.keywords + tuple(aspect.keyword for aspect in definition.aspects):
                words.update(part for part in keyword.parts if len(part) >= 2)
        return frozenset(words)

    def match_clause(self, clause_lower: str) -> tuple[tuple[int, Keyword], ...]:
        """(tag index, first keyword that fired) for each tag matching this clause, vetoes applied.

        Memoized per taxonomy (``ClauseMemo``).
        """
        return self._clause_matches(clause_lower).keywords

    def match_clause_aspects(self, clause_lower: str) -> ClauseMatch:
        """Everything the taxonomy finds in this clause (memoized like ``match_clause``)."""
        return self._clause_matches(clause_lower)

    def _match_clause_uncached(self, clause_lower: str) -> ClauseMatch:
        matched: dict[int, Keyword] = {}
        spans: list[tuple[int, int]] = []  # words of the keywords that matched
        aspect_found: list[tuple[int, int, int, Aspect]] = []
        text_vetoes: set[int] = set()
        context_words: set[str] = set()
        found = list(self._index.find_all(clause_lower))
        # keyword spans matter only when an aspect may be inside one; otherwise the first
        # keyword of a tag is enough (most clauses)
        need_spans = any(kind == _ASPECT for _, _, candidates in found for _, _, _, kind in candidates)
        for start, _, candidates in found:
            for tag_index, word, aspect, kind in candidates:
                if kind == _KEYWORD and not need_spans and tag_index in matched:
                    continue
                end = word.end_at(clause_lower, start)
                if end < 0:
                    continue
                if kind == _KEYWORD:
                    matched.setdefault(tag_index, word)
                    # the words of the keyword, not the gap between them ("服务*差" does not
                    # cover the 服务态度 of "服务态度很差"; "快递员" covers its 快递)
                    spans.append((start, start + len(word.parts[0])))
                    if len(word.parts) > 1:
                        spans.append((end - len(word.parts[-1]), end))
                elif kind == _ASPECT:
                    aspect_found.append((start, end, tag_index, aspect))
                elif kind == _TEXT_VETO:
                    text_vetoes.add(tag_index)
                else:
                    context_words.add(word.text)
        if not matched and not aspect_found and not text_vetoes and not context_words:
            return _NOTHING
        vetoed = {tag_index for tag_index in matched if self.tags[tag_index].vetoed_in(clause_lower)}
        keywords = tuple((tag_index, keyword) for tag_index, keyword in matched.items() if tag_index not in vetoed)
        hits: list[AspectHit] = []
        if aspect_found and len(clause_lower) <= ASPECT_CLAUSE_MAX:
            groups = {self.tags[tag_index].l1 for tag_index, _ in keywords}
            for start, end, tag_index, aspect in aspect_found:
                definition = self.tags[tag_index]
                if tag_index in matched or definition.l1 in groups:
                    continue
                if any(s <= start and end <= e and e - s > end - start for s, e in spans):
                    continue  # inside a longer keyword that matched (快递 in 快递员)
                if definition.vetoed_in(clause_lower):
                    continue
                hits.append(AspectHit(tag_index, aspect.keyword, frozenset(word.text for word in aspect.context)))
        return ClauseMatch(keywords, tuple(hits), frozenset(text_vetoes), frozenset(context_words))


def tag_scored_clauses(
    clauses: Sequence[ScoredClause], taxonomy: Taxonomy | None, text_score: float | None = None
) -> list[TagMatch]:
    """Tag already scored clauses (``tag_clauses`` on their text, start and raw score)."""
    return tag_clauses([(scored.clause.text, scored.clause.start, scored.raw) for scored in clauses], taxonomy, text_score)


def tag_clauses(
    clauses: Sequence[tuple[str, int, float]], taxonomy: Taxonomy | None, text_score: float | None = None
) -> list[TagMatch]:
    """Tag clauses given as (text, start, raw score) (what ``analyze_sentiment`` found; the text
    analysis keeps them, so a re-tag needs no new analysis): one match per tag (its most negative
    clause, then the earliest), ordered by where the tag first appears.

    A matched clause without any sentiment word ("用了一周屏幕就有亮点,差评" -> the first
    clause) takes ``text_score``, the sentiment of the whole text, when given. An aspect counts
    only in a clause whose own score takes a side (module doc); aspect contexts and text vetoes
    are looked up in every clause of the text.
    """
    if taxonomy is None or not len(taxonomy):
        return []
    found: list[tuple[str, int, float, ClauseMatch]] = []
    vetoed: frozenset[int] = frozenset()
    contexts: frozenset[str] = frozenset()
    for text, start, raw in clauses:
        match = taxonomy.match_clause_aspects(text.lower())
        if match is _NOTHING:
            continue
        if match.text_vetoes:
            vetoed |= match.text_vetoes
        if match.context_words:
            contexts |= match.context_words
        if match.keywords or match.aspects:
            found.append((text, start, raw, match))
    best: dict[int, TagMatch] = {}
    first_seen: dict[int, int] = {}
    for text, start, raw, match in found:
        score = round(squash(raw) if raw or text_score is None else text_score, 4)
        sentiment = label_for(score)
        hits: Iterable[tuple[int, Keyword]] = match.keywords
        if match.aspects and raw and label_for(squash(raw)) != "neutral":
            hits = list(hits) + _aspects_in_context(match.aspects, contexts)
        for tag_index, keyword in hits:
            if tag_index in vetoed:
                continue
            first_seen.setdefault(tag_index, start)
            current = best.get(tag_index)
            if current is None or score < current.score:
                best[tag_index] = TagMatch(taxonomy.tags[tag_index].tag, keyword.text, text, sentiment, score, start)
    order = sorted(best, key=lambda index: (first_seen[index], index))
    return [best[index] for index in order]


def _aspects_in_context(aspects: Sequence[AspectHit], contexts: frozenset[str]) -> list[tuple[int, Keyword]]:
    """The aspect hits that count in a text holding the context words ``contexts``: per aspect
    word, the tags whose context occurs in the text, else the tags without a context."""
    if not any(hit.context for hit in aspects):
        return [(hit.tag_index, hit.keyword) for hit in aspects]
    by_word: dict[str, list[AspectHit]] = {}
    for hit in aspects:
        by_word.setdefault(hit.keyword.text, []).append(hit)
    kept: list[tuple[int, Keyword]] = []
    for hits in by_word.values():
        in_context = [hit for hit in hits if hit.context and not hit.context.isdisjoint(contexts)]
        chosen = in_context or [hit for hit in hits if not hit.context]
        kept += [(hit.tag_index, hit.keyword) for hit in chosen]
    return kept


def tag_text(text: str | None, taxonomy: Taxonomy | None) -> list[TagMatch]:
    """Clause-aware multi-label tagging of ``text`` (use cleaned, masked text)."""
    if not text or taxonomy is None:
        return []
    analysis = analyze_sentiment(text)
    return tag_scored_clauses(analysis.clauses, taxonomy, analysis.score)


def primary_tag(matches: Sequence[TagMatch]) -> str | None:
    """The most relevant tag: the one in the most negative clause, then the earliest."""
    if not matches:
        return None
    return min(matches, key=lambda match: (match.score, match.clause_start)).tag


def tag_evidence_json(matches: Sequence[TagMatch]) -> str:
    """JSON list of ``{tag, keyword, clause, sentiment, score}``, byte for byte what
    ``json.dumps([m.as_evidence() ...], ensure_ascii=False)`` gives, written directly because
    the generic encoder was a tenth of the enrichment's time."""
    if not matches:
        return "[]"
    return "[" + ", ".join(
        f'{{"tag": {_json_string(match.tag)}, "keyword": {_json_string(match.keyword)}, '
        f'"clause": {_json_string(match.clause)}, "sentiment": {_json_string(match.sentiment)}, '
        f'"score": {_json_number(match.score)}}}'
        for match in matches
    ) + "]"


# json's own string encoder (C): quotes and escapes, non-ASCII kept, as ensure_ascii=False does.
_json_string = json.encoder.encode_basestring


def _json_number(value: float) -> str:
    return json.dumps(value) if value != value or value in (float("inf"), float("-inf")) else float.__repr__(float(value))
