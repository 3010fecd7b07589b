{#- Hour of day (0-23) of a timestamptz in the business time zone, var('voc_timezone'). -#}
{% macro local_hour(column) -%} {{ return(adapter.dispatch('local_hour', 'voc')(column)) }} {%- endmacro %}

{% macro spark__local_hour(column) -%}
    hour(from_utc_timestamp({{ column }}, '{{ var("voc_timezone") }}'))
{%- endmacro %}

{% macro duckdb__local_hour(column) -%}
    cast(extract(hour from timezone('{{ var("voc_timezone") }}', {{ column }})) as integer)
{%- endmacro %}
