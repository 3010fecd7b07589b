{#- One row per feedback item x tag it carries, so that a BI tool filters and groups by tag
    without list functions: the tag's levels, how the customer felt about that aspect and the
    words it was found in, beside the columns BI filters feedback by.

    Incremental: a night rebuilds the rows of the items whose inputs changed
    (int_feedback__changes) and of those whose priority changed. -#}
-- depends_on: {{ ref('int_feedback__changes') }}
{{ config(
    materialized=voc_nights_materialization(),
    unique_key='feedback_id',
    incremental_strategy=voc_incremental_strategy(),
    on_schema_change='fail',
    pre_hook="{{ voc_delete_keys(this, 'feedback_id', fct_feedback_tag_affected_items(this)) }}",
    post_hook="{{ delete_unreferenced_feedback(this, ref('int_feedback__unioned')) }}"
) }}

with
    {#- the pre-hook deleted the rows of the items to rebuild: those whose inputs changed, and
        those with tags and no rows here (priority changed, or never built) -#}
    {% if is_incremental() %}
        affected as (
            {{ changed_feedback_ids() }}
            union
            select facts.feedback_id
            from {{ ref('fct_feedback') }} as facts
            where
                facts.tags <> {{ empty_string_list() }}
                and not exists (
                    select 1
                    from {{ this }} as current_rows
                    where current_rows.feedback_id = facts.feedback_id
                )
        ),
    {% endif %}

    feedback as (
        select *
        from {{ ref('fct_feedback') }}
        {% if is_incremental() %} where feedback_id in (select affected.feedback_id from affected) {% endif %}
    ),

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
