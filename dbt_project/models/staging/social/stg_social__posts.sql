with
    source as ({{ latest_version(optional_source('social', 'social'), 'post_id') }}),

    typed as (
        select
            {{ blank_to_null('post_id') }} as post_id,
            platform,
            {{ blank_to_null('author__uid') }} as author_uid,
            author__followers as author_followers,
            author__verified as author_verified,
            text as post_text,
            published_at,
            url,
            likes,
            comments,
            reposts,
            is_repost,
            _voc_file as source_file,
            _voc_updated_at as version_at
        from source
    )

select *
from typed
