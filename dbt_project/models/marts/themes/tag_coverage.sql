{#- How much of what customers complain about the taxonomy catches: per ISO week, source and
    product category, the negative feedback that carries no tag at all. Untagged complaints
    never reach tag trends, alerts or root cause, so a rising share says the taxonomy needs a
    new tag (emerging_themes shows which).

    Incremental by week: a night recomputes the weeks that changed feedback items were in or are
    in now (int_feedback__changes). -#}
-- depends_on: {{ ref('int_feedback__changes') }}
{{ config(
    materialized=voc_nights_materialization(),
    unique_key='period_start',
    incremental_strategy=voc_incremental_strategy(),
    on_schema_change='fail',
    pre_hook="{{ voc_delete_keys(this, 'period_start', changed_feedback_weeks()) }}"
) }}

with
    feedback as (
        select *
        from
            (
                select
                    cast({{ dbt.date_trunc('week', 'created_date') }} as date) as period_start,
                    source,
                    coalesce(product_category, 'unknown') as product_category,
                    sentiment_label = 'negative' as is_negative,
                    primary_tag is null as is_untagged
                from {{ ref('int_feedback__scored') }}
            ) as weekly
        {% if is_incremental() %} where period_start in ({{ changed_feedback_weeks() }}) {% endif %}
    ),

    counted as (
        select
            period_start,
            source,
            product_category,
            count(*) as n_feedback,
            sum(case when is_untagged then 1 else 0 end) as n_untagged,
            sum(case when is_negative then 1 else 0 end) as n_negative,
            sum(case when is_negative and is_untagged then 1 else 0 end) as n_negative_untagged
        from feedback
        group by period_start, source, product_category
    )

select
    {{ dbt.hash(dbt.concat(["cast(period_start as " ~ dbt.type_string() ~ ")", "'|'", "source", "'|'", "product_category"])) }}
    as coverage_key,
    'week' as period_type,
    period_start,
    cast(source as {{ dbt.type_string() }}) as source,
    cast(product_category as {{ dbt.type_string() }}) as product_category,
    cast(n_feedback as bigint) as n_feedback,
    cast(n_untagged as bigint) as n_untagged,
    cast(n_negative as bigint) as n_negative,
    cast(n_negative_untagged as bigint) as n_negative_untagged,
    cast(
        case when n_negative > 0 then round(n_negative_untagged / n_negative, 6) end as double
    ) as negative_untagged_share
from counted
