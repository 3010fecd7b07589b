{#- Messages of the newest version of each ticket; the helpdesk re-exports the whole conversation on every update. -#}
with
    tickets as (select ticket_id, raw_row_id from {{ ref('stg_tickets__tickets') }}),

    messages as (select * from {{ optional_source('tickets', 'tickets__messages') }} as raw_records)

select
    tickets.ticket_id,
    messages._dlt_list_idx as message_index,
    messages.{{ adapter.quote('at') }} as sent_at,
    messages.author_role,
    messages.body
from messages
inner join tickets on messages._dlt_parent_id = tickets.raw_row_id
