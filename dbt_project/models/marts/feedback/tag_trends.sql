{#- The tag trends of int_feedback__tag_trends, published: that model computes them once for
    this mart and for the priority engine's spiking-topic rule, so no intermediate model reads
    a mart. -#}
select
    period_type,
    tag,
    period_start,
    volume,
    n_negative,
    negative_rate,
    n_feedback,
    share_of_feedback,
    volume_prev,
    change_pct,
    baseline_mean,
    baseline_stddev,
    baseline_periods,
    zscore,
    is_spike
from {{ ref('int_feedback__tag_trends') }}
