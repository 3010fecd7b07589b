with
    versions as (
        select {{ blank_to_null('ticket_id') }} as ticket_id, status, _voc_updated_at as version_at
        from {{ optional_source('tickets', 'tickets_history') }} as raw_records
    ),

    ordered as (
        select
            ticket_id,
            status,
            lag(status) over (partition by ticket_id order by version_at) as previous_status,
            version_at
        from versions
    )

select
    ticket_id,
    status,
    previous_status,
    version_at,
    coalesce(
        previous_status in ('solved', 'closed') and status in ('new', 'open', 'pending'), false
    ) as is_reopen
from ordered
