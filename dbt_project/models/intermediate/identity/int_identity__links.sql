{#- Every (record, strong identifier) pair. A record is a piece of feedback or a CRM member
    (all versions of a member form one record, so old phones and emails stay theirs).
    record_member_id is the member a record names, used to find identifiers shared by members. -#}
with
    feedback as (select * from {{ ref('int_feedback__unioned') }}),

    member_versions as (select * from {{ ref('stg_members__member_versions') }}),

    feedback_links as (
        {% for id_type, expression in [('member_id', 'member_id'), ('phone', 'phone'), ('email', 'email'), ('unionid', 'unionid'), ('account', dbt.concat(['account_platform', "':'", 'account_id']))] %}
            select
                feedback_id as record_key,
                'feedback' as record_kind,
                member_id as record_member_id,
                '{{ id_type }}' as id_type,
                {{ expression }} as id_value,
                created_at as seen_at
            from feedback
            where {{ expression }} is not null
            {% if not loop.last %}
                union all
            {% endif %}
        {% endfor %}
    ),

    member_links as (
        {% for id_type in ['member_id', 'phone', 'email', 'unionid'] %}
            select
                'member:' || member_id as record_key,
                'member' as record_kind,
                member_id as record_member_id,
                '{{ id_type }}' as id_type,
                {{ id_type }} as id_value,
                version_at as seen_at
            from member_versions
            where {{ id_type }} is not null
            union all
        {% endfor %}
        select
            'member:' || accounts.member_id,
            'member',
            accounts.member_id,
            'account',
            {{ dbt.concat(['accounts.platform', "':'", 'accounts.account_id']) }},
            first_versions.first_version_at
        from {{ ref('stg_members__bound_accounts') }} as accounts
        inner join
            (
                select member_id, min(version_at) as first_version_at from member_versions group by member_id
            ) as first_versions
            on accounts.member_id = first_versions.member_id
        where accounts.platform is not null
    )

select record_key, record_kind, record_member_id, id_type, id_value, min(seen_at) as seen_at
from
    (
        select *
        from feedback_links
        union all
        select *
        from member_links
    ) as links
group by record_key, record_kind, record_member_id, id_type, id_value
