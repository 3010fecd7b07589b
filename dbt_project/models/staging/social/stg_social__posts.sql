with source as (
    select * from {{ optional_source('social', 'social') }} as raw_records
),

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
        _voc_updated_at as version_at,
        row_number() over (
            partition by post_id order by _voc_updated_at desc, _dlt_load_id desc, _voc_file desc, _voc_line desc
        ) as version_rank
    from source
)

select * from typed where version_rank = 1
