{#- The taxonomy-free part of the enrichment, once per distinct text: cleaning, PII masking,
    sentiment (with each clause's text, start and raw score, which tagging needs), and the risks
    of the risk lexicon (nlp_udfs voc_analyse).

    Incremental: only texts that are new or were analysed under another analysis version (nlp_udfs
    code, lexicons, models) are analysed. A taxonomy edit does not change that version, so it
    leaves this table alone; two feedback items with the same text are analysed once. Texts no
    feedback item says any more are deleted after each build. -#}
{{ config(
    materialized=voc_incremental_materialization(),
    unique_key='text_hash',
    incremental_strategy=voc_incremental_strategy(),
    on_schema_change='fail',
    post_hook="{{ delete_unreferenced_texts(this, ref('int_feedback__text_keys')) }}"
) }}

with
    texts as (select distinct text_hash, customer_text from {{ ref('int_feedback__text_keys') }}),

    current_analysis as (select {{ nlp_analysis_version() }} as analysis_version),

    pending as (
        select texts.text_hash, texts.customer_text, current_analysis.analysis_version
        from texts
        cross join
            current_analysis
            {{ where_not_built_for_version('texts', 'current_analysis', 'analysis_version') }}
    ),

    analysed as (
        select
            text_hash,
            analysis_version,
            {#- the second argument (rows of this statement) only feeds the progress messages -#}
            voc_analyse(customer_text, {{ statement_row_count('pending') }}) as nlp
        from pending
    )

select
    text_hash,
    analysis_version,
    nlp.text_clean as text_clean,
    nlp.text_masked as text_masked,
    nlp.sentiment_score as text_sentiment_score,
    nlp.sentiment_label as text_sentiment_label,
    nlp.risks as text_risk_categories,
    nlp.risk_evidence as risk_evidence,
    nlp.clauses as clauses
from analysed
