{#- Daily counts per local date x source x channel x store x product category. Every ratio is
    stored with the counts it is made of, so BI tools roll days up to weeks and months correctly.
    Counts and ratios are the measures and metrics of the semantic layer (_semantic_layer.yml),
    rendered by voc_measure / voc_metric: no KPI formula is written here.

    Incremental by day: a night recomputes the days that changed feedback items were on or are on
    now (int_feedback__changes), and the days whose count of solved tickets changed. -#}
-- depends_on: {{ ref('int_feedback__changes') }}
{{ config(
    materialized=voc_nights_materialization(),
    unique_key='kpi_date',
    incremental_strategy=voc_incremental_strategy(),
    on_schema_change='fail',
    pre_hook="{{ voc_delete_keys(this, 'kpi_date', kpi_daily_affected_days(this)) }}"
) }}
{% set grain = ['kpi_date', 'source', 'channel', 'store_id', 'product_category'] %}

with
    tickets_solved as ({{ kpi_daily_tickets_solved() }}),

    {% if is_incremental() %} affected_days as ({{ kpi_daily_affected_days(this) }}), {% endif %}

    feedback as (
        select *
        from {{ ref('fct_feedback') }}
        {% if is_incremental() %}
            where created_date in (select affected_days.kpi_date from affected_days)
        {% endif %}
    ),

    feedback_counts as (
        select
            created_date as kpi_date,
            source,
            channel,
            store_id,
            product_category,
            {{ voc_measure('n_feedback') }} as n_feedback,
            {{ voc_measure('n_negative') }} as n_negative,
            sum(sentiment_score) as sentiment_sum,
            {% for measure in ['n_complaints', 'n_nps_responses', 'n_promoters', 'n_passives', 'n_detractors', 'n_csat_responses', 'n_csat_top2', 'n_ces_responses', 'ces_sum', 'n_star_ratings', 'stars_sum'] %}
                {{ voc_measure(measure) }} as {{ measure }},
            {% endfor %}
            sum(case when source = 'ticket' then 1 else 0 end) as n_tickets_opened,
            0 as n_tickets_solved
        from feedback
        group by created_date, source, channel, store_id, product_category
    ),

    summed as (
        select
            {{ grain | join(', ') }},
            {% for measure in ['n_feedback', 'n_negative', 'n_complaints', 'n_nps_responses', 'n_promoters', 'n_passives', 'n_detractors', 'n_csat_responses', 'n_csat_top2', 'n_ces_responses', 'ces_sum', 'n_star_ratings', 'stars_sum', 'n_tickets_opened', 'n_tickets_solved'] %}
                cast(sum({{ measure }}) as bigint) as {{ measure }},
            {% endfor %}
            -- Rounded: a float sum depends on the order of parallel aggregation, and re-runs must be
            -- identical.
            cast(round(sum(sentiment_sum), 6) as double) as sentiment_sum
        from
            (
                select *
                from feedback_counts
                union all
                select *
                from tickets_solved
                {% if is_incremental() %}
                    where tickets_solved.kpi_date in (select affected_days.kpi_date from affected_days)
                {% endif %}
            ) as measures
        group by {{ grain | join(', ') }}
    )

select
    {{ dbt.hash(dbt.concat(["cast(kpi_date as " ~ dbt.type_string() ~ ")", "'|'", "source", "'|'", "coalesce(channel, '')", "'|'", "coalesce(store_id, '')", "'|'", "coalesce(product_category, '')"])) }}
    as kpi_key,
    kpi_date,
    source,
    channel,
    store_id,
    product_category,
    n_feedback,
    n_negative,
    {{ voc_metric('negative_rate') }} as negative_rate,
    sentiment_sum,
    case when n_feedback > 0 then sentiment_sum / n_feedback end as avg_sentiment,
    n_complaints,
    n_nps_responses,
    n_promoters,
    n_passives,
    n_detractors,
    {{ voc_metric('nps') }} as nps,
    n_csat_responses,
    n_csat_top2,
    {{ voc_metric('csat_top2_rate') }} as csat_top2_rate,
    n_ces_responses,
    ces_sum,
    {{ voc_metric('ces_avg') }} as ces_avg,
    n_star_ratings,
    stars_sum,
    {{ voc_metric('avg_stars') }} as avg_stars,
    n_tickets_opened,
    n_tickets_solved
from summed
