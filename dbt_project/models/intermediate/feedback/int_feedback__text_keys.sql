{#- Which text each feedback item says: the hash the text analysis, tags and terms are keyed by.
    NULL and empty texts share one key (both analyse to empty outputs). -#}
{{ config(materialized=voc_view_materialization()) }}

select
    feedback_id,
    {{ dbt.hash("coalesce(customer_text, '')") }} as text_hash,
    coalesce(customer_text, '') as customer_text
from {{ ref('int_feedback__unioned') }}
