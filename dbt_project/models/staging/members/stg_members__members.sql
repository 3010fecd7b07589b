select
    member_id,
    phone,
    email,
    unionid,
    tier,
    city,
    home_store_id,
    registered_at,
    version_at as updated_at,
    consent_analytics
from {{ ref('stg_members__member_versions') }}
where superseded_at is null
