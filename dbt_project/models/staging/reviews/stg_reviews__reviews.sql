with
    source as ({{ latest_version(optional_source('reviews', 'reviews'), 'review_id') }}),

    typed as (
        select
            {{ blank_to_null('review_id') }} as review_id,
            platform,
            shop_id,
            {{ blank_to_null('product_sku') }} as product_sku,
            {{ blank_to_null('order_id') }} as order_id,
            {{ blank_to_null('buyer_open_id') }} as buyer_open_id,
            cast(rating as integer) as rating,
            content,
            created_at,
            coalesce(modified_at, created_at) as modified_at,
            append_content,
            append_at,
            has_images,
            seller_reply,
            _voc_file as source_file,
            _voc_updated_at as version_at
        from source
    )

select *
from typed
