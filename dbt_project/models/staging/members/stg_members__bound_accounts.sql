{#- Platform accounts bound in any version of a member record (history kept, as for phones). -#}
select distinct
    versions.member_id,
    {{ blank_to_null('accounts.platform') }} as platform,
    {{ blank_to_null('accounts.account_id') }} as account_id
from {{ optional_source('members', 'members__bound_accounts') }} as accounts
inner join
    {{ ref('stg_members__member_versions') }} as versions on accounts._dlt_parent_id = versions.raw_row_id
where nullif(trim(accounts.account_id), '') is not null
