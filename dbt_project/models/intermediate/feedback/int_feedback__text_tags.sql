{#- Taxonomy tags of every analysed text, matched on the clauses the text analysis stored
    (nlp_udfs voc_tag): tags, primary tag, and the keyword and clause behind each tag.

    Incremental: a text is (re-)tagged when it is new or was tagged under another enrichment
    version, the taxonomy handle (taxonomy seed + nlp_udfs code, lexicons, models). A taxonomy
    edit therefore re-tags all history here, from the stored analysis, without cleaning, masking
    or scoring any text again. -#}
{{ config(
    materialized=voc_incremental_materialization(),
    unique_key='text_hash',
    incremental_strategy=voc_incremental_strategy(),
    on_schema_change='fail',
    post_hook="{{ delete_unreferenced_texts(this, ref('int_feedback__text_analysis')) }}"
) }}

with
    analysis as (
        select text_hash, clauses, text_sentiment_score from {{ ref('int_feedback__text_analysis') }}
    ),

    current_enrichment as (select {{ taxonomy_handle(ref('taxonomy')) }} as enrichment_version),

    pending as (
        select analysis.*, current_enrichment.enrichment_version
        from analysis
        cross join
            current_enrichment
            {{ where_not_built_for_version('analysis', 'current_enrichment', 'enrichment_version') }}
    ),

    tagged as (
        select
            text_hash,
            enrichment_version,
            voc_tag(
                clauses, text_sentiment_score, enrichment_version, {{ statement_row_count('pending') }}
            ) as nlp
        from pending
    )

select
    text_hash,
    enrichment_version,
    nlp.tags as tags,
    nlp.primary_tag as primary_tag,
    nlp.tag_evidence as tag_evidence
from tagged
