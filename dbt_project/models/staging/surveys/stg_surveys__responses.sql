with
    source as ({{ latest_version(optional_source('surveys', 'surveys'), 'response_id') }}),

    typed as (
        select
            {{ blank_to_null('response_id') }} as response_id,
            survey_id,
            survey_name,
            submitted_at,
            coalesce(updated_at, submitted_at) as updated_at,
            channel,
            {{ blank_to_null('respondent__member_id') }} as member_id,
            {{ blank_to_null('respondent__phone') }} as phone,
            {{ blank_to_null('respondent__email') }} as email,
            {{ blank_to_null('respondent__unionid') }} as unionid,
            cast(answers__nps as integer) as nps,
            cast(answers__csat as integer) as csat,
            cast(answers__ces as integer) as ces,
            answers__comment as comment,
            {{ blank_to_null('store_id') }} as store_id,
            {{ blank_to_null('product_sku') }} as product_sku,
            {{ blank_to_null('order_id') }} as order_id,
            _voc_file as source_file,
            _voc_updated_at as version_at
        from source
    )

select *
from typed
