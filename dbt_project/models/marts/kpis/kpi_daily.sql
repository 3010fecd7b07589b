{#- Daily counts per local date x source x channel x store x product category. Every ratio is
    stored with the counts it is made of, so BI tools roll days up to weeks and months correctly.
    Counts and ratios are the measures and metrics of the semantic layer (_semantic_layer.yml),
    rendered by voc_measure / voc_metric: no KPI formula is written here. -#}
{% set grain = ['kpi_date', 'source', 'channel', 'store_id', 'product_category'] %}

with
    feedback as (select * from {{ ref('fct_feedback') }}),

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

    tickets_solved as (
        select
            {{ local_date('tickets.solved_at') }} as kpi_date,
            'ticket' as source,
            tickets.channel,
            tickets.store_id,
            products.product_category,
            0 as n_feedback,
            0 as n_negative,
            0 as sentiment_sum,
            0 as n_complaints,
            0 as n_nps_responses,
            0 as n_promoters,
            0 as n_passives,
            0 as n_detractors,
            0 as n_csat_responses,
            0 as n_csat_top2,
            0 as n_ces_responses,
            0 as ces_sum,
            0 as n_star_ratings,
            0 as stars_sum,
            0 as n_tickets_opened,
            count(*) as n_tickets_solved
        from {{ ref('stg_tickets__tickets') }} as tickets
        left join
            {{ ref('stg_reference__products') }} as products on tickets.product_sku = products.product_sku
        where tickets.solved_at is not null and tickets.status in ('solved', 'closed')
        group by
            {{ local_date('tickets.solved_at') }},
            tickets.channel,
            tickets.store_id,
            products.product_category
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
