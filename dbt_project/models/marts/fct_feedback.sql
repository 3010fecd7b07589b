{#- One row per piece of customer feedback from every source: who said it, where, about what
    and how they feel, with personal data masked. -#}
with feedback as (
    select * from {{ ref('int_feedback__unioned') }}
),

enriched as (
    select * from {{ ref('int_feedback__enriched') }}
),

customers as (
    select * from {{ ref('int_identity__record_customers') }}
),

taxonomy as (
    select * from {{ ref('taxonomy') }}
),

{#- The member's tier when the feedback was given: the version current at that time, or the
    earliest version for feedback older than the first export. -#}
tier_at_feedback as (
    select
        feedback.feedback_id,
        versions.tier,
        row_number() over (
            partition by feedback.feedback_id
            order by
                case when versions.version_at <= feedback.created_at then 0 else 1 end,
                case when versions.version_at <= feedback.created_at then versions.version_at end desc,
                versions.version_at
        ) as version_preference
    from feedback
    inner join customers on customers.record_key = feedback.feedback_id
    inner join {{ ref('stg_members__member_versions') }} as versions on versions.member_id = customers.member_id
),

{#- Risk and complaint flags of the tags an item carries, from the taxonomy seed. -#}
tag_flags as (
    select
        enriched.feedback_id,
        max(case when taxonomy.is_complaint then 1 else 0 end) as has_complaint_tag,
        max(case when taxonomy.risk_category is not null then 1 else 0 end) as has_risk_tag,
        min(taxonomy.risk_category) as risk_category
    from enriched
    cross join taxonomy
    where {{ array_contains('enriched.tags', 'taxonomy.tag') }}
    group by enriched.feedback_id
),

{#- Feedback without words (a bare survey score or star rating) takes its sentiment from the score. -#}
scored as (
    select
        feedback.*,
        enriched.text_masked,
        enriched.text_sentiment_label,
        enriched.tags,
        enriched.primary_tag,
        enriched.tag_evidence,
        case
            when coalesce(enriched.text_clean, '') <> '' then 'text'
            when feedback.rating_nps is not null or feedback.rating_stars is not null
                or feedback.rating_csat is not null then 'rating'
            else 'none'
        end as sentiment_basis,
        case
            when coalesce(enriched.text_clean, '') <> '' then enriched.text_sentiment_score
            when feedback.rating_nps is not null then round((feedback.rating_nps - 5) / 5.0, 4)
            when feedback.rating_stars is not null then round((feedback.rating_stars - 3) / 2.0, 4)
            when feedback.rating_csat is not null then round((feedback.rating_csat - 3) / 2.0, 4)
            else 0.0
        end as sentiment_score,
        coalesce(tag_flags.has_complaint_tag, 0) = 1 as has_complaint_tag,
        tag_flags.risk_category,
        tier_at_feedback.tier as customer_tier,
        customers.one_id
    from feedback
    inner join enriched on feedback.feedback_id = enriched.feedback_id
    left join tag_flags on feedback.feedback_id = tag_flags.feedback_id
    left join customers on customers.record_key = feedback.feedback_id
    left join tier_at_feedback
        on feedback.feedback_id = tier_at_feedback.feedback_id and tier_at_feedback.version_preference = 1
),

labelled as (
    select
        scored.*,
        case
            when sentiment_basis = 'text' then text_sentiment_label
            when sentiment_score <= -0.2 then 'negative'
            when sentiment_score >= 0.2 then 'positive'
            else 'neutral'
        end as sentiment_label,
        coalesce(tiers.is_vip, false) as is_vip
    from scored
    left join {{ ref('member_tiers') }} as tiers on scored.customer_tier = tiers.tier
),

prioritized as (
    select
        labelled.*,
        {{ feedback_priority() }}
    from labelled
)

select
    cast(prioritized.feedback_id as {{ dbt.type_string() }}) as feedback_id,
    cast(prioritized.source as {{ dbt.type_string() }}) as source,
    cast(prioritized.source_record_id as {{ dbt.type_string() }}) as source_record_id,
    cast(prioritized.channel as {{ dbt.type_string() }}) as channel,
    prioritized.created_at,
    {{ local_date('prioritized.created_at') }} as created_date,
    prioritized.updated_at,
    prioritized.one_id,
    prioritized.customer_tier,
    prioritized.is_vip,
    prioritized.store_id,
    stores.region,
    stores.city as store_city,
    prioritized.product_sku,
    products.product_category,
    prioritized.order_id is not null as has_order,
    prioritized.text_masked,
    cast(prioritized.sentiment_score as double) as sentiment_score,
    prioritized.sentiment_label,
    prioritized.sentiment_basis,
    prioritized.tags,
    prioritized.primary_tag,
    prioritized.tag_evidence,
    prioritized.has_complaint_tag,
    prioritized.risk_category,
    prioritized.priority,
    prioritized.priority_reasons,
    prioritized.rating_nps,
    prioritized.rating_csat,
    prioritized.rating_ces,
    prioritized.rating_stars
from prioritized
left join {{ ref('stg_reference__stores') }} as stores on prioritized.store_id = stores.store_id
left join {{ ref('stg_reference__products') }} as products on prioritized.product_sku = products.product_sku
