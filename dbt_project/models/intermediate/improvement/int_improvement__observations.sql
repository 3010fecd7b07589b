{#- Every feedback item inside an intervention's windows, placed in its group (in scope, or the
    out-of-scope stores as control) and period (before / after the effective date). Items
    without a store only count for interventions whose scope is all. -#}
with
    interventions as (select * from {{ ref('interventions') }}),

    scored as (
        select feedback_id, created_date, store_id, region, tags, sentiment_score, sentiment_label
        from {{ ref('int_feedback__scored') }}
    ),

    placed as (
        select
            interventions.intervention_id,
            scored.feedback_id,
            scored.created_date,
            scored.sentiment_score,
            scored.sentiment_label = 'negative' as is_negative,
            {{ array_contains('scored.tags', 'interventions.tag') }} as has_tag,
            case
                when scored.created_date < interventions.effective_date then 'before' else 'after'
            end as period,
            case
                when interventions.scope_type = 'all'
                then 'scope'
                when scored.store_id is null
                then null
                when interventions.scope_type = 'region' and scored.region = interventions.scope_value
                then 'scope'
                when
                    interventions.scope_type = 'stores'
                    and {{ regex_contains('scored.store_id', "'^(' || interventions.scope_value || ')$'") }}
                then 'scope'
                else 'control'
            end as group_name
        from scored
        cross join interventions
        where
            scored.created_date
            >= {{ dbt.dateadd('day', '-1 * interventions.window_days', 'interventions.effective_date') }}
            and scored.created_date
            < {{ dbt.dateadd('day', 'interventions.window_days', 'interventions.effective_date') }}
    )

select *
from placed
where group_name is not null
