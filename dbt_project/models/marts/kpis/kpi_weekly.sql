{#- The KPIs per ISO week (Monday to Sunday, local dates) over all sources, channels and
    stores: the scorecard's trend lines and a ready weekly series for BI. Feedback measures are
    kpi_daily's summed over the week; ticket measures are over the tickets created that week.
    Every formula is a metric of the semantic layer (voc_metric). -#}
{% set feedback_measures = ['n_feedback', 'n_negative', 'n_complaints', 'n_nps_responses', 'n_promoters', 'n_passives', 'n_detractors', 'n_csat_responses', 'n_csat_top2', 'n_ces_responses', 'ces_sum'] %}
{% set ticket_measures = ['n_first_response_measured', 'n_first_response_met', 'n_first_responses', 'median_first_response_minutes'] %}

with
    feedback_weeks as (
        select
            cast({{ dbt.date_trunc('week', 'kpi_date') }} as date) as week_start,
            {% for measure in feedback_measures %}
                sum({{ measure }}) as {{ measure }}{{ ',' if not loop.last }}
            {% endfor %}
        from {{ ref('kpi_daily') }}
        group by 1
    ),

    ticket_weeks as (
        select
            cast({{ dbt.date_trunc('week', 'created_date') }} as date) as week_start,
            {% for measure in ticket_measures %}
                {{ voc_measure(measure) }} as {{ measure }}{{ ',' if not loop.last }}
            {% endfor %}
        from {{ ref('ticket_sla') }}
        group by 1
    ),

    weeks as (
        select
            coalesce(feedback_weeks.week_start, ticket_weeks.week_start) as week_start,
            {% for measure in feedback_measures %} feedback_weeks.{{ measure }}, {% endfor %}
            {% for measure in ticket_measures %}
                ticket_weeks.{{ measure }}{{ ',' if not loop.last }}
            {% endfor %}
        from feedback_weeks
        full outer join ticket_weeks on feedback_weeks.week_start = ticket_weeks.week_start
    )

select
    cast(week_start as date) as week_start,
    {% for measure in feedback_measures + ['n_first_response_measured', 'n_first_response_met', 'n_first_responses'] %}
        cast(coalesce({{ measure }}, 0) as bigint) as {{ measure }},
    {% endfor %}
    cast({{ voc_metric('nps') }} as double) as nps,
    cast({{ voc_metric('csat_top2_rate') }} as double) as csat_top2_rate,
    cast({{ voc_metric('ces_avg') }} as double) as ces_avg,
    cast({{ voc_metric('negative_rate') }} as double) as negative_rate,
    cast({{ voc_metric('complaint_volume') }} as bigint) as complaint_volume,
    cast({{ voc_metric('sla_first_response_attainment') }} as double) as sla_first_response_attainment,
    cast({{ voc_metric('median_first_response_minutes') }} as double) as median_first_response_minutes
from weeks
