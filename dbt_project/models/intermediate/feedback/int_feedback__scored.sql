{#- Every feedback item with its customer, tags, sentiment, risks, store and product: everything
    fct_feedback holds except the priority, which needs tag trends built from this model.

    Incremental: a night scores again only the items whose inputs changed since the last complete
    night (int_feedback__changes); items no source holds any more are deleted after the build. -#}
-- depends_on: {{ ref('int_feedback__changes') }}
{{ config(
    materialized=voc_nights_materialization(),
    unique_key='feedback_id',
    incremental_strategy=voc_incremental_strategy(),
    on_schema_change='sync_all_columns',
    post_hook="{{ delete_unreferenced_feedback(this, ref('int_feedback__unioned')) }}"
) }}

with
    feedback as (select * from {{ ref('int_feedback__unioned') }} {{ where_feedback_changed() }}),

    enriched as (select * from {{ ref('int_feedback__enriched') }} {{ where_feedback_changed() }}),

    customers as (select * from {{ ref('int_identity__record_customers') }}),

    taxonomy as (select * from {{ ref('taxonomy') }}),

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
        inner join
            {{ ref('stg_members__member_versions') }} as versions on versions.member_id = customers.member_id
    ),

    {#- Risk and complaint flags of the tags an item carries, from the taxonomy seed. -#}
    tag_flags as (
        select
            enriched.feedback_id,
            max(case when taxonomy.is_complaint then 1 else 0 end) as has_complaint_tag,
            {{ distinct_sorted_list('taxonomy.risk_category') }} as risk_categories
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
            coalesce(enriched.text_risk_categories, {{ empty_string_list() }}) as text_risk_categories,
            coalesce(enriched.risk_evidence, '[]') as risk_evidence,
            case
                when coalesce(enriched.text_clean, '') <> ''
                then 'text'
                when
                    feedback.rating_nps is not null
                    or feedback.rating_stars is not null
                    or feedback.rating_csat is not null
                then 'rating'
                else 'none'
            end as sentiment_basis,
            case
                when coalesce(enriched.text_clean, '') <> ''
                then enriched.text_sentiment_score
                when feedback.rating_nps is not null
                then round((feedback.rating_nps - 5) / 5.0, 4)
                when feedback.rating_stars is not null
                then round((feedback.rating_stars - 3) / 2.0, 4)
                when feedback.rating_csat is not null
                then round((feedback.rating_csat - 3) / 2.0, 4)
                else 0.0
            end as sentiment_score,
            coalesce(tag_flags.has_complaint_tag, 0) = 1 as has_complaint_tag,
            {#- A risk counts when a risk tag of the taxonomy seed names it or when the risk lexicon
            (nlp_udfs detect_risks, independent of the seed) finds it in the words. -#}
            {{ sorted_list_union(
            'coalesce(tag_flags.risk_categories, ' ~ empty_string_list() ~ ')',
            'coalesce(enriched.text_risk_categories, ' ~ empty_string_list() ~ ')') }} as risk_categories,
            tier_at_feedback.tier as customer_tier,
            customers.one_id
        from feedback
        inner join enriched on feedback.feedback_id = enriched.feedback_id
        left join tag_flags on feedback.feedback_id = tag_flags.feedback_id
        left join customers on customers.record_key = feedback.feedback_id
        left join
            tier_at_feedback
            on feedback.feedback_id = tier_at_feedback.feedback_id
            and tier_at_feedback.version_preference = 1
    ),

    labelled as (
        select
            scored.*,
            case
                when sentiment_basis = 'text'
                then text_sentiment_label
                when sentiment_score <= -0.2
                then 'negative'
                when sentiment_score >= 0.2
                then 'positive'
                else 'neutral'
            end as sentiment_label,
            coalesce(tiers.is_vip, false) as is_vip
        from scored
        left join {{ ref('member_tiers') }} as tiers on scored.customer_tier = tiers.tier
    )

select
    labelled.feedback_id,
    labelled.source,
    labelled.source_record_id,
    labelled.channel,
    labelled.created_at,
    {{ local_date('labelled.created_at') }} as created_date,
    labelled.updated_at,
    labelled.one_id,
    labelled.customer_tier,
    labelled.is_vip,
    labelled.store_id,
    stores.region,
    stores.city as store_city,
    labelled.product_sku,
    products.product_category,
    labelled.order_id is not null as has_order,
    labelled.ticket_priority,
    labelled.text_masked,
    cast(labelled.sentiment_score as double) as sentiment_score,
    labelled.sentiment_label,
    labelled.sentiment_basis,
    labelled.tags,
    labelled.primary_tag,
    labelled.tag_evidence,
    labelled.has_complaint_tag,
    labelled.risk_categories,
    labelled.text_risk_categories,
    labelled.risk_evidence,
    labelled.rating_nps,
    labelled.rating_csat,
    labelled.rating_ces,
    labelled.rating_stars
from labelled
left join {{ ref('stg_reference__stores') }} as stores on labelled.store_id = stores.store_id
left join {{ ref('stg_reference__products') }} as products on labelled.product_sku = products.product_sku
