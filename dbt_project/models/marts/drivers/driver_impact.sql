{#- Key drivers: per period x metric x source x tag, the metric among the feedback that carries
    the tag and among the comparable feedback (same source, same period) that does not, and the
    points the tag costs: impact = (value_without - value_with) x share_with for a metric where
    higher is better (NPS, CSAT top-2), (value_with - value_without) x share_with for the negative
    rate. Because overall = share_with x value_with + (1 - share_with) x value_without, the impact
    is how far the overall metric would move if the tagged feedback scored like the rest. The
    confidence interval is analytic (normal approximation, Welch standard error of the difference
    of two means, taken conditional on the tag's share). Settings: analysis_settings seed. -#}
with
    feedback as (
        select feedback_id, source, created_date, tags, rating_nps, rating_csat, sentiment_label
        from {{ ref('fct_feedback') }}
    ),

    latest as (select max(created_date) as latest_date from feedback),

    {#- calendar months, and one trailing period ending with the latest feedback date -#}
    periods as (
        select distinct
            'month' as period_type,
            cast({{ dbt.date_trunc('month', 'created_date') }} as date) as period_start,
            cast(
                {{ dbt.dateadd('day', '-1', dbt.dateadd('month', '1', dbt.date_trunc('month', 'created_date'))) }}
                as date
            ) as period_end
        from feedback
        union all
        select
            'trailing' as period_type,
            cast(
                {{ dbt.dateadd('day', '1 - cast(' ~ setting_number('driver_trailing_days', 'analysis_settings') ~ ' as integer)', 'latest_date') }}
                as date
            ) as period_start,
            latest_date as period_end
        from latest
        where latest_date is not null
    ),

    {#- one row per feedback x metric: the per-response value the metric averages -#}
    measured as (
        select
            feedback_id,
            source,
            created_date,
            tags,
            'nps' as metric,
            100 * case when rating_nps >= 9 then 1 when rating_nps <= 6 then -1 else 0 end as score
        from feedback
        where rating_nps is not null
        union all
        select
            feedback_id,
            source,
            created_date,
            tags,
            'csat_top2_rate' as metric,
            case when rating_csat >= 4 then 1 else 0 end as score
        from feedback
        where rating_csat is not null
        union all
        select
            feedback_id,
            source,
            created_date,
            tags,
            'negative_rate' as metric,
            case when sentiment_label = 'negative' then 1 else 0 end as score
        from feedback
    ),

    in_period as (
        select periods.period_type, periods.period_start, periods.period_end, measured.*
        from measured
        inner join periods on measured.created_date between periods.period_start and periods.period_end
    ),

    totals as (
        select
            period_type,
            period_start,
            period_end,
            metric,
            source,
            count(*) as n_total,
            sum(score) as sum_total,
            sum(score * score) as sumsq_total
        from in_period
        group by period_type, period_start, period_end, metric, source
    ),

    tagged as (
        select distinct
            period_type, period_start, metric, source, feedback_id, score, {{ explode_list('tags') }} as tag
        from in_period
    ),

    with_tag as (
        select
            period_type,
            period_start,
            metric,
            source,
            tag,
            count(*) as n_with,
            sum(score) as sum_with,
            sum(score * score) as sumsq_with
        from tagged
        group by period_type, period_start, metric, source, tag
    ),

    compared as (
        select
            totals.period_type,
            totals.period_start,
            totals.period_end,
            totals.metric,
            totals.source,
            with_tag.tag,
            totals.n_total,
            with_tag.n_with,
            totals.n_total - with_tag.n_with as n_without,
            with_tag.sum_with / with_tag.n_with as value_with,
            (totals.sum_total - with_tag.sum_with)
            / nullif(totals.n_total - with_tag.n_with, 0) as value_without,
            totals.sum_total / totals.n_total as value_overall,
            cast(with_tag.n_with as double) / totals.n_total as share_with,
            {#- sample variances of the per-response values (n - 1 in the denominator) -#}
            (with_tag.sumsq_with - with_tag.sum_with * with_tag.sum_with / with_tag.n_with)
            / nullif(with_tag.n_with - 1, 0) as var_with,
            (
                (totals.sumsq_total - with_tag.sumsq_with)
                - (totals.sum_total - with_tag.sum_with)
                * (totals.sum_total - with_tag.sum_with)
                / nullif(totals.n_total - with_tag.n_with, 0)
            )
            / nullif(totals.n_total - with_tag.n_with - 1, 0) as var_without
        from with_tag
        inner join
            totals
            on totals.period_type = with_tag.period_type
            and totals.period_start = with_tag.period_start
            and totals.metric = with_tag.metric
            and totals.source = with_tag.source
    ),

    impact as (
        select
            *,
            case when metric = 'negative_rate' then -1 else 1 end as direction_sign,
            case when metric = 'negative_rate' then -1 else 1 end
            * (value_without - value_with)
            * share_with as impact_points,
            share_with
            {#- null, not NaN, when every response of the period carries the tag (no one without it):
                DuckDB divides 0.0 by 0 into NaN, Spark into null -#}
            * sqrt(
                greatest(var_with, 0) / n_with + greatest(var_without, 0) / nullif(n_without, 0)
            ) as impact_std_error,
            n_with >= {{ setting_number('driver_min_tagged', 'analysis_settings') }}
            and n_without >= {{ setting_number('driver_min_tagged', 'analysis_settings') }} as is_ranked
        from compared
    ),

    final as (
        select
            *,
            impact_points
            - {{ setting_number('driver_ci_z', 'analysis_settings') }} * impact_std_error as impact_ci_low,
            impact_points
            + {{ setting_number('driver_ci_z', 'analysis_settings') }} * impact_std_error as impact_ci_high,
            case
                when is_ranked
                then
                    row_number() over (
                        partition by period_type, period_start, metric, source, is_ranked
                        order by impact_points desc, tag
                    )
            end as impact_rank
        from impact
    )

select
    {{ dbt.hash(dbt.concat(["period_type", "'|'", "cast(period_start as " ~ dbt.type_string() ~ ")", "'|'", "metric", "'|'", "source", "'|'", "tag"])) }}
    as driver_key,
    cast(period_type as {{ dbt.type_string() }}) as period_type,
    cast(period_start as date) as period_start,
    cast(period_end as date) as period_end,
    cast(metric as {{ dbt.type_string() }}) as metric,
    cast(source as {{ dbt.type_string() }}) as source,
    cast(tag as {{ dbt.type_string() }}) as tag,
    cast(n_total as bigint) as n_total,
    cast(n_with as bigint) as n_with,
    cast(n_without as bigint) as n_without,
    cast(share_with as double) as share_with,
    cast(value_overall as double) as value_overall,
    cast(value_with as double) as value_with,
    cast(value_without as double) as value_without,
    cast(impact_points as double) as impact_points,
    cast(impact_std_error as double) as impact_std_error,
    cast(impact_ci_low as double) as impact_ci_low,
    cast(impact_ci_high as double) as impact_ci_high,
    coalesce(impact_ci_low > 0, false) as is_significant,
    cast(impact_rank as integer) as impact_rank
from final
