{#- The priority rule engine: every rule of the priority_rules seed is evaluated against every
    feedback item; the highest priority among the rules that fire wins, and their reasons are
    listed. A new rule of an existing condition type is a seed edit only.

    Incremental: a night evaluates the rules again for the items whose inputs changed
    (int_feedback__changes; a priority_rules edit changes every item), every item of the
    customers those belong to now or before (days since the same topic), and the items on a day
    whose tag spike appeared or went away since the last complete night (macro
    priority_affected_items). Their old rows are deleted first, since an item where no rule fires
    any more has no row. -#}
-- depends_on: {{ ref('int_feedback__changes') }}
-- depends_on: {{ ref('int_feedback__previous_spikes') }}
{{ config(
    materialized=voc_nights_materialization(),
    unique_key='feedback_id',
    incremental_strategy=voc_incremental_strategy(),
    on_schema_change='sync_all_columns',
    pre_hook="{{ delete_priority_affected_items(this) }}",
    post_hook="{{ delete_unreferenced_feedback(this, ref('int_feedback__unioned')) }}"
) }}

with
    {% if is_incremental() %} affected as ({{ priority_affected_items() }}), {% endif %}

    feedback as (
        select *
        from {{ ref('int_feedback__scored') }}
        {% if is_incremental() %} where feedback_id in (select affected.feedback_id from affected) {% endif %}
    ),

    {#- every mention of the customers of the affected items: their gaps need each other -#}
    mentions as (
        select *
        from {{ ref('int_feedback__tag_mentions') }}
        {% if is_incremental() %}
            where
                feedback_id in (select affected.feedback_id from affected)
                or one_id in (
                    select mentioned.one_id
                    from {{ ref('int_feedback__tag_mentions') }} as mentioned
                    where mentioned.feedback_id in (select affected.feedback_id from affected)
                )
        {% endif %}
    ),

    {#- Days since the same customer last spoke about the same topic. -#}
    repeat_gaps as (
        select feedback_id, min(gap_days) as days_since_same_topic
        from
            (
                select
                    feedback_id,
                    {{ dbt.datediff(
                "lag(created_at) over (partition by one_id, tag order by created_at, feedback_id)",
                'created_at', 'second') }} / 86400 as gap_days
                from mentions
                where one_id is not null
            ) as gaps
        where gap_days is not null
        group by feedback_id
    ),

    spiking as (
        select distinct mentions.feedback_id
        from mentions
        inner join
            {{ ref('int_feedback__tag_trends') }} as trends
            on trends.period_type = 'day'
            and trends.tag = mentions.tag
            and trends.period_start = mentions.created_date
            and trends.is_spike
    ),

    facts as (
        select
            feedback.feedback_id,
            feedback.risk_categories,
            feedback.sentiment_score,
            feedback.sentiment_label,
            feedback.is_vip,
            feedback.ticket_priority,
            feedback.text_masked,
            repeat_gaps.days_since_same_topic,
            spiking.feedback_id is not null as is_spiking_topic
        from feedback
        left join repeat_gaps on feedback.feedback_id = repeat_gaps.feedback_id
        left join spiking on feedback.feedback_id = spiking.feedback_id
    ),

    rules as (select * from {{ ref('priority_rules') }}),

    fired as (
        select facts.feedback_id, rules.rule_id, rules.priority, rules.reason
        from facts
        inner join
            rules
            on (
                case
                    rules.condition_type
                    when 'risk_category'
                    then {{ array_contains('facts.risk_categories', 'rules.parameter') }}
                    when 'sentiment_at_most'
                    then facts.sentiment_score <= rules.threshold
                    when 'vip_sentiment_at_most'
                    then facts.is_vip and facts.sentiment_score <= rules.threshold
                    when 'sentiment_label'
                    then facts.sentiment_label = rules.parameter
                    when 'ticket_priority'
                    then facts.ticket_priority = rules.parameter
                    when 'repeat_contact_within_days'
                    then facts.days_since_same_topic <= rules.threshold
                    when 'tag_spiking'
                    then facts.is_spiking_topic
                    when 'suggestion'
                    then
                        facts.sentiment_label <> 'negative'
                        and {{ regex_contains('facts.text_masked', 'rules.parameter') }}
                    else false
                end
            )
    )

select
    feedback_id,
    min(priority) as priority,
    {{ dbt.listagg('reason', "'; '", 'order by priority, rule_id') }} as priority_reasons,
    {{ dbt.listagg('rule_id', "','", 'order by priority, rule_id') }} as priority_rule_ids
from fired
group by feedback_id
