{#- One row per episode x dimension x value with mentions of the episode's tag in the period:
    observed against expected counts. Counting only; the tests are in int_root_cause__tests.

    Dimensions: store, region, channel, source, product, hour (local hour of day in
    var('voc_timezone')) and co_tag (another tag of the same feedback). A mention whose feedback
    has no value in a dimension (no store, say) is in no cell of it, but counts in the totals.

    expected_share = (baseline_count + k * network_share) / (baseline_total + k): the cell's own
    share of the tag's mentions in the baseline weeks before the period, shrunk towards its share
    of the rest of the network in the period (feedback without the tag), k = prior_strength
    pseudo-mentions; the network share is smoothed by half a feedback item, (n + 0.5) / (N + 1), so
    that no cell is expected at exactly 0. expected = expected_share * observed tag total of the
    period, so a tag that rises everywhere in proportion leaves every cell at its expectation;
    excess = observed - expected. The period's excess volume is its tag total minus the tag's
    baseline rate times the period's feedback volume (both in the episode's scope: one product for
    a defect burst); a cell's share of it is capped at 1 (the rest of the network can fall below
    its expectation while one cell rises). -#}
with
    episodes as (select * from {{ ref('int_root_cause__episodes') }}),

    feedback as (
        select
            feedback_id,
            created_date,
            product_sku,
            tags,
            store_id,
            region,
            channel,
            source,
            {{ local_hour('created_at') }} as local_hour
        from {{ ref('int_feedback__scored') }}
    ),

    feedback_cells as (
        {% for dimension, column in [('store', 'store_id'), ('region', 'region'), ('channel', 'channel'), ('source', 'source'), ('product', 'product_sku'), ('hour', 'local_hour')] %}
            select
                feedback_id,
                '{{ dimension }}' as dimension,
                cast({{ column }} as {{ dbt.type_string() }}) as dimension_value
            from feedback
            where {{ column }} is not null
            union all
        {% endfor %}
        select feedback_id, 'co_tag' as dimension, co_tag as dimension_value
        from (select feedback_id, {{ explode_list('tags') }} as co_tag from feedback) as exploded
    ),

    mentions as (
        select distinct feedback_id, tag, created_date, product_sku
        from {{ ref('int_feedback__tag_mentions') }}
    ),

    {#- Daily counts: the tag's mentions per cell, every feedback per cell, and their totals. The
        product is kept only for tags with a product-scoped episode (defect bursts), so the
        counts of every other tag aggregate over products. -#}
    scoped_tags as (select distinct tag from episodes where product_sku is not null),

    mention_cell_days as (
        select
            mentions.tag,
            case when scoped_tags.tag is not null then mentions.product_sku end as product_sku,
            mentions.created_date,
            cells.dimension,
            cells.dimension_value,
            count(*) as n
        from mentions
        inner join feedback_cells as cells on cells.feedback_id = mentions.feedback_id
        left join scoped_tags on scoped_tags.tag = mentions.tag
        where not (cells.dimension = 'co_tag' and cells.dimension_value = mentions.tag)
        group by all
    ),

    mention_days as (
        select tag, product_sku, created_date, count(*) as n
        from mentions
        group by tag, product_sku, created_date
    ),

    feedback_cell_days as (
        select feedback.created_date, cells.dimension, cells.dimension_value, count(*) as n
        from feedback
        inner join feedback_cells as cells on cells.feedback_id = feedback.feedback_id
        group by all
    ),

    feedback_days as (
        select created_date, product_sku, count(*) as n from feedback group by created_date, product_sku
    ),

    {#- Per episode: tag mentions and all feedback in the period and in the baseline, in scope. -#}
    episode_totals as (
        select
            episodes.episode_key,
            coalesce(sum(case when days.created_date >= episodes.first_day then days.n end), 0) as tag_total,
            coalesce(
                sum(case when days.created_date < episodes.first_day then days.n end), 0
            ) as baseline_tag_total
        from episodes
        left join
            mention_days as days
            on days.tag = episodes.tag
            and days.created_date between episodes.baseline_start and episodes.last_day
            and (episodes.product_sku is null or days.product_sku = episodes.product_sku)
        group by episodes.episode_key
    ),

    episode_volumes as (
        select
            episodes.episode_key,
            coalesce(
                sum(case when days.created_date >= episodes.first_day then days.n end), 0
            ) as feedback_total,
            coalesce(
                sum(case when days.created_date < episodes.first_day then days.n end), 0
            ) as baseline_feedback_total
        from episodes
        left join
            feedback_days as days
            on days.created_date between episodes.baseline_start and episodes.last_day
            and (episodes.product_sku is null or days.product_sku = episodes.product_sku)
        group by episodes.episode_key
    ),

    episode_cells as (
        select
            episodes.episode_key,
            cells.dimension,
            cells.dimension_value,
            coalesce(sum(case when cells.created_date >= episodes.first_day then cells.n end), 0) as observed,
            coalesce(
                sum(case when cells.created_date < episodes.first_day then cells.n end), 0
            ) as baseline_count
        from episodes
        inner join
            mention_cell_days as cells
            on cells.tag = episodes.tag
            and cells.created_date between episodes.baseline_start and episodes.last_day
            and (episodes.product_sku is null or cells.product_sku = episodes.product_sku)
        {#- a product's burst is all about its product: no product cells -#}
        where episodes.product_sku is null or cells.dimension <> 'product'
        group by all
    ),

    {#- The rest of the network: feedback of the period without the episode's tag, per cell
        (every product, also for a product's burst). -#}
    periods as (select distinct first_day, last_day from episodes),

    period_cells as (
        select periods.first_day, periods.last_day, cells.dimension, cells.dimension_value, sum(cells.n) as n
        from periods
        inner join
            feedback_cell_days as cells on cells.created_date between periods.first_day and periods.last_day
        group by all
    ),

    period_volumes as (
        select periods.first_day, periods.last_day, sum(days.n) as n
        from periods
        inner join feedback_days as days on days.created_date between periods.first_day and periods.last_day
        group by all
    ),

    tag_period_cells as (
        select episodes.episode_key, cells.dimension, cells.dimension_value, sum(cells.n) as n
        from episodes
        inner join
            mention_cell_days as cells
            on cells.tag = episodes.tag
            and cells.created_date between episodes.first_day and episodes.last_day
        group by all
    ),

    tag_period_volumes as (
        select episodes.episode_key, sum(days.n) as n
        from episodes
        inner join
            mention_days as days
            on days.tag = episodes.tag
            and days.created_date between episodes.first_day and episodes.last_day
        group by all
    ),

    network as (
        select
            episode_cells.episode_key,
            episode_cells.dimension,
            episode_cells.dimension_value,
            (cast(period_cells.n - coalesce(tag_period_cells.n, 0) as double) + 0.5)
            / (period_volumes.n - coalesce(tag_period_volumes.n, 0) + 1) as network_share
        from episode_cells
        inner join episodes on episodes.episode_key = episode_cells.episode_key
        inner join
            period_cells
            on period_cells.first_day = episodes.first_day
            and period_cells.last_day = episodes.last_day
            and period_cells.dimension = episode_cells.dimension
            and period_cells.dimension_value = episode_cells.dimension_value
        inner join
            period_volumes
            on period_volumes.first_day = episodes.first_day
            and period_volumes.last_day = episodes.last_day
        left join
            tag_period_cells
            on tag_period_cells.episode_key = episode_cells.episode_key
            and tag_period_cells.dimension = episode_cells.dimension
            and tag_period_cells.dimension_value = episode_cells.dimension_value
        left join tag_period_volumes on tag_period_volumes.episode_key = episode_cells.episode_key
    ),

    shares as (
        select
            episode_cells.*,
            totals.tag_total,
            totals.baseline_tag_total,
            volumes.feedback_total,
            volumes.baseline_feedback_total,
            case
                when volumes.baseline_feedback_total > 0
                then
                    cast(totals.baseline_tag_total as double)
                    * volumes.feedback_total
                    / volumes.baseline_feedback_total
            end as expected_tag_total,
            case
                when totals.baseline_tag_total > 0
                then cast(episode_cells.baseline_count as double) / totals.baseline_tag_total
            end as baseline_share,
            coalesce(network.network_share, 0.0) as network_share
        from episode_cells
        inner join episode_totals as totals on totals.episode_key = episode_cells.episode_key
        inner join episode_volumes as volumes on volumes.episode_key = episode_cells.episode_key
        left join
            network
            on network.episode_key = episode_cells.episode_key
            and network.dimension = episode_cells.dimension
            and network.dimension_value = episode_cells.dimension_value
        where episode_cells.observed > 0
    ),

    expected as (
        select
            *,
            least(
                1.0,
                (
                    baseline_count
                    + {{ setting_number('prior_strength', 'root_cause_settings') }} * network_share
                )
                / (baseline_tag_total + {{ setting_number('prior_strength', 'root_cause_settings') }})
            ) as expected_share,
            tag_total - coalesce(expected_tag_total, 0.0) as excess_total
        from shares
    )

select
    cast(episode_key as {{ dbt.type_string() }}) as episode_key,
    cast(dimension as {{ dbt.type_string() }}) as dimension,
    cast(dimension_value as {{ dbt.type_string() }}) as dimension_value,
    cast(observed as bigint) as observed,
    cast(baseline_count as bigint) as baseline_count,
    cast(tag_total as bigint) as tag_total,
    cast(baseline_tag_total as bigint) as baseline_tag_total,
    cast(feedback_total as bigint) as feedback_total,
    cast(baseline_feedback_total as bigint) as baseline_feedback_total,
    cast(baseline_share as double) as baseline_share,
    cast(network_share as double) as network_share,
    cast(expected_share as double) as expected_share,
    cast(expected_share * tag_total as double) as expected,
    cast(observed - expected_share * tag_total as double) as excess,
    cast(expected_tag_total as double) as expected_tag_total,
    cast(excess_total as double) as excess_total,
    case
        when excess_total > 0
        then cast(least(1.0, (observed - expected_share * tag_total) / excess_total) as double)
    end as share_of_excess
from expected
