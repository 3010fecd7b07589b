{#- One row per feedback item x tag it carries, so that a BI tool filters and groups by tag
    without list functions: the tag's levels, how the customer felt about that aspect and the
    words it was found in, beside the columns BI filters feedback by. -#}
with
    feedback as (select * from {{ ref('fct_feedback') }}),

    feedback_tags as (select feedback_id, {{ explode_list('tags') }} as tag from feedback),

    {#- tag_evidence holds one entry per tag (its most negative clause). -#}
    evidence as (
        select
            items.feedback_id,
            items.evidence_item.tag as tag,
            items.evidence_item.keyword as evidence_keyword,
            items.evidence_item.clause as evidence_clause,
            items.evidence_item.sentiment as aspect_sentiment_label,
            items.evidence_item.score as aspect_sentiment_score
        from
            (
                select feedback_id, {{ unnest_tag_evidence('tag_evidence') }} as evidence_item
                from feedback
                where tag_evidence is not null
            ) as items
    ),

    taxonomy as (select * from {{ ref('taxonomy') }})

select
    {{ dbt.hash(dbt.concat(["feedback_tags.feedback_id", "'|'", "feedback_tags.tag"])) }} as feedback_tag_key,
    feedback_tags.feedback_id,
    feedback_tags.tag,
    {#- a tag no longer in the seed keeps the levels its name carries -#}
    coalesce(taxonomy.l1, {{ dbt.split_part('feedback_tags.tag', "'-'", 1) }}) as tag_l1,
    coalesce(taxonomy.l2, nullif({{ dbt.split_part('feedback_tags.tag', "'-'", 2) }}, '')) as tag_l2,
    feedback_tags.tag = feedback.primary_tag as is_primary_tag,
    coalesce(taxonomy.is_complaint, false) as is_complaint_tag,
    nullif(taxonomy.risk_category, '') as risk_category,
    taxonomy.owner_team,
    evidence.aspect_sentiment_label,
    cast(evidence.aspect_sentiment_score as double) as aspect_sentiment_score,
    evidence.evidence_keyword,
    evidence.evidence_clause,
    feedback.sentiment_label,
    feedback.created_at,
    feedback.created_date,
    feedback.source,
    feedback.channel,
    feedback.store_id,
    feedback.region,
    feedback.store_city,
    feedback.product_sku,
    feedback.product_category,
    feedback.one_id,
    feedback.customer_tier,
    feedback.is_vip,
    feedback.priority
from feedback_tags
inner join feedback on feedback_tags.feedback_id = feedback.feedback_id
left join evidence on evidence.feedback_id = feedback_tags.feedback_id and evidence.tag = feedback_tags.tag
left join taxonomy on taxonomy.tag = feedback_tags.tag
