{#- Vendor timestamps are parsed once, by the loader (loaders/timestamps.py): the raw layer holds
    them as UTC timestamptz, so staging only selects them. These macros turn instants into
    calendar days and back in the business time zone, var('voc_timezone'). -#}
{#- Calendar day of a timestamptz in the business time zone. -#}
{% macro local_date(column) -%} {{ return(adapter.dispatch('local_date', 'voc')(column)) }} {%- endmacro %}

{#- Spark's timestamp is an instant like DuckDB's timestamptz; from_utc_timestamp gives its wall
    clock in the zone (the session time zone is UTC, profiles.yml). -#}
{% macro spark__local_date(column) -%}
    to_date(from_utc_timestamp({{ column }}, '{{ var("voc_timezone") }}'))
{%- endmacro %}

{% macro duckdb__local_date(column) -%}
    cast(timezone('{{ var("voc_timezone") }}', {{ column }}) as date)
{%- endmacro %}

{#- Start of a local calendar day as a timestamptz. -#}
{% macro local_midnight(date_expression) -%}
    {{ return(adapter.dispatch('local_midnight', 'voc')(date_expression)) }}
{%- endmacro %}

{% macro spark__local_midnight(date_expression) -%}
    to_utc_timestamp(cast({{ date_expression }} as timestamp), '{{ var("voc_timezone") }}')
{%- endmacro %}

{% macro duckdb__local_midnight(date_expression) -%}
    (cast({{ date_expression }} as timestamp) at time zone '{{ var("voc_timezone") }}')
{%- endmacro %}
