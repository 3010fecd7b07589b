{#- One row per feedback item x tag it carries. -#}
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
        from {{ ref('int_feedback__scored') }}
    ) as mentions
