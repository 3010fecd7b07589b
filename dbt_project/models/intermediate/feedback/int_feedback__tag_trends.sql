{#- Volume of every tag per day and per ISO week, on a dense grid (zero days count in the
    baseline), with share, change against the previous period and a z-score against the trailing
    baseline; lengths and thresholds come from the alert_settings seed. Published as the
    tag_trends mart; the priority engine reads the daily spikes from here. -#}
with
    scored as (select * from {{ ref('int_feedback__scored') }}),

    mentions as (select * from {{ ref('int_feedback__tag_mentions') }}),

    tags as (select tag from {{ ref('taxonomy') }}),

    {% for period_type, truncate, baseline_setting in [('day', 'created_date', 'tag_spike_baseline_days'), ('week', dbt.date_trunc('week', 'created_date'), 'tag_spike_baseline_weeks')] %}
        {{ period_type }}_totals as (
            select cast({{ truncate }} as date) as period_start, count(*) as n_feedback
            from scored
            group by cast({{ truncate }} as date)
        ),

        {{ period_type }}_counts as (
            select
                tag,
                cast({{ truncate }} as date) as period_start,
                count(*) as volume,
                sum(case when sentiment_label = 'negative' then 1 else 0 end) as n_negative
            from mentions
            group by tag, cast({{ truncate }} as date)
        ),

        {{ period_type }}_grid as (
            select
                '{{ period_type }}' as period_type,
                tags.tag,
                totals.period_start,
                row_number() over (partition by tags.tag order by totals.period_start) as period_index,
                totals.n_feedback,
                coalesce(counts.volume, 0) as volume,
                coalesce(counts.n_negative, 0) as n_negative
            from tags
            cross join {{ period_type }}_totals as totals
            left join
                {{ period_type }}_counts as counts
                on counts.tag = tags.tag
                and counts.period_start = totals.period_start
        ),

        {{ period_type }}_baseline as (
            select
                current_period.tag,
                current_period.period_start,
                avg(cast(baseline.volume as double)) as baseline_mean,
                stddev_samp(cast(baseline.volume as double)) as baseline_stddev,
                count(*) as baseline_periods
            from {{ period_type }}_grid as current_period
            inner join
                {{ period_type }}_grid as baseline
                on baseline.tag = current_period.tag
                and baseline.period_index < current_period.period_index
                and baseline.period_index
                >= current_period.period_index - {{ setting_number(baseline_setting) }}
            group by current_period.tag, current_period.period_start
        ),

        {{ period_type }}_trends as (
            select
                grid.period_type,
                grid.tag,
                grid.period_start,
                grid.volume,
                grid.n_negative,
                grid.n_feedback,
                lag(grid.volume) over (partition by grid.tag order by grid.period_start) as volume_prev,
                baseline.baseline_mean,
                baseline.baseline_stddev,
                coalesce(baseline.baseline_periods, 0) as baseline_periods
            from {{ period_type }}_grid as grid
            left join
                {{ period_type }}_baseline as baseline
                on baseline.tag = grid.tag
                and baseline.period_start = grid.period_start
        ),
    {% endfor %}

    unioned as (
        select *
        from day_trends
        union all
        select *
        from week_trends
    ),

    scored_trends as (
        select
            unioned.*,
            case
                when baseline_stddev > 0
                then (volume - baseline_mean) / baseline_stddev
                -- no variance in the baseline: any rise is unbounded, capped so BI can plot it
                when baseline_periods > 1 and volume > baseline_mean
                then 99.0
                else 0.0
            end as zscore
        from unioned
    )

select
    cast(period_type as {{ dbt.type_string() }}) as period_type,
    cast(tag as {{ dbt.type_string() }}) as tag,
    period_start,
    cast(volume as bigint) as volume,
    cast(n_negative as bigint) as n_negative,
    case when volume > 0 then cast(n_negative as double) / volume end as negative_rate,
    cast(n_feedback as bigint) as n_feedback,
    case when n_feedback > 0 then cast(volume as double) / n_feedback end as share_of_feedback,
    cast(volume_prev as bigint) as volume_prev,
    case when volume_prev > 0 then 100 * (volume - volume_prev) / volume_prev end as change_pct,
    cast(baseline_mean as double) as baseline_mean,
    cast(baseline_stddev as double) as baseline_stddev,
    cast(baseline_periods as bigint) as baseline_periods,
    cast(round(zscore, 6) as double) as zscore,
    coalesce(
        volume >= {{ setting_number('tag_spike_min_volume') }}
        and zscore >= {{ setting_number('tag_spike_zscore') }}
        and baseline_periods >= {{ setting_number('tag_spike_min_baseline_periods') }},
        false
    ) as is_spike
from scored_trends
