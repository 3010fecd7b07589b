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
            {#- the feedback measures kpi_daily stores (counts and sums), summed over the window -#}
            {% for measure in ['n_promoters', 'n_detractors', 'n_nps_responses', 'n_csat_top2', 'n_csat_responses', 'ces_sum', 'n_ces_responses', 'n_negative', 'n_feedback', 'n_complaints'] %}
                sum({{ measure }}) as {{ measure }}{{ ',' if not loop.last }}
            {% endfor %}
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
            {#- the ticket measures over the tickets created in the window -#}
            {% for measure in ['n_first_response_measured', 'n_first_response_met', 'median_first_response_minutes', 'n_first_responses'] %}
                {{ voc_measure(measure) }} as {{ measure }}{{ ',' if not loop.last }}
            {% endfor %}
        from windows
        left join
            {{ ref('ticket_sla') }} as tickets
            on tickets.created_date between windows.window_start and windows.window_end
        group by windows.period_type, windows.period_start, windows.which
    ),

    metric_values as (
        {#- Each KPI's formula is its metric in the semantic layer (voc_metric); listed here
            only with the measure that counts its sample and where its measures are. -#}
        {% set metrics = [
        ('nps', 'n_nps_responses', 'daily_totals'),
        ('csat_top2_rate', 'n_csat_responses', 'daily_totals'),
        ('ces_avg', 'n_ces_responses', 'daily_totals'),
        ('negative_rate', 'n_feedback', 'daily_totals'),
        ('complaint_volume', 'n_feedback', 'daily_totals'),
        ('sla_first_response_attainment', 'n_first_response_measured', 'ticket_totals'),
        ('median_first_response_minutes', 'n_first_responses', 'ticket_totals'),
    ] %}
        {% for metric, sample, relation in metrics %}
            select
                period_type,
                period_start,
                which,
                '{{ metric }}' as metric,
                cast(null as {{ dbt.type_string() }}) as detail,
                cast({{ voc_metric(metric) }} as double) as metric_value,
                cast(coalesce({{ sample }}, 0) as bigint) as sample_size,
                {% if metric == 'nps' %}
                    {#- scores are +1 / 0 / -1: variance = (promoters + detractors) / n - mean^2,
                        where the mean is NPS / 100 -#}
                    100.0
                    * 1.96
                    * sqrt(
                        greatest(
                            (cast(n_promoters + n_detractors as double) / nullif(n_nps_responses, 0))
                            - power(cast({{ voc_metric('nps') }} as double) / 100.0, 2),
                            0
                        )
                        / nullif(n_nps_responses, 0)
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
