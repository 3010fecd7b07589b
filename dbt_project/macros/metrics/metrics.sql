{#- The KPIs are defined once, in dbt_project.yml (vars voc_kpi_measures and voc_kpi_metrics).
    MetricFlow reads them through the semantic layer (models/marts/kpis/_semantic_layer.yml,
    whose every expression is a var of that definition), and these macros render the same
    definitions into the marts' SQL, so that no mart writes a KPI formula of its own
    (docs/metrics.md). Vars, not dbt's graph: unit tests compile models without the graph.

    - voc_measure('n_promoters') is the measure's aggregate over rows of its semantic model's
      mart: sum(case when rating_nps >= 9 then 1 else 0 end).
    - voc_metric('nps') is the metric's formula over columns named after its measures (a mart
      that stores the measures, e.g. kpi_daily, or sums of them over a period):
      100.0 * ((n_promoters) - (n_detractors)) / nullif((n_nps_responses), 0). With inline=true
      the measures are their aggregates instead, for a query over the semantic model's rows. -#}
{% macro voc_semantic_measure(measure_name) -%}
    {%- set measures = var('voc_kpi_measures') -%}
    {%- if measure_name not in measures -%}
        {{ exceptions.raise_compiler_error("voc_measure: no measure '" ~ measure_name ~ "' in var voc_kpi_measures") }}
    {%- endif -%}
    {{ return(measures[measure_name]) }}
{%- endmacro %}

{#- A metric of voc_kpi_metrics, or the simple metric of a measure of the same name. -#}
{% macro voc_semantic_metric(metric_name) -%}
    {%- set metrics = var('voc_kpi_metrics') -%}
    {%- if metric_name in metrics -%} {{ return(metrics[metric_name]) }} {%- endif -%}
    {%- if metric_name in var('voc_kpi_measures') -%}
        {{ return({'type': 'simple', 'measure': metric_name}) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("voc_metric: no metric '" ~ metric_name ~ "' in var voc_kpi_metrics or voc_kpi_measures") }}
{%- endmacro %}

{#- A measure's aggregate over the rows of its semantic model's mart. -#}
{% macro voc_measure(measure_name) -%}
    {%- set measure = voc_semantic_measure(measure_name) -%}
    {%- set expression = measure.expr or measure.name -%}
    {%- if measure.agg == 'sum' -%} sum({{ expression }})
    {%- elif measure.agg == 'count' -%} count({{ expression }})
    {%- elif measure.agg == 'count_distinct' -%} count(distinct {{ expression }})
    {%- elif measure.agg == 'average' -%} avg({{ expression }})
    {%- elif measure.agg == 'min' -%} min({{ expression }})
    {%- elif measure.agg == 'max' -%} max({{ expression }})
    {%- elif measure.agg == 'sum_boolean' -%} sum(case when {{ expression }} then 1 else 0 end)
    {%- elif measure.agg == 'median' -%} {{ voc_median(expression) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("voc_measure: aggregation '" ~ measure.agg ~ "' of '" ~ measure_name ~ "' is not rendered") }}
    {%- endif -%}
{%- endmacro %}

{% macro voc_median(expression) -%}
    {{ return(adapter.dispatch('voc_median', 'voc')(expression)) }}
{%- endmacro %}

{% macro default__voc_median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro spark__voc_median(expression) -%} median({{ expression }}) {%- endmacro %}

{% macro duckdb__voc_median(expression) -%} median({{ expression }}) {%- endmacro %}

{#- A metric's formula: simple metrics are their measure (a column of that name, or with
    inline=true its aggregate), ratios divide numerator by denominator (null when the
    denominator is 0), derived metrics substitute their input metrics into their expression. -#}
{% macro voc_metric(metric_name, inline=false) -%}
    {%- set metric = voc_semantic_metric(metric_name) -%}
    {%- if metric.type == 'simple' -%}
        {%- set value = voc_measure(metric.measure) if inline else metric.measure -%}
        {%- if metric.fill_nulls_with is defined and metric.fill_nulls_with is not none -%}
            coalesce({{ value }}, {{ metric.fill_nulls_with }})
        {%- else -%} {{ value }}
        {%- endif -%}
    {%- elif metric.type == 'ratio' -%}
        cast({{ voc_metric(metric.numerator, inline) }} as double)
        / nullif({{ voc_metric(metric.denominator, inline) }}, 0)
    {%- elif metric.type == 'derived' -%}
        {%- set ns = namespace(expression=metric.expr) -%}
        {%- for input in metric.metrics -%}
            {%- set ns.expression = modules.re.sub(
                '\\b' ~ input ~ '\\b', '(' ~ voc_metric(input, inline) ~ ')', ns.expression
            ) -%}
        {%- endfor -%}
        {{ ns.expression }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("voc_metric: metric type '" ~ metric.type ~ "' of '" ~ metric_name ~ "' is not rendered") }}
    {%- endif -%}
{%- endmacro %}
