{#- Did the loop close? One row per alert about one customer (an alert with a one_id:
    vip_negative, safety_risk): its delivery, the customer's first ticket at or after the alert
    (within loop_ticket_window_days; an alert raised from a ticket finds that ticket), the
    ticket's first response and resolution against the SLA targets (ticket_sla), and the
    customer's next feedback after the resolution (within loop_followup_window_days).
    State: open (no ticket yet), in_progress (a ticket, not resolved), resolved (resolved, no
    feedback since), followed_up (the customer spoke again after the resolution).
    Delivery comes from ops.alert_deliveries, which the delivery asset writes after the dbt
    build: an alert raised in this run shows its delivery from the next run on. -#}
with
    alerts as (
        select alert_id, alert_type, severity, raised_at, one_id, tag, route_to
        from {{ ref('alerts') }}
        where one_id is not null
    ),

    deliveries as (
        select alert_id, min(delivered_at) as delivered_at
        from
            {{ optional_relation('ops', 'alert_deliveries', {'alert_id': 'varchar', 'status': 'varchar', 'delivered_at': 'timestamp with time zone'}) }}
            as recorded
        where status = 'delivered' and delivered_at is not null
        group by alert_id
    ),

    tickets as (
        select
            ticket_id,
            one_id,
            assignee_team,
            priority,
            created_at,
            first_response_at,
            first_response_minutes,
            first_response_target_hours,
            sla_first_response_met,
            solved_at,
            resolution_hours,
            resolution_target_hours,
            sla_resolution_met
        from {{ ref('ticket_sla') }}
        where one_id is not null
    ),

    first_ticket as (
        select alerts.alert_id, tickets.*
        from alerts
        inner join
            tickets
            on tickets.one_id = alerts.one_id
            and tickets.created_at >= alerts.raised_at
            and tickets.created_at
            < {{ dbt.dateadd('day', 'cast(' ~ setting_number('loop_ticket_window_days', 'analysis_settings') ~ ' as integer)', 'alerts.raised_at') }}
        qualify
            row_number() over (partition by alerts.alert_id order by tickets.created_at, tickets.ticket_id)
            = 1
    ),

    feedback as (
        select feedback_id, one_id, source, created_at, sentiment_label, sentiment_score, rating_nps
        from {{ ref('fct_feedback') }}
        where one_id is not null
    ),

    next_feedback as (
        select first_ticket.alert_id, feedback.*
        from first_ticket
        inner join
            feedback
            on feedback.one_id = first_ticket.one_id
            and feedback.created_at > first_ticket.solved_at
            and feedback.created_at
            <= {{ dbt.dateadd('day', 'cast(' ~ setting_number('loop_followup_window_days', 'analysis_settings') ~ ' as integer)', 'first_ticket.solved_at') }}
        qualify
            row_number() over (
                partition by first_ticket.alert_id order by feedback.created_at, feedback.feedback_id
            )
            = 1
    ),

    joined as (
        select
            alerts.*,
            deliveries.delivered_at,
            first_ticket.ticket_id,
            first_ticket.assignee_team as ticket_team,
            first_ticket.priority as ticket_priority,
            first_ticket.created_at as ticket_created_at,
            first_ticket.first_response_at,
            first_ticket.first_response_minutes,
            first_ticket.first_response_target_hours,
            first_ticket.sla_first_response_met,
            first_ticket.solved_at as resolved_at,
            first_ticket.resolution_hours,
            first_ticket.resolution_target_hours,
            first_ticket.sla_resolution_met,
            next_feedback.feedback_id as next_feedback_id,
            next_feedback.source as next_feedback_source,
            next_feedback.created_at as next_feedback_at,
            next_feedback.sentiment_label as next_sentiment_label,
            next_feedback.sentiment_score as next_sentiment_score,
            next_feedback.rating_nps as next_rating_nps
        from alerts
        left join deliveries on deliveries.alert_id = alerts.alert_id
        left join first_ticket on first_ticket.alert_id = alerts.alert_id
        left join next_feedback on next_feedback.alert_id = alerts.alert_id
    )

select
    alert_id,
    alert_type,
    severity,
    raised_at,
    {{ local_date('raised_at') }} as raised_date,
    one_id,
    tag,
    route_to,
    delivered_at,
    delivered_at is not null as is_delivered,
    ticket_id,
    ticket_team,
    ticket_priority,
    ticket_created_at,
    cast({{ dbt.datediff('raised_at', 'ticket_created_at', 'second') }} / 3600 as double) as hours_to_ticket,
    first_response_at,
    first_response_minutes,
    first_response_target_hours,
    sla_first_response_met,
    resolved_at,
    resolution_hours,
    resolution_target_hours,
    sla_resolution_met,
    next_feedback_id,
    next_feedback_source,
    next_feedback_at,
    cast(
        {{ dbt.datediff('resolved_at', 'next_feedback_at', 'second') }} / 86400 as double
    ) as days_to_next_feedback,
    next_sentiment_label,
    next_sentiment_score,
    next_rating_nps,
    cast(
        case
            when ticket_id is null
            then 'open'
            when resolved_at is null
            then 'in_progress'
            when next_feedback_id is null
            then 'resolved'
            else 'followed_up'
        end as {{ dbt.type_string() }}
    ) as loop_state
from joined
