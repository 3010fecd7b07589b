{#- One row per calendar day: the time spine MetricFlow needs to query the metrics by day, week
    or month (dbt_project/models/marts/kpis/_semantic_layer.yml). -#}
select cast(date_day as date) as date_day
from ({{ dbt.date_spine('day', "cast('2020-01-01' as date)", "cast('2036-01-01' as date)") }}) as days
