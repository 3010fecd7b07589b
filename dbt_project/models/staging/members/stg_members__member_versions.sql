{#- Every exported version of every member: identifier history (old phones, old emails) must
    stay attached to the member, so nothing here is collapsed to the newest version. -#}
with
    source as (
        {#- an exact re-export of a version is one version -#}
        {{ latest_version(optional_source('members', 'members'), ['member_id', '_voc_updated_at'], version_column=none) }}
    ),

    typed as (
        select
            {{ blank_to_null('member_id') }} as member_id,
            {{ blank_to_null('phone') }} as phone,
            {{ blank_to_null('email') }} as email,
            {{ blank_to_null('unionid') }} as unionid,
            tier,
            city,
            {{ blank_to_null('home_store_id') }} as home_store_id,
            registered_at,
            _voc_updated_at as version_at,
            consent_analytics,
            _dlt_id as raw_row_id
        from source
    )

select
    member_id,
    phone,
    email,
    unionid,
    tier,
    city,
    home_store_id,
    registered_at,
    version_at,
    consent_analytics,
    raw_row_id,
    lead(version_at) over (partition by member_id order by version_at) as superseded_at
from typed
