{#- Vendor timestamps arrive as ISO 8601 with offset, ISO 8601 in UTC (Z), naive local time
    (meaning var('voc_timezone')), or epoch seconds; the raw layer keeps them as text. -#}
{% macro parse_vendor_timestamp(column) -%}
    {{ return(adapter.dispatch('parse_vendor_timestamp', 'voc')(column)) }}
{%- endmacro %}

{% macro default__parse_vendor_timestamp(column) -%}
    {{ exceptions.raise_compiler_error("parse_vendor_timestamp has no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro duckdb__parse_vendor_timestamp(column) -%}
    case
        when nullif(trim({{ column }}), '') is null then null
        when regexp_full_match(trim({{ column }}), '[0-9]{9,11}')
            then to_timestamp(cast(trim({{ column }}) as bigint))
        when regexp_matches(trim({{ column }}), '(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$')
            then try_cast(trim({{ column }}) as timestamptz)
        else try_cast(trim({{ column }}) as timestamp) at time zone '{{ var("voc_timezone") }}'
    end
{%- endmacro %}

{#- Calendar day of a timestamptz in the business time zone. -#}
{% macro local_date(column) -%}
    {{ return(adapter.dispatch('local_date', 'voc')(column)) }}
{%- endmacro %}

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
