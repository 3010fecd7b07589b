{#- Text analytics of every feedback item: cleaning, PII masking, sentiment, taxonomy tags and
    the risks of the risk lexicon, computed by the nlp_udfs functions registered in DuckDB (vectorized over Arrow batches).

    Incremental: a nightly run enriches only feedback that is new, whose text changed, or that was
    enriched under another version (taxonomy seed or nlp_udfs code/lexicons/model). A seed edit
    therefore re-tags all history on the next run, as a full refresh would. -#}
{{ config(
    materialized='incremental',
    unique_key='feedback_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail'
) }}

with
    feedback as (
        select feedback_id, customer_text, {{ dbt.hash("coalesce(customer_text, '')") }} as text_hash
        from {{ ref('int_feedback__unioned') }}
    ),

    enrichment_version as (select {{ taxonomy_handle(ref('taxonomy')) }} as enrichment_version),

    pending as (
        select feedback.*, enrichment_version.enrichment_version
        from feedback
        cross join enrichment_version
        {% if is_incremental() %}
            where
                not exists (
                    select 1
                    from {{ this }} as done
                    where
                        done.feedback_id = feedback.feedback_id
                        and done.text_hash = feedback.text_hash
                        and done.enrichment_version = enrichment_version.enrichment_version
                )
        {% endif %}
    ),

    enriched as (
        select
            feedback_id, text_hash, enrichment_version, voc_enrich(customer_text, enrichment_version) as nlp
        from pending
    )

select
    feedback_id,
    text_hash,
    enrichment_version,
    nlp.text_clean as text_clean,
    nlp.text_masked as text_masked,
    nlp.sentiment_score as text_sentiment_score,
    nlp.sentiment_label as text_sentiment_label,
    nlp.tags as tags,
    nlp.primary_tag as primary_tag,
    nlp.tag_evidence as tag_evidence,
    nlp.terms as terms,
    nlp.risks as text_risk_categories,
    nlp.risk_evidence as risk_evidence
from enriched
