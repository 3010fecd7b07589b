{#- Text analytics of every feedback item: cleaning, PII masking, sentiment and taxonomy tags,
    computed by the nlp_udfs functions registered in DuckDB (vectorized over Arrow batches). -#}
with feedback as (
    select feedback_id, customer_text from {{ ref('int_feedback__unioned') }}
),

enriched as (
    select
        feedback_id,
        voc_enrich(customer_text, {{ taxonomy_json(ref('taxonomy')) }}) as nlp
    from feedback
)

select
    feedback_id,
    nlp.text_clean as text_clean,
    nlp.text_masked as text_masked,
    nlp.sentiment_score as text_sentiment_score,
    nlp.sentiment_label as text_sentiment_label,
    nlp.tags as tags,
    nlp.primary_tag as primary_tag,
    nlp.tag_evidence as tag_evidence,
    nlp.terms as terms
from enriched
