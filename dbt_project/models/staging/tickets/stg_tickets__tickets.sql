with
    source as ({{ latest_version(optional_source('tickets', 'tickets'), 'ticket_id') }}),

    typed as (
        select
            {{ blank_to_null('ticket_id') }} as ticket_id,
            created_at,
            coalesce(updated_at, created_at) as updated_at,
            channel,
            status,
            priority,
            category,
            {{ blank_to_null('requester__phone') }} as phone,
            {{ blank_to_null('requester__email') }} as email,
            {{ blank_to_null('requester__member_id') }} as member_id,
            assignee_team,
            assignee,
            {{ blank_to_null('store_id') }} as store_id,
            {{ blank_to_null('product_sku') }} as product_sku,
            subject,
            first_response_at,
            solved_at,
            satisfaction_rating,
            _dlt_id as raw_row_id,
            _voc_file as source_file,
            _voc_updated_at as version_at
        from source
    )

select *
from typed
