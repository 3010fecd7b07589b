with source as (
    select * from {{ optional_source('surveys', 'surveys') }} as raw_records
),

typed as (
    select
        {{ blank_to_null('response_id') }} as response_id,
        survey_id,
        survey_name,
        submitted_at,
        coalesce(updated_at, submitted_at) as updated_at,
        channel,
        {{ blank_to_null('respondent__member_id') }} as member_id,
        {{ normalize_phone('respondent__phone') }} as phone,
        {{ normalize_email('respondent__email') }} as email,
        {{ blank_to_null('respondent__unionid') }} as unionid,
        cast(answers__nps as integer) as nps,
        cast(answers__csat as integer) as csat,
        cast(answers__ces as integer) as ces,
        answers__comment as comment,
        {{ blank_to_null('store_id') }} as store_id,
        {{ blank_to_null('product_sku') }} as product_sku,
        {{ blank_to_null('order_id') }} as order_id,
        _voc_file as source_file,
        _voc_updated_at as version_at,
        row_number() over (
            partition by response_id order by _voc_updated_at desc, _dlt_load_id desc, _voc_file desc, _voc_line desc
        ) as version_rank
    from source
)

select * from typed where version_rank = 1
