"""Chinese NLP text functions of the VoC warehouse (pure functions + DuckDB registration).

Public API (importing this package loads neither jieba nor duckdb nor dbt)::

    clean_text(text) -> str
    mask_pii(text, *, full_redaction=False) -> str
    segment(text) -> list[str]
    score_sentiment(text, raw_text=None) -> (score, label)
    Taxonomy.from_rows(rows) / Taxonomy.from_json(text) / Taxonomy.from_csv(path) / Taxonomy.default()
    tag_text(text, taxonomy) -> list[TagMatch]
    enrich(text, taxonomy=None) -> dict
    nlp_udfs.duckdb_functions.register_functions(conn)
"""

from .enrich import enrich, extract_terms
from .pii import mask_pii
from .segmentation import segment
from .sentiment import score_sentiment
from .taxonomy import Taxonomy, TagMatch, primary_tag, tag_evidence_json, tag_text
from .text_cleaning import clean_text

__all__ = [
    "Taxonomy",
    "TagMatch",
    "clean_text",
    "enrich",
    "extract_terms",
    "mask_pii",
    "primary_tag",
    "score_sentiment",
    "segment",
    "tag_evidence_json",
    "tag_text",
]
