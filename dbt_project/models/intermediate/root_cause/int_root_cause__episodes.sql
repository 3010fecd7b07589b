{#- The periods the root-cause breakdown explains, one row per episode:
    - tag_spike: consecutive spike days of a tag (int_feedback__tag_trends), keyed exactly like
      the tag_spike alert of marts/alerts/alerts.sql, so the alert can carry its verdict;
    - defect_burst: one product's defect-tag burst, keyed like the defect_burst alert; its scope
      is the product, its period the burst's trailing window;
    - tag_week: every tag's every ISO week (is_spike from the weekly trend).
    The island rules repeat those of alerts.sql (which reads a mart, so it cannot be shared from
    here); tests/test_root_cause.py checks that every spike and burst alert has its episode. -#}
with
    mentions as (select * from {{ ref('int_feedback__tag_mentions') }}),

    trends as (select * from {{ ref('int_feedback__tag_trends') }}),

    spike_days as (
        select
            tag,
            period_start,
            zscore,
            volume,
            {{ dbt.dateadd('day', '-1 * cast(row_number() over (partition by tag order by period_start) as integer)', 'period_start') }}
            as island
        from trends
        where period_type = 'day' and is_spike
    ),

    spike_islands as (
        select
            'tag_spike' as episode_type,
            'tag_spike|' || tag || '|' || cast(min(period_start) as {{ dbt.type_string() }}) as episode_key,
            tag,
            cast(null as {{ dbt.type_string() }}) as product_sku,
            min(period_start) as first_day,
            max(period_start) as last_day,
            true as is_spike
        from spike_days
        group by tag, island
    ),

    defect_mentions as (
        select mentions.*
        from mentions
        where
            mentions.product_sku is not null
            and {{ regex_contains('mentions.tag', "'^(' || " ~ setting_text('defect_burst_tags') ~ " || ')$'") }}
    ),

    defect_days as (select distinct product_sku, tag, created_date from defect_mentions),

    defect_windows as (
        select
            days.product_sku,
            days.tag,
            days.created_date as window_end,
            count(distinct window_items.feedback_id) as n_items,
            count(distinct window_items.source) as n_sources
        from defect_days as days
        inner join
            defect_mentions as window_items
            on window_items.product_sku = days.product_sku
            and window_items.tag = days.tag
            and window_items.created_date <= days.created_date
            and window_items.created_date
            > {{ dbt.dateadd('day', '-1 * cast(' ~ setting_number('defect_burst_window_days') ~ ' as integer)', 'days.created_date') }}
        group by days.product_sku, days.tag, days.created_date
    ),

    burst_days as (
        select
            *,
            {{ dbt.dateadd('day', '-1 * cast(row_number() over (partition by product_sku, tag order by window_end) as integer)', 'window_end') }}
            as island
        from defect_windows
        where
            n_items >= {{ setting_number('defect_burst_min_items') }}
            and n_sources >= {{ setting_number('defect_burst_min_sources') }}
    ),

    burst_islands as (
        select
            'defect_burst' as episode_type,
            'defect_burst|'
            || product_sku
            || '|'
            || tag
            || '|'
            || cast(min(window_end) as {{ dbt.type_string() }}) as episode_key,
            tag,
            product_sku,
            {#- the burst's evidence window, as in alerts.sql -#}
            cast(
                {{ dbt.dateadd('day', '1 - cast(' ~ setting_number('defect_burst_window_days') ~ ' as integer)', 'min(window_end)') }}
                as date
            ) as first_day,
            max(window_end) as last_day,
            true as is_spike
        from burst_days
        group by product_sku, tag, island
    ),

    tag_weeks as (
        select
            'tag_week' as episode_type,
            'tag_week|' || tag || '|' || cast(period_start as {{ dbt.type_string() }}) as episode_key,
            tag,
            cast(null as {{ dbt.type_string() }}) as product_sku,
            period_start as first_day,
            cast({{ dbt.dateadd('day', 6, 'period_start') }} as date) as last_day,
            is_spike
        from trends
        where period_type = 'week'
    ),

    episodes as (
        select *
        from spike_islands
        union all
        select *
        from burst_islands
        union all
        select *
        from tag_weeks
    )

select
    cast(episode_key as {{ dbt.type_string() }}) as episode_key,
    cast(episode_type as {{ dbt.type_string() }}) as episode_type,
    cast(tag as {{ dbt.type_string() }}) as tag,
    product_sku,
    cast(first_day as date) as first_day,
    cast(last_day as date) as last_day,
    cast(
        {{ dbt.dateadd('day', '-7 * cast(' ~ setting_number('baseline_weeks', 'root_cause_settings') ~ ' as integer)', 'first_day') }}
        as date
    ) as baseline_start,
    cast({{ dbt.dateadd('day', -1, 'first_day') }} as date) as baseline_end,
    is_spike
from episodes
