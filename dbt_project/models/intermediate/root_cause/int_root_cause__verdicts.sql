{#- One verdict per episode. A spike is local when at most max_local_cells significant cells of
    one dimension (after Benjamini-Hochberg, int_root_cause__tests) explain at least
    min_local_share of its excess volume; those cells are named. Among dimensions that qualify,
    the one needing the fewest cells wins, then the one explaining the most (a store explains
    more of a store's problem than its region does, whose expected share is larger). The spike's
    own excess must be significant too (excess_p_value <= fdr_level): a spike that rose with the
    network's volume (a shopping festival) is not local. Otherwise the spike is nationwide; the
    named cells' share of the excess is capped at 1. A tag week that is not a spike gets not_a_spike; a spike with fewer
    than min_spike_items mentions gets insufficient_data. verdict_text is what the tag_spike and
    defect_burst alerts append to their detail. -#}
with
    episodes as (select * from {{ ref('int_root_cause__episodes') }}),

    cells as (select * from {{ ref('int_root_cause__cells') }}),

    tests as (select * from {{ ref('int_root_cause__tests') }}),

    episode_totals as (
        select
            episode_key,
            max(tag_total) as tag_total,
            max(expected_tag_total) as expected_tag_total,
            max(excess_total) as excess_total,
            count(*) as n_cells
        from cells
        group by episode_key
    ),

    excess_tests as (
        select episode_key, max(excess_p_value) as excess_p_value from tests group by episode_key
    ),

    labelled as (
        select
            *,
            case
                when dimension = 'hour'
                then dimension_value || '时'
                when dimension = 'co_tag'
                then '伴随「' || dimension_value || '」'
                else dimension_value
            end as cell_label
        from tests
    ),

    significance as (
        select episode_key, sum(case when is_significant then 1 else 0 end) as n_significant_cells
        from tests
        group by episode_key
    ),

    ranked as (
        select
            *,
            row_number() over (
                partition by episode_key, dimension order by excess desc, dimension_value
            ) as cell_rank
        from labelled
        where is_significant
    ),

    candidates as (
        select
            ranked.episode_key,
            ranked.dimension,
            count(*) as n_local_cells,
            {{ dbt.listagg('ranked.cell_label', "'、'", 'order by ranked.cell_rank') }} as local_cells,
            sum(ranked.excess) / max(totals.excess_total) as raw_share_of_excess,
            least(1.0, sum(ranked.excess) / max(totals.excess_total)) as local_share_of_excess,
            max(ranked.q_value) as local_max_q_value
        from ranked
        inner join episode_totals as totals on totals.episode_key = ranked.episode_key
        where
            ranked.cell_rank <= {{ setting_number('max_local_cells', 'root_cause_settings') }}
            and totals.excess_total > 0
        group by ranked.episode_key, ranked.dimension
    ),

    best_candidate as (
        select *
        from
            (
                select
                    *,
                    row_number() over (
                        partition by episode_key order by n_local_cells, raw_share_of_excess desc, dimension
                    ) as candidate_rank
                from candidates
                where local_share_of_excess >= {{ setting_number('min_local_share', 'root_cause_settings') }}
            ) as qualified
        where candidate_rank = 1
    ),

    top_cell as (
        select *
        from
            (
                select
                    *,
                    row_number() over (
                        partition by episode_key order by excess desc, dimension, dimension_value
                    ) as top_rank
                from labelled
            ) as ordered
        where top_rank = 1
    ),

    judged as (
        select
            episodes.*,
            coalesce(totals.tag_total, 0) as tag_total,
            totals.expected_tag_total,
            totals.excess_total,
            coalesce(totals.n_cells, 0) as n_cells,
            coalesce(significance.n_significant_cells, 0) as n_significant_cells,
            case
                when not episodes.is_spike
                then 'not_a_spike'
                when
                    coalesce(totals.tag_total, 0)
                    < {{ setting_number('min_spike_items', 'root_cause_settings') }}
                then 'insufficient_data'
                when
                    best_candidate.episode_key is not null
                    and coalesce(excess_tests.excess_p_value, 0)
                    <= {{ setting_number('fdr_level', 'root_cause_settings') }}
                then 'local'
                else 'nationwide'
            end as verdict,
            excess_tests.excess_p_value,
            best_candidate.dimension as local_dimension,
            best_candidate.local_cells,
            best_candidate.n_local_cells,
            best_candidate.local_share_of_excess,
            best_candidate.local_max_q_value,
            top_cell.dimension as top_dimension,
            top_cell.dimension_value as top_value,
            top_cell.share_of_excess as top_share_of_excess,
            top_cell.q_value as top_q_value
        from episodes
        left join episode_totals as totals on totals.episode_key = episodes.episode_key
        left join significance on significance.episode_key = episodes.episode_key
        left join excess_tests on excess_tests.episode_key = episodes.episode_key
        left join best_candidate on best_candidate.episode_key = episodes.episode_key
        left join top_cell on top_cell.episode_key = episodes.episode_key
    )

select
    episode_key,
    episode_type,
    tag,
    product_sku,
    first_day,
    last_day,
    is_spike,
    cast(tag_total as bigint) as tag_total,
    cast(expected_tag_total as double) as expected_tag_total,
    cast(excess_total as double) as excess_total,
    cast(excess_p_value as double) as excess_p_value,
    cast(n_cells as bigint) as n_cells,
    cast(n_significant_cells as bigint) as n_significant_cells,
    cast(verdict as {{ dbt.type_string() }}) as verdict,
    case when verdict = 'local' then local_dimension end as local_dimension,
    case when verdict = 'local' then local_cells end as local_cells,
    cast(case when verdict = 'local' then n_local_cells end as bigint) as n_local_cells,
    cast(case when verdict = 'local' then local_share_of_excess end as double) as local_share_of_excess,
    cast(case when verdict = 'local' then local_max_q_value end as double) as local_max_q_value,
    top_dimension,
    top_value,
    cast(top_share_of_excess as double) as top_share_of_excess,
    cast(top_q_value as double) as top_q_value,
    cast(
        case
            when verdict = 'local'
            then
                '集中在 '
                || local_cells
                || '：占超额 '
                || cast(cast(round(100 * local_share_of_excess) as integer) as {{ dbt.type_string() }})
                || '%'
            when verdict = 'nationwide'
            then '全国性'
            when verdict = 'insufficient_data'
            then '样本不足'
        end as {{ dbt.type_string() }}
    ) as verdict_text
from judged
