{#- Daily counts per local date x source x channel x store x product category. Every ratio is
    stored with the counts it is made of, so BI tools roll days up to weeks and months correctly. -#}
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
            count(*) as n_feedback,
            sum(case when sentiment_label = 'negative' then 1 else 0 end) as n_negative,
            sum(sentiment_score) as sentiment_sum,
            sum(
                case when has_complaint_tag and sentiment_label = 'negative' then 1 else 0 end
            ) as n_complaints,
            count(rating_nps) as n_nps_responses,
            sum(case when rating_nps >= 9 then 1 else 0 end) as n_promoters,
            sum(case when rating_nps between 7 and 8 then 1 else 0 end) as n_passives,
            sum(case when rating_nps <= 6 then 1 else 0 end) as n_detractors,
            count(rating_csat) as n_csat_responses,
            sum(case when rating_csat >= 4 then 1 else 0 end) as n_csat_top2,
            count(rating_ces) as n_ces_responses,
            sum(rating_ces) as ces_sum,
            count(rating_stars) as n_star_ratings,
            sum(rating_stars) as stars_sum,
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
    case when n_feedback > 0 then cast(n_negative as double) / n_feedback end as negative_rate,
    sentiment_sum,
    case when n_feedback > 0 then sentiment_sum / n_feedback end as avg_sentiment,
    n_complaints,
    n_nps_responses,
    n_promoters,
    n_passives,
    n_detractors,
    case when n_nps_responses > 0 then 100.0 * (n_promoters - n_detractors) / n_nps_responses end as nps,
    n_csat_responses,
    n_csat_top2,
    case when n_csat_responses > 0 then cast(n_csat_top2 as double) / n_csat_responses end as csat_top2_rate,
    n_ces_responses,
    ces_sum,
    case when n_ces_responses > 0 then cast(ces_sum as double) / n_ces_responses end as ces_avg,
    n_star_ratings,
    stars_sum,
    case when n_star_ratings > 0 then cast(stars_sum as double) / n_star_ratings end as avg_stars,
    n_tickets_opened,
    n_tickets_solved
from summed
