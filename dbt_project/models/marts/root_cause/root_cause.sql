{#- The root-cause breakdown, one row per episode x dimension x value with mentions of the
    episode's tag in the period: counts and expectations (int_root_cause__cells), tests
    (int_root_cause__tests) and whether the cell is one the episode's local verdict names. -#}
with
    cells as (select * from {{ ref('int_root_cause__cells') }}),

    tests as (select * from {{ ref('int_root_cause__tests') }}),

    verdicts as (select * from {{ ref('int_root_cause__verdicts') }}),

    ranked as (
        select
            tests.episode_key,
            tests.dimension,
            tests.dimension_value,
            tests.p_value,
            tests.q_value,
            tests.is_significant,
            case
                when tests.is_significant
                then
                    row_number() over (
                        partition by tests.episode_key, tests.dimension, tests.is_significant
                        order by tests.excess desc, tests.dimension_value
                    )
            end as significant_rank
        from tests
    )

select
    cells.episode_key,
    verdicts.episode_type,
    verdicts.tag,
    verdicts.product_sku,
    verdicts.first_day as period_start,
    verdicts.last_day as period_end,
    cells.dimension,
    cells.dimension_value,
    cells.observed,
    cells.expected,
    cells.excess,
    cells.share_of_excess,
    cells.baseline_count,
    cells.baseline_share,
    cells.network_share,
    cells.expected_share,
    cast(ranked.p_value as double) as p_value,
    cast(ranked.q_value as double) as q_value,
    cast(ranked.is_significant as boolean) as is_significant,
    coalesce(
        verdicts.verdict = 'local'
        and verdicts.local_dimension = cells.dimension
        and ranked.significant_rank <= verdicts.n_local_cells,
        false
    ) as is_local_cell,
    cells.tag_total,
    cells.expected_tag_total,
    cells.excess_total,
    verdicts.verdict
from cells
inner join
    ranked
    on ranked.episode_key = cells.episode_key
    and ranked.dimension = cells.dimension
    and ranked.dimension_value = cells.dimension_value
inner join verdicts on verdicts.episode_key = cells.episode_key
