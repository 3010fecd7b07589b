{#- Text analytics of every feedback item: cleaning, PII masking, sentiment, taxonomy tags, hot
    terms and the risks of the risk lexicon.

    Assembled from three incremental models keyed by the hash of the text, each with its own
    version: int_feedback__text_analysis (nlp_udfs code, lexicons, models), int_feedback__text_tags
    (the taxonomy handle) and int_feedback__text_terms (the taxonomy's keyword words). A nightly
    run analyses only new texts; a taxonomy edit re-tags all history from the stored analysis;
    an nlp_udfs upgrade re-analyses everything; a full refresh gives the same rows. -#}
{{ config(materialized=voc_view_materialization()) }}

select
    keys.feedback_id,
    keys.text_hash,
    tags.enrichment_version,
    analysis.text_clean,
    analysis.text_masked,
    analysis.text_sentiment_score,
    analysis.text_sentiment_label,
    tags.tags,
    tags.primary_tag,
    tags.tag_evidence,
    terms.terms,
    analysis.text_risk_categories,
    analysis.risk_evidence
from {{ ref('int_feedback__text_keys') }} as keys
left join {{ ref('int_feedback__text_analysis') }} as analysis on keys.text_hash = analysis.text_hash
left join {{ ref('int_feedback__text_tags') }} as tags on keys.text_hash = tags.text_hash
left join {{ ref('int_feedback__text_terms') }} as terms on keys.text_hash = terms.text_hash
