{#- The loop per team and ISO week the alert was raised in: how many alerts about a customer
    were delivered, got a ticket, were resolved and heard from again, the SLA attainment of
    those tickets, and the median times. Rates are over the week's alerts, so they can be
    recomputed from the counts. First-response attainment and median are the KPIs' metrics
    (voc_metric, docs/metrics.md) over the loop's tickets. -#}
with
    loops as (
        select
            *,
            coalesce(route_to, '') as team,
            cast({{ dbt.date_trunc('week', 'raised_date') }} as date) as week_start
        from {{ ref('closed_loop') }}
    )

select
    {{ dbt.hash(dbt.concat(["team", "'|'", "cast(week_start as " ~ dbt.type_string() ~ ")"])) }}
    as team_week_key,
    team,
    week_start,
    cast(count(*) as bigint) as n_alerts,
    cast(sum(case when is_delivered then 1 else 0 end) as bigint) as n_delivered,
    cast(sum(case when ticket_id is not null then 1 else 0 end) as bigint) as n_with_ticket,
    cast(sum(case when loop_state in ('resolved', 'followed_up') then 1 else 0 end) as bigint) as n_resolved,
    cast(sum(case when loop_state = 'followed_up' then 1 else 0 end) as bigint) as n_followed_up,
    cast(sum(case when loop_state = 'open' then 1 else 0 end) as bigint) as n_open,
    cast(sum(case when loop_state = 'in_progress' then 1 else 0 end) as bigint) as n_in_progress,
    cast(sum(case when is_delivered then 1 else 0 end) as double) / count(*) as delivered_rate,
    cast(sum(case when ticket_id is not null then 1 else 0 end) as double) / count(*) as ticket_rate,
    cast(sum(case when loop_state in ('resolved', 'followed_up') then 1 else 0 end) as double)
    / count(*) as resolved_rate,
    cast(sum(case when loop_state = 'followed_up' then 1 else 0 end) as double)
    / count(*) as followed_up_rate,
    cast({{ voc_measure('n_first_response_measured') }} as bigint) as n_first_response_measured,
    cast(
        {{ voc_metric('sla_first_response_attainment', inline=true) }} as double
    ) as first_response_attainment,
    cast(count(sla_resolution_met) as bigint) as n_resolution_measured,
    cast(sum(case when sla_resolution_met then 1 else 0 end) as double)
    / nullif(count(sla_resolution_met), 0) as resolution_attainment,
    cast(median(hours_to_ticket) as double) as median_hours_to_ticket,
    cast(
        {{ voc_metric('median_first_response_minutes', inline=true) }} as double
    ) as median_first_response_minutes,
    cast(median(resolution_hours) as double) as median_resolution_hours,
    cast(median(days_to_next_feedback) as double) as median_days_to_next_feedback,
    cast(avg(next_sentiment_score) as double) as avg_next_sentiment
from loops
group by team, week_start
