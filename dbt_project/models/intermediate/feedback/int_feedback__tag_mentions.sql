{#- One row per feedback item x tag it carries. Incremental: the rows of the items whose inputs
    changed (int_feedback__changes) are replaced. -#}
-- depends_on: {{ ref('int_feedback__changes') }}
{{ config(
    materialized=voc_nights_materialization(),
    unique_key='feedback_id',
    incremental_strategy=voc_incremental_strategy(),
    on_schema_change='fail',
    pre_hook="{{ voc_delete_keys(this, 'feedback_id', changed_feedback_ids()) }}",
    post_hook="{{ delete_unreferenced_feedback(this, ref('int_feedback__unioned')) }}"
) }}

select feedback_id, one_id, source, created_at, created_date, store_id, product_sku, sentiment_label, tag
from
    (
        select
            feedback_id,
            one_id,
            source,
            created_at,
            created_date,
            store_id,
            product_sku,
            sentiment_label,
            {{ explode_list('tags') }} as tag
        from {{ ref('int_feedback__scored') }} {{ where_feedback_changed() }}
    ) as mentions
