{#- Vendor timestamps are parsed once, by the loader (loaders/timestamps.py): the raw layer holds
    them as UTC timestamptz, so staging only selects them. These macros turn instants into
    calendar days and back in the business time zone, var('voc_timezone'). -#}
{#- Calendar day of a timestamptz in the business time zone. -#}
{% macro local_date(column) -%} {{ return(adapter.dispatch('local_date', 'voc')(column)) }} {%- endmacro %}

{% macro default__local_date(column) -%}
    {{ exceptions.raise_compiler_error("local_date has no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro duckdb__local_date(column) -%}
    cast(timezone('{{ var("voc_timezone") }}', {{ column }}) as date)
{%- endmacro %}

{#- Start of a local calendar day as a timestamptz. -#}
{% macro local_midnight(date_expression) -%}
    {{ return(adapter.dispatch('local_midnight', 'voc')(date_expression)) }}
{%- endmacro %}

{% macro default__local_midnight(date_expression) -%}
    to_utc_timestamp(cast({{ date_expression }} as timestamp), '{{ var("voc_timezone") }}')
{%- endmacro %}

{% macro duckdb__local_midnight(date_expression) -%}
    (cast({{ date_expression }} as timestamp) at time zone '{{ var("voc_timezone") }}')
{%- endmacro %}
