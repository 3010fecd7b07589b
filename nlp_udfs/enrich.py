"""One call that turns raw customer text into everything the marts need.

Pipeline: clean -> mask -> sentiment -> tags -> terms.

It runs in three parts, each with its own version, so that an incremental build redoes only
the part whose inputs changed (``int_feedback__text_analysis``, ``__text_tags``, ``__text_terms``):

- ``analyse(text)``: cleaning, masking, sentiment (with each clause's text, start and raw
  score) and risks. Depends on the text and the NLP code, lexicons and models only.
- ``tag_analysis(clauses, text_score, taxonomy)``: tags, primary tag and tag evidence from the
  analysed clauses. Depends on the analysis and the taxonomy; no cleaning or scoring again.
- ``extract_terms(text_clean, taxonomy)``: hot terms. jieba's user dictionary holds the
  taxonomy keywords, so terms depend on the keyword set (not on vetoes, flags or names).

``enrich`` is the three together.

- ``text_masked``: cleaned text with PII masked for display (``138****8000``, ``[EMAIL]``).
- ``text_clean``: the cleaned analysis text with PII fully redacted (``[PHONE]``, ``[TEL]``,
  ``[ID]``, ``[CARD]``, ``[EMAIL]``, ``[ADDRESS]``, ``[NAME]``): no digit of personal data reaches any
  output field.
- Sentiment and tags are computed on ``text_masked`` (masks carry no sentiment). Emoji and
  "！！！" are removed by cleaning, so the raw text is passed for their intensity only.
- ``terms``: jieba tokens of ``text_clean`` with the PII placeholders removed, minus stop
  words, punctuation, single characters and number-like tokens; lower-cased; each term once
  per text (so hot-term counts are "feedback items using the term").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from .lexicon_files import read_lexicon_lines
from .pii import mask_pii
from .risk import detect_risks, risk_evidence_json
from .segmentation import ensure_taxonomy_words, segment
from .sentiment import analyze_sentiment
from .taxonomy import Taxonomy, primary_tag, tag_clauses, tag_evidence_json
from .text_cleaning import clean_text

ANALYSIS_FIELDS = (
    "text_clean",
    "text_masked",
    "sentiment_score",
    "sentiment_label",
    "risks",
    "risk_evidence",
    "clauses",  # ((clause text, start, raw score), ...) of analyze_sentiment
)
TAG_FIELDS = ("tags", "primary_tag", "tag_evidence")
ENRICH_FIELDS = (
    "text_clean",
    "text_masked",
    "sentiment_score",
    "sentiment_label",
    "tags",
    "primary_tag",
    "tag_evidence",
    "terms",
    "risks",
    "risk_evidence",
)
_PLACEHOLDER = re.compile(r"\[(?:PHONE|TEL|ID|CARD|EMAIL|ADDRESS|NAME)\]")
_HAS_WORD_CHAR = re.compile(r"[\u4e00-\u9fffA-Za-z]")
_DIGIT = re.compile(r"[0-9]")
MAX_DIGITS_IN_TERM = 2


def empty_result() -> dict[str, Any]:
    """What ``enrich`` returns for ``None``/empty/whitespace-only text."""
    return {
        "text_clean": "",
        "text_masked": "",
        "sentiment_score": 0.0,
        "sentiment_label": "neutral",
        "tags": [],
        "primary_tag": None,
        "tag_evidence": "[]",
        "terms": [],
        "risks": [],
        "risk_evidence": "[]",
    }


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    return frozenset(row[0].lower() for row in read_lexicon_lines("stopwords.txt"))


def is_term(token: str, stop: frozenset[str]) -> bool:
    """A token worth counting as a hot term."""
    return (
        len(token) >= 2
        and token not in stop
        and "*" not in token
        and _HAS_WORD_CHAR.search(token) is not None
        and len(_DIGIT.findall(token)) <= MAX_DIGITS_IN_TERM
    )


@lru_cache(maxsize=200_000)
def term_form(token: str) -> str | None:
    """The hot-term form of a token (stripped, lower-cased), or None when it is no term.

    Cached: the vocabulary of feedback is small compared with the number of tokens.
    """
    token = token.strip().lower()
    return token if is_term(token, stopwords()) else None


def extract_terms(text: str | None, taxonomy: Taxonomy | None = None) -> list[str]:
    """Distinct meaningful tokens of an already cleaned and redacted text, in order."""
    if not text:
        return []
    if taxonomy is not None:
        ensure_taxonomy_words(taxonomy)
    if "[" in text:
        text = _PLACEHOLDER.sub(" ", text)
    terms: dict[str, None] = {}
    for token in segment(text):
        form = term_form(token)
        if form is not None:
            terms[form] = None
    return list(terms)


def _wordless_analysis(text: str | None) -> tuple:
    """Text that cleaning empties: nothing to tag or show, but emoji-only feedback ("👍👍👍",
    "😡！！") still says how the customer feels, read from the raw text."""
    score, label = 0.0, "neutral"
    if text and not text.isspace():
        analysis = analyze_sentiment("", raw_text=text)
        score, label = analysis.score, analysis.label
    return ("", "", score, label, [], "[]", ())


def analyse(text: str | None) -> tuple:
    """Clean, mask, score and detect risks: one tuple in ``ANALYSIS_FIELDS`` order.

    ``clauses`` keeps what tagging needs of each clause (text, start, raw score), so tags can be
    computed again under another taxonomy without cleaning, masking or scoring the text again.
    """
    cleaned = clean_text(text)
    if not cleaned:
        return _wordless_analysis(text)
    text_masked = mask_pii(cleaned)
    text_clean = mask_pii(cleaned, full_redaction=True)
    analysis = analyze_sentiment(text_masked, raw_text=text)
    risks = detect_risks(text_masked, [scored.clause for scored in analysis.clauses])
    clauses = tuple((scored.clause.text, scored.clause.start, scored.raw) for scored in analysis.clauses)
    return (
        text_clean,
        text_masked,
        analysis.score,
        analysis.label,
        [hit.category for hit in risks],
        risk_evidence_json(risks),
        clauses,
    )


def tag_analysis(
    clauses: Sequence[tuple[str, int, float]], text_score: float, taxonomy: Taxonomy | None
) -> tuple[list[str], str | None, str]:
    """(tags, primary tag, tag evidence) of analysed clauses under ``taxonomy``."""
    matches = tag_clauses(clauses, taxonomy, text_score)
    return [match.tag for match in matches], primary_tag(matches), tag_evidence_json(matches)


def enrich(text: str | None, taxonomy: Taxonomy | None) -> dict[str, Any]:
    """Clean, mask, score, tag and extract terms with ``taxonomy`` (the caller's, e.g. the
    rows of the dbt seed); ``None`` explicitly means no tags."""
    analysed = dict(zip(ANALYSIS_FIELDS, analyse(text)))
    clauses = analysed.pop("clauses")
    tags, primary, evidence = tag_analysis(clauses, analysed["sentiment_score"], taxonomy)
    analysed.update(tags=tags, primary_tag=primary, tag_evidence=evidence,
                    terms=extract_terms(analysed["text_clean"], taxonomy))
    return {name: analysed[name] for name in ENRICH_FIELDS}
