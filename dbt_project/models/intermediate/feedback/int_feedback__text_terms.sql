{#- Hot terms of every analysed text: jieba tokens of text_clean without stop words and
    redaction placeholders (nlp_udfs voc_terms). jieba's user dictionary holds the taxonomy
    keywords, so the terms depend on the keyword set.

    Incremental: a text is segmented again when it is new or its terms version differs: nlp_udfs
    code, lexicons, models, segmenter and the taxonomy's keyword words. An edit of vetoes,
    complaint flags or tag names keeps the version; a new keyword re-segments history. -#}
{{ config(
    materialized=voc_incremental_materialization(),
    unique_key='text_hash',
    incremental_strategy=voc_incremental_strategy(),
    on_schema_change='fail',
    post_hook="{{ delete_unreferenced_texts(this, ref('int_feedback__text_analysis')) }}"
) }}

with
    analysis as (select text_hash, text_clean from {{ ref('int_feedback__text_analysis') }}),

    taxonomy as (select {{ taxonomy_handle(ref('taxonomy')) }} as taxonomy_handle),

    current_terms as (
        select taxonomy_handle, {{ terms_version('taxonomy_handle') }} as terms_version from taxonomy
    ),

    pending as (
        select analysis.*, current_terms.taxonomy_handle, current_terms.terms_version
        from analysis
        cross join
            current_terms {{ where_not_built_for_version('analysis', 'current_terms', 'terms_version') }}
    )

select
    text_hash,
    terms_version,
    voc_terms(text_clean, taxonomy_handle, {{ statement_row_count('pending') }}) as terms
from pending
