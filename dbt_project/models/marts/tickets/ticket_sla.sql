{#- One row per ticket at its latest state, measured against the SLA targets seed. First
    response is the first agent message (system messages do not count); a ticket without an
    agent reply is measured against the time of the data (as_of). -#}
with
    tickets as (select * from {{ ref('stg_tickets__tickets') }}),

    first_agent_reply as (
        select ticket_id, min(sent_at) as first_agent_reply_at
        from {{ ref('stg_tickets__messages') }}
        where author_role = 'agent'
        group by ticket_id
    ),

    reopens as (
        select ticket_id, sum(case when is_reopen then 1 else 0 end) as n_reopens
        from {{ ref('stg_tickets__status_history') }}
        group by ticket_id
    ),

    as_of as (select max(version_at) as as_of_at from tickets),

    feedback as (
        select source_record_id as ticket_id, one_id, primary_tag
        from {{ ref('int_feedback__scored') }}
        where source = 'ticket'
    ),

    measured as (
        select
            tickets.ticket_id,
            tickets.channel,
            tickets.assignee_team,
            tickets.priority,
            tickets.status,
            tickets.created_at,
            first_agent_reply.first_agent_reply_at as first_response_at,
            case when tickets.status in ('solved', 'closed') then tickets.solved_at end as solved_at,
            {{ dbt.datediff('tickets.created_at', 'first_agent_reply.first_agent_reply_at', 'second') }}
            / 60 as first_response_minutes,
            {{ dbt.datediff('tickets.created_at', "case when tickets.status in ('solved', 'closed') then tickets.solved_at end", 'second') }}
            / 3600 as resolution_hours,
            {{ dbt.datediff('tickets.created_at', 'as_of.as_of_at', 'second') }} / 3600 as open_hours_as_of,
            targets.first_response_hours as first_response_target_hours,
            targets.resolution_hours as resolution_target_hours,
            coalesce(reopens.n_reopens, 0) as n_reopens,
            tickets.satisfaction_rating,
            feedback.one_id,
            feedback.primary_tag,
            as_of.as_of_at
        from tickets
        cross join as_of
        left join first_agent_reply on tickets.ticket_id = first_agent_reply.ticket_id
        left join reopens on tickets.ticket_id = reopens.ticket_id
        left join feedback on tickets.ticket_id = feedback.ticket_id
        left join {{ ref('sla_targets') }} as targets on tickets.priority = targets.priority
    )

select
    cast(ticket_id as {{ dbt.type_string() }}) as ticket_id,
    channel,
    assignee_team,
    priority,
    status,
    created_at,
    {{ local_date('created_at') }} as created_date,
    first_response_at,
    solved_at,
    cast(first_response_minutes as double) as first_response_minutes,
    cast(resolution_hours as double) as resolution_hours,
    cast(first_response_target_hours as double) as first_response_target_hours,
    cast(resolution_target_hours as double) as resolution_target_hours,
    {#- null while a ticket without a reply is still inside its target: not yet met nor missed -#}
    case
        when first_response_minutes is not null
        then first_response_minutes <= first_response_target_hours * 60
        when solved_at is not null
        then false
        when open_hours_as_of > first_response_target_hours
        then false
    end as sla_first_response_met,
    case
        when resolution_hours is not null
        then resolution_hours <= resolution_target_hours
        when open_hours_as_of > resolution_target_hours
        then false
    end as sla_resolution_met,
    n_reopens > 0 as reopened,
    cast(n_reopens as bigint) as n_reopens,
    status not in ('solved', 'closed') as is_open,
    satisfaction_rating,
    one_id,
    primary_tag,
    as_of_at
from measured
