{#- The service supervisor's view: per team and ISO week of ticket creation, SLA attainment,
    median first response and resolution, and the backlog still open at the time of the data.
    First-response attainment and median are the semantic layer's metrics (voc_metric). -#}
with
    tickets as (
        select *, cast({{ dbt.date_trunc('week', 'created_date') }} as date) as week_start
        from {{ ref('ticket_sla') }}
    )

select
    {{ dbt.hash(dbt.concat(["coalesce(assignee_team, '')", "'|'", "cast(week_start as " ~ dbt.type_string() ~ ")"])) }}
    as team_week_key,
    assignee_team,
    week_start,
    cast(count(*) as bigint) as n_tickets,
    cast({{ voc_measure('n_first_response_measured') }} as bigint) as n_first_response_measured,
    cast({{ voc_measure('n_first_response_met') }} as bigint) as n_first_response_met,
    cast(
        {{ voc_metric('sla_first_response_attainment', inline=true) }} as double
    ) as first_response_attainment,
    cast(count(sla_resolution_met) as bigint) as n_resolution_measured,
    cast(sum(case when sla_resolution_met then 1 else 0 end) as bigint) as n_resolution_met,
    cast(sum(case when sla_resolution_met then 1 else 0 end) as double)
    / nullif(count(sla_resolution_met), 0) as resolution_attainment,
    cast(
        {{ voc_metric('median_first_response_minutes', inline=true) }} as double
    ) as median_first_response_minutes,
    cast(median(resolution_hours) as double) as median_resolution_hours,
    cast(sum(case when is_open then 1 else 0 end) as bigint) as backlog_open,
    cast(sum(case when reopened then 1 else 0 end) as bigint) as n_reopened
from tickets
group by assignee_team, week_start
