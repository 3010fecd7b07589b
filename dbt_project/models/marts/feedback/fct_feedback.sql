{#- One row per piece of customer feedback from every source: who said it, where, about what,
    how they feel and how urgently someone should act, with personal data masked.

    Incremental: a night rebuilds the items whose inputs changed (int_feedback__changes) and those
    whose priority changed (a spike or a repeat contact can change the priority of an item that
    did not change itself). -#}
-- depends_on: {{ ref('int_feedback__changes') }}
{{ config(
    materialized=voc_nights_materialization(),
    unique_key='feedback_id',
    incremental_strategy=voc_incremental_strategy(),
    on_schema_change='fail',
    post_hook="{{ delete_unreferenced_feedback(this, ref('int_feedback__unioned')) }}"
) }}

{#- what an item gets when no priority rule fires -#}
{%- set default_priority = "'P3'" -%}
{%- set default_priority_reasons = "'no rule fired'" -%}
{% if is_incremental() %}
    with
        affected as (
            select feedback_id
            from {{ ref('int_feedback__changes') }}
            where not is_deleted
            union
            select current_rows.feedback_id
            from {{ this }} as current_rows
            left join
                {{ ref('int_feedback__priority') }} as priority
                on current_rows.feedback_id = priority.feedback_id
            where
                current_rows.priority <> coalesce(priority.priority, {{ default_priority }})
                or current_rows.priority_reasons
                <> coalesce(priority.priority_reasons, {{ default_priority_reasons }})
                or coalesce(current_rows.priority_rule_ids, '') <> coalesce(priority.priority_rule_ids, '')
        )
{% endif %}

select
    scored.feedback_id,
    scored.source,
    scored.source_record_id,
    scored.channel,
    scored.created_at,
    scored.created_date,
    scored.updated_at,
    scored.one_id,
    scored.customer_tier,
    scored.is_vip,
    scored.store_id,
    scored.region,
    scored.store_city,
    scored.product_sku,
    scored.product_category,
    scored.has_order,
    scored.text_masked,
    scored.sentiment_score,
    scored.sentiment_label,
    scored.sentiment_basis,
    scored.tags,
    scored.primary_tag,
    scored.tag_evidence,
    scored.has_complaint_tag,
    scored.risk_categories,
    scored.risk_evidence,
    coalesce(priority.priority, {{ default_priority }}) as priority,
    coalesce(priority.priority_reasons, {{ default_priority_reasons }}) as priority_reasons,
    priority.priority_rule_ids,
    scored.rating_nps,
    scored.rating_csat,
    scored.rating_ces,
    scored.rating_stars
from {{ ref('int_feedback__scored') }} as scored
left join {{ ref('int_feedback__priority') }} as priority on scored.feedback_id = priority.feedback_id
{% if is_incremental() %} where scored.feedback_id in (select affected.feedback_id from affected) {% endif %}
