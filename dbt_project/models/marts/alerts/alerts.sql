{{ config(
    materialized=voc_incremental_materialization(),
    unique_key='alert_id',
    incremental_strategy=voc_incremental_strategy(),
    on_schema_change='fail'
) }}
{#- Closed-loop alerts. alert_id is a hash of what the alert is about, so a re-run finds the
    same alert instead of raising a new one; first_raised_at is carried over from the run that
    first raised it. Thresholds, tags and routes come from the alert_settings, alert_routes and
    taxonomy seeds. -#}
with
    scored as (select * from {{ ref('int_feedback__scored') }}),

    mentions as (select * from {{ ref('int_feedback__tag_mentions') }}),

    taxonomy as (select tag, owner_team from {{ ref('taxonomy') }}),

    vip_negative as (
        select
            'vip_negative' as alert_type,
            'vip_negative|' || feedback_id as alert_key,
            case when sentiment_score <= -0.6 then 'high' else 'medium' end as severity,
            created_at as raised_at,
            one_id,
            primary_tag as tag,
            store_id,
            product_sku,
            feedback_id as evidence_feedback_id,
            '' as detail
        from scored
        where is_vip and sentiment_score <= {{ setting_number('vip_negative_max_score') }}
    ),

    {#- safety_risk: feedback flagged by a risk tag of the taxonomy seed (one alert per item and risk
    tag) or by the risk lexicon (nlp_udfs detect_risks), whichever finds it. A lexicon risk is filed
    under the taxonomy's tag for its category, so it routes to that tag's owner team; an item
    already alerted through a tag of that category raises no second alert; a category no tag
    carries is filed as risk:<category>, without a tag. -#}
    tag_safety_risk as (
        select
            'safety_risk' as alert_type,
            'safety_risk|' || mentions.feedback_id || '|' || mentions.tag as alert_key,
            case when taxonomy_risk.risk_category = 'safety' then 'critical' else 'high' end as severity,
            mentions.created_at as raised_at,
            mentions.one_id,
            mentions.tag,
            mentions.store_id,
            mentions.product_sku,
            mentions.feedback_id as evidence_feedback_id,
            taxonomy_risk.risk_category as detail
        from mentions
        inner join {{ ref('taxonomy') }} as taxonomy_risk on mentions.tag = taxonomy_risk.tag
        where
            {{ regex_contains('taxonomy_risk.risk_category', "'^(' || " ~ setting_text('safety_risk_categories') ~ " || ')$'") }}
    ),

    risk_category_tags as (
        select risk_category, min(tag) as tag
        from {{ ref('taxonomy') }}
        where risk_category is not null
        group by risk_category
    ),

    lexicon_risks as (
        select
            feedback_id,
            created_at,
            one_id,
            store_id,
            product_sku,
            {{ explode_list('text_risk_categories') }} as risk_category
        from scored
    ),

    lexicon_safety_risk as (
        select
            'safety_risk' as alert_type,
            'safety_risk|'
            || risks.feedback_id
            || '|'
            || coalesce(risk_category_tags.tag, 'risk:' || risks.risk_category) as alert_key,
            case when risks.risk_category = 'safety' then 'critical' else 'high' end as severity,
            risks.created_at as raised_at,
            risks.one_id,
            risk_category_tags.tag,
            risks.store_id,
            risks.product_sku,
            risks.feedback_id as evidence_feedback_id,
            risks.risk_category || ' (risk lexicon)' as detail
        from lexicon_risks as risks
        left join risk_category_tags on risk_category_tags.risk_category = risks.risk_category
        where
            {{ regex_contains('risks.risk_category', "'^(' || " ~ setting_text('safety_risk_categories') ~ " || ')$'") }}
            and not exists (
                select 1
                from tag_safety_risk as tagged
                where tagged.evidence_feedback_id = risks.feedback_id and tagged.detail = risks.risk_category
            )
    ),

    safety_risk as (
        select *
        from tag_safety_risk
        union all
        select *
        from lexicon_safety_risk
    ),

    {#- A product's defect feedback per day, then trailing-window counts and sources per day. -#}
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
            count(distinct window_items.source) as n_sources,
            max(window_items.created_at) as last_item_at
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

    {#- Consecutive burst days form one burst (gaps and islands), keyed by its first day. -#}
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

    {#- One row per burst with its key: computed once, for the alert and for its evidence. -#}
    burst_islands as (
        select
            'defect_burst|'
            || product_sku
            || '|'
            || tag
            || '|'
            || cast(min(window_end) as {{ dbt.type_string() }}) as alert_key,
            product_sku,
            tag,
            min(window_end) as first_day,
            max(window_end) as last_day,
            max(n_items) as n_items,
            max(n_sources) as n_sources,
            max(last_item_at) as last_item_at
        from burst_days
        group by product_sku, tag, island
    ),

    defect_burst as (
        select
            'defect_burst' as alert_type,
            alert_key,
            'high' as severity,
            last_item_at as raised_at,
            cast(null as {{ dbt.type_string() }}) as one_id,
            tag,
            cast(null as {{ dbt.type_string() }}) as store_id,
            product_sku,
            cast(null as {{ dbt.type_string() }}) as evidence_feedback_id,
            cast(n_items as {{ dbt.type_string() }})
            || ' items from '
            || cast(n_sources as {{ dbt.type_string() }})
            || ' sources' as detail
        from burst_islands
    ),

    spike_days as (
        select
            tag,
            period_start,
            zscore,
            volume,
            {{ dbt.dateadd('day', '-1 * cast(row_number() over (partition by tag order by period_start) as integer)', 'period_start') }}
            as island
        from {{ ref('tag_trends') }}
        where period_type = 'day' and is_spike
    ),

    spike_islands as (
        select
            'tag_spike|' || tag || '|' || cast(min(period_start) as {{ dbt.type_string() }}) as alert_key,
            tag,
            min(period_start) as first_day,
            max(period_start) as last_day,
            max(zscore) as max_zscore,
            max(volume) as max_volume
        from spike_days
        group by tag, island
    ),

    tag_spike as (
        select
            'tag_spike' as alert_type,
            alert_key,
            case
                when max_zscore >= 2 * {{ setting_number('tag_spike_zscore') }} then 'high' else 'medium'
            end as severity,
            {{ local_midnight('last_day') }} as raised_at,
            cast(null as {{ dbt.type_string() }}) as one_id,
            tag,
            cast(null as {{ dbt.type_string() }}) as store_id,
            cast(null as {{ dbt.type_string() }}) as product_sku,
            cast(null as {{ dbt.type_string() }}) as evidence_feedback_id,
            'peak volume '
            || cast(max_volume as {{ dbt.type_string() }})
            || ', z-score '
            || cast(round(max_zscore, 1) as {{ dbt.type_string() }}) as detail
        from spike_islands
    ),

    alert_rows as (
        select *
        from vip_negative
        union all
        select *
        from safety_risk
        union all
        select *
        from defect_burst
        union all
        select *
        from tag_spike
    ),

    {#- Evidence of bursts and spikes: the feedback items behind them (up to 20, newest first). -#}
    aggregate_evidence as (
        select
            alert_key,
            {{ dbt.listagg('feedback_id', "','", 'order by created_at desc, feedback_id') }} as evidence
        from
            (
                select
                    burst.alert_key,
                    items.feedback_id,
                    items.created_at,
                    row_number() over (
                        partition by burst.alert_key order by items.created_at desc, items.feedback_id
                    ) as evidence_rank
                from burst_islands as burst
                inner join
                    defect_mentions as items
                    on items.product_sku = burst.product_sku
                    and items.tag = burst.tag
                    and items.created_date <= burst.last_day
                    and items.created_date
                    > {{ dbt.dateadd('day', '-1 * cast(' ~ setting_number('defect_burst_window_days') ~ ' as integer)', 'burst.first_day') }}
                union all
                select
                    spike.alert_key,
                    items.feedback_id,
                    items.created_at,
                    row_number() over (
                        partition by spike.alert_key order by items.created_at desc, items.feedback_id
                    )
                from spike_islands as spike
                inner join
                    mentions as items
                    on items.tag = spike.tag
                    and items.created_date between spike.first_day and spike.last_day
            ) as evidence_items
        where evidence_rank <= 20
        group by alert_key
    ),

    {#- tag_spike and defect_burst alerts carry where the problem lives (root-cause verdict). -#}
    root_cause as (
        select episode_key, verdict_text
        from {{ ref('int_root_cause__verdicts') }}
        where episode_type in ('tag_spike', 'defect_burst') and verdict_text is not null
    ),

    routed as (
        select
            alert_rows.*,
            coalesce(alert_rows.detail || '；' || root_cause.verdict_text, alert_rows.detail) as alert_detail,
            coalesce(type_route.route_to, taxonomy.owner_team, default_route.route_to) as route_to,
            coalesce(aggregate_evidence.evidence, alert_rows.evidence_feedback_id) as evidence_list
        from alert_rows
        left join
            {{ ref('alert_routes') }} as type_route
            on type_route.alert_type = alert_rows.alert_type
            and type_route.route_to is not null
        left join taxonomy on taxonomy.tag = alert_rows.tag
        left join {{ ref('alert_routes') }} as default_route on default_route.alert_type = 'default'
        left join aggregate_evidence on aggregate_evidence.alert_key = alert_rows.alert_key
        left join root_cause on root_cause.episode_key = alert_rows.alert_key
    ),

    {% if is_incremental() %}
        previously_raised as (select alert_id, first_raised_at from {{ this }}),
    {% endif %}

    final as (
        select
            {{ dbt.hash('routed.alert_key') }} as alert_id,
            cast(routed.alert_type as {{ dbt.type_string() }}) as alert_type,
            cast(routed.severity as {{ dbt.type_string() }}) as severity,
            cast(routed.raised_at as {{ voc_type('timestamp with time zone') }}) as raised_at,
            {% if is_incremental() %}
                coalesce(previously_raised.first_raised_at, current_timestamp) as first_raised_at,
            {% else %} current_timestamp as first_raised_at,
            {% endif %}
            routed.one_id,
            routed.tag,
            routed.store_id,
            routed.product_sku,
            {{ split_to_list('routed.evidence_list', "','") }} as evidence_feedback_ids,
            cast(routed.route_to as {{ dbt.type_string() }}) as route_to,
            cast('open' as {{ dbt.type_string() }}) as status,
            cast(routed.alert_detail as {{ dbt.type_string() }}) as detail
        from routed
        {% if is_incremental() %}
            left join previously_raised on previously_raised.alert_id = {{ dbt.hash('routed.alert_key') }}
        {% endif %}
    )

select *
from final
