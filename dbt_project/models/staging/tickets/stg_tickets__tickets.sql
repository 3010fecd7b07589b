with source as (
    select * from {{ optional_source('tickets', 'tickets') }} as raw_records
),

typed as (
    select
        {{ blank_to_null('ticket_id') }} as ticket_id,
        created_at,
        coalesce(updated_at, created_at) as updated_at,
        channel,
        status,
        priority,
        category,
        {{ normalize_phone('requester__phone') }} as phone,
        {{ normalize_email('requester__email') }} as email,
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
        _voc_updated_at as version_at,
        row_number() over (
            partition by ticket_id order by _voc_updated_at desc, _dlt_load_id desc, _voc_file desc, _voc_line desc
        ) as version_rank
    from source
)

select * from typed where version_rank = 1
