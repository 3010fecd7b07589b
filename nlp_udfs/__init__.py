"""Chinese NLP text functions of the VoC warehouse (pure functions + DuckDB registration).

Public API (importing this package loads neither jieba nor duckdb nor dbt)::

    clean_text(text) -> str
    mask_pii(text, *, full_redaction=False) -> str
    segment(text) -> list[str]
    score_sentiment(text, raw_text=None) -> (score, label)
    Taxonomy.from_rows(rows) / Taxonomy.from_json(text) / Taxonomy.from_csv(path)   (the caller's data)
    tag_text(text, taxonomy) -> list[TagMatch]
    detect_risks(text) -> list[RiskHit]        (safety, fraud, privacy, legal, media)
    enrich(text, taxonomy) -> dict            (taxonomy None = no tags)
    nlp_udfs.parallel.enrich_rows(texts, taxonomy_json) -> list[tuple]   (batched, all cores)
    nlp_udfs.duckdb_functions.register_functions(conn, config=None)
    nlp_udfs.config.NlpConfig / configure(config)   (segmenter, sentiment model, workers, cache)

Commands: ``python -m devtools.nlp_eval`` (make eval), ``python -m devtools.bench.nlp`` (make bench),
``python -m devtools.training.train`` (make train).
"""

from .enrich import enrich, extract_terms
from .pii import mask_pii
from .risk import RiskHit, detect_risks
from .segmentation import segment
from .sentiment import score_sentiment
from .taxonomy import TagMatch, Taxonomy, primary_tag, tag_evidence_json, tag_text
from .text_cleaning import clean_text

__all__ = [
    "RiskHit",
    "Taxonomy",
    "TagMatch",
    "clean_text",
    "detect_risks",
    "enrich",
    "extract_terms",
    "mask_pii",
    "primary_tag",
    "score_sentiment",
    "segment",
    "tag_evidence_json",
    "tag_text",
]
