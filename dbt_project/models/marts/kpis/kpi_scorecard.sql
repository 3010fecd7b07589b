{#- The leadership scorecard: the latest complete day, ISO week and month against the one
    before, per metric, with targets and status from the kpi_targets seed. NPS carries its 95%
    margin of error (from the variance of the +1/0/-1 scores). -#}
with
    data_end as (
        select
            {% if var('voc_as_of_date') %} cast('{{ var("voc_as_of_date") }}' as date)
            {% else %}
                least({{ dbt.dateadd('day', 1, 'max(kpi_date)') }}, {{ local_date(dbt.current_timestamp()) }})
            {% endif %} as as_of_date
        from {{ ref('kpi_daily') }}
    ),

    periods as (
        select
            'day' as period_type,
            {{ dbt.dateadd('day', -1, 'as_of_date') }} as period_start,
            {{ dbt.dateadd('day', -1, 'as_of_date') }} as period_end,
            {{ dbt.dateadd('day', -2, 'as_of_date') }} as previous_start,
            {{ dbt.dateadd('day', -2, 'as_of_date') }} as previous_end
        from data_end
        union all
        select
            'week',
            {{ dbt.dateadd('day', -7, dbt.date_trunc('week', 'as_of_date')) }},
            {{ dbt.dateadd('day', -1, dbt.date_trunc('week', 'as_of_date')) }},
            {{ dbt.dateadd('day', -14, dbt.date_trunc('week', 'as_of_date')) }},
            {{ dbt.dateadd('day', -8, dbt.date_trunc('week', 'as_of_date')) }}
        from data_end
        union all
        select
            'month',
            {{ dbt.dateadd('month', -1, dbt.date_trunc('month', 'as_of_date')) }},
            {{ dbt.dateadd('day', -1, dbt.date_trunc('month', 'as_of_date')) }},
            {{ dbt.dateadd('month', -2, dbt.date_trunc('month', 'as_of_date')) }},
            {{ dbt.dateadd('day', -1, dbt.dateadd('month', -1, dbt.date_trunc('month', 'as_of_date'))) }}
        from data_end
    ),

    {#- Each period and the one before it, as two windows to aggregate over. -#}
    windows as (
        select
            period_type,
            period_start,
            'current' as which,
            cast(period_start as date) as window_start,
            cast(period_end as date) as window_end
        from periods
        union all
        select period_type, period_start, 'previous', cast(previous_start as date), cast(previous_end as date)
        from periods
    ),

    daily_totals as (
        select
            windows.period_type,
            windows.period_start,
            windows.which,
            sum(n_promoters) as n_promoters,
            sum(n_detractors) as n_detractors,
            sum(n_nps_responses) as n_nps,
            sum(n_csat_top2) as n_csat_top2,
            sum(n_csat_responses) as n_csat,
            sum(ces_sum) as ces_sum,
            sum(n_ces_responses) as n_ces,
            sum(n_negative) as n_negative,
            sum(n_feedback) as n_feedback,
            sum(n_complaints) as n_complaints
        from windows
        left join
            {{ ref('kpi_daily') }} as daily
            on daily.kpi_date between windows.window_start and windows.window_end
        group by windows.period_type, windows.period_start, windows.which
    ),

    ticket_totals as (
        select
            windows.period_type,
            windows.period_start,
            windows.which,
            count(tickets.sla_first_response_met) as n_sla_decided,
            sum(case when tickets.sla_first_response_met then 1 else 0 end) as n_sla_met,
            median(tickets.first_response_minutes) as median_first_response_minutes,
            count(tickets.first_response_minutes) as n_first_responses
        from windows
        left join
            {{ ref('ticket_sla') }} as tickets
            on tickets.created_date between windows.window_start and windows.window_end
        group by windows.period_type, windows.period_start, windows.which
    ),

    metric_values as (
        {% set metrics = [
        ('nps', '100.0 * (n_promoters - n_detractors) / nullif(n_nps, 0)', 'n_nps', 'daily_totals'),
        ('csat_top2_rate', 'cast(n_csat_top2 as double) / nullif(n_csat, 0)', 'n_csat', 'daily_totals'),
        ('ces_avg', 'cast(ces_sum as double) / nullif(n_ces, 0)', 'n_ces', 'daily_totals'),
        ('negative_rate', 'cast(n_negative as double) / nullif(n_feedback, 0)', 'n_feedback', 'daily_totals'),
        ('complaint_volume', 'cast(coalesce(n_complaints, 0) as double)', 'n_feedback', 'daily_totals'),
        ('sla_first_response_attainment', 'cast(n_sla_met as double) / nullif(n_sla_decided, 0)', 'n_sla_decided', 'ticket_totals'),
        ('median_first_response_minutes', 'cast(median_first_response_minutes as double)', 'n_first_responses', 'ticket_totals'),
    ] %}
        {% for metric, expression, sample, relation in metrics %}
            select
                period_type,
                period_start,
                which,
                '{{ metric }}' as metric,
                cast(null as {{ dbt.type_string() }}) as detail,
                {{ expression }} as metric_value,
                cast(coalesce({{ sample }}, 0) as bigint) as sample_size,
                {% if metric == 'nps' %}
                    {#- scores are +1 / 0 / -1: variance = (promoters + detractors) / n - mean^2 -#}
                    100.0
                    * 1.96
                    * sqrt(
                        greatest(
                            (cast(n_promoters + n_detractors as double) / nullif(n_nps, 0))
                            - power(cast(n_promoters - n_detractors as double) / nullif(n_nps, 0), 2),
                            0
                        )
                        / nullif(n_nps, 0)
                    )
                {% else %} cast(null as double)
                {% endif %} as margin_of_error
            from {{ relation }}
            {% if not loop.last %}
                union all
            {% endif %}
        {% endfor %}
    ),

    paired as (
        select
            current_values.period_type,
            current_values.period_start,
            current_values.metric,
            current_values.detail,
            current_values.metric_value as value,
            previous_values.metric_value as previous_value,
            current_values.sample_size,
            current_values.margin_of_error
        from metric_values as current_values
        left join
            metric_values as previous_values
            on previous_values.period_type = current_values.period_type
            and previous_values.metric = current_values.metric
            and previous_values.which = 'previous'
        where current_values.which = 'current'
    ),

    {#- Top rising tags: the three largest volume increases against the previous period. -#}
    tag_volumes as (
        select windows.period_type, windows.period_start, windows.which, mentions.tag, count(*) as volume
        from windows
        inner join
            {{ ref('int_feedback__tag_mentions') }} as mentions
            on mentions.created_date between windows.window_start and windows.window_end
        group by windows.period_type, windows.period_start, windows.which, mentions.tag
    ),

    rising as (
        select
            current_volumes.period_type,
            current_volumes.period_start,
            current_volumes.tag,
            current_volumes.volume,
            coalesce(previous_volumes.volume, 0) as previous_volume,
            row_number() over (
                partition by current_volumes.period_type
                order by
                    current_volumes.volume - coalesce(previous_volumes.volume, 0) desc,
                    current_volumes.volume desc,
                    current_volumes.tag
            ) as rising_rank
        from tag_volumes as current_volumes
        left join
            tag_volumes as previous_volumes
            on previous_volumes.period_type = current_volumes.period_type
            and previous_volumes.tag = current_volumes.tag
            and previous_volumes.which = 'previous'
        where
            current_volumes.which = 'current'
            and current_volumes.volume > coalesce(previous_volumes.volume, 0)
    ),

    all_metrics as (
        select *
        from paired
        union all
        select
            period_type,
            period_start,
            'rising_tag_' || cast(rising_rank as {{ dbt.type_string() }}),
            tag,
            cast(volume as double),
            cast(previous_volume as double),
            cast(volume as bigint),
            cast(null as double)
        from rising
        where rising_rank <= 3
    ),

    judged as (
        select
            all_metrics.*,
            targets.target,
            targets.direction,
            targets.unit,
            case
                when all_metrics.metric like 'rising_tag_%'
                then 'at_risk'
                when all_metrics.value is null
                then null
                when targets.target is not null and targets.direction = 'higher_is_better'
                then
                    case
                        when all_metrics.value >= targets.target
                        then 'on_track'
                        when all_metrics.value >= targets.target - coalesce(targets.at_risk_tolerance, 0)
                        then 'at_risk'
                        else 'off_track'
                    end
                when targets.target is not null
                then
                    case
                        when all_metrics.value <= targets.target
                        then 'on_track'
                        when all_metrics.value <= targets.target + coalesce(targets.at_risk_tolerance, 0)
                        then 'at_risk'
                        else 'off_track'
                    end
                -- no target: judged against the previous period (more than 10% worse is off track)
                when all_metrics.previous_value is null
                then 'on_track'
                when
                    (
                        targets.direction = 'lower_is_better'
                        and all_metrics.value <= all_metrics.previous_value
                    )
                    or (
                        targets.direction = 'higher_is_better'
                        and all_metrics.value >= all_metrics.previous_value
                    )
                then 'on_track'
                when
                    abs(all_metrics.value - all_metrics.previous_value)
                    <= 0.1 * abs(all_metrics.previous_value)
                then 'at_risk'
                else 'off_track'
            end as status
        from all_metrics
        left join {{ ref('kpi_targets') }} as targets on targets.metric = all_metrics.metric
    )

select
    cast(period_type as {{ dbt.type_string() }}) as period_type,
    cast(period_start as date) as period_start,
    cast(metric as {{ dbt.type_string() }}) as metric,
    cast(detail as {{ dbt.type_string() }}) as detail,
    cast(value as double) as value,
    cast(previous_value as double) as previous_value,
    cast(value - previous_value as double) as delta,
    cast(target as double) as target,
    cast(status as {{ dbt.type_string() }}) as status,
    cast(sample_size as bigint) as sample_size,
    cast(margin_of_error as double) as margin_of_error,
    cast(unit as {{ dbt.type_string() }}) as unit
from judged
