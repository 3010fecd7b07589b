{#- One row per resolved customer (one_id): members, and non-members known by a strong identifier. -#}
with
    customers as (select * from {{ ref('int_identity__customers') }}),

    members as (select * from {{ ref('stg_members__members') }}),

    feedback_stats as (
        select
            one_id,
            min(created_at) as first_feedback_at,
            max(created_at) as last_feedback_at,
            count(*) as n_feedback,
            sum(case when sentiment_label = 'negative' then 1 else 0 end) as n_negative,
            {{ distinct_sorted_list('source') }} as sources
        from {{ ref('fct_feedback') }}
        where one_id is not null
        group by one_id
    )

select
    customers.one_id,
    customers.member_id,
    members.tier as customer_tier,
    coalesce(tiers.is_vip, false) as is_vip,
    members.city,
    members.home_store_id,
    members.registered_at as member_since,
    feedback_stats.first_feedback_at,
    feedback_stats.last_feedback_at,
    cast(coalesce(feedback_stats.n_feedback, 0) as bigint) as n_feedback,
    cast(coalesce(feedback_stats.n_negative, 0) as bigint) as n_negative,
    coalesce(feedback_stats.sources, {{ empty_string_list() }}) as sources,
    cast(customers.n_identifiers as bigint) as n_identifiers
from customers
left join members on customers.member_id = members.member_id
left join {{ ref('member_tiers') }} as tiers on members.tier = tiers.tier
left join feedback_stats on customers.one_id = feedback_stats.one_id
