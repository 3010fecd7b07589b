{#- One verdict per episode (tag spike, defect burst, tag week) of int_root_cause__verdicts,
    published; alert_id joins the tag_spike and defect_burst alerts. -#}
select
    episode_key,
    case
        when episode_type in ('tag_spike', 'defect_burst') then {{ dbt.hash('episode_key') }}
    end as alert_id,
    episode_type,
    tag,
    product_sku,
    first_day as period_start,
    last_day as period_end,
    is_spike,
    tag_total,
    expected_tag_total,
    excess_total,
    excess_p_value,
    n_cells,
    n_significant_cells,
    verdict,
    local_dimension,
    local_cells,
    n_local_cells,
    local_share_of_excess,
    local_max_q_value,
    top_dimension,
    top_value,
    top_share_of_excess,
    top_q_value,
    verdict_text
from {{ ref('int_root_cause__verdicts') }}
