{#- A column type written the DuckDB way (as the sources' YAML and our macros' typed empty
    relations write them) in the target's own spelling: on Spark varchar is string, timestamptz
    (timestamp with time zone) is timestamp (an instant, shown in the session time zone, UTC), and a
    list varchar[] is array<string>. -#}
{% macro voc_type(data_type) -%} {{ return(adapter.dispatch('voc_type', 'voc')(data_type)) }} {%- endmacro %}

{% macro default__voc_type(data_type) -%} {{ return(data_type) }} {%- endmacro %}

{% macro spark__voc_type(data_type) -%}
    {%- set spelled = data_type | trim | lower -%}
    {%- if spelled.endswith('[]') -%}
        {{ return('array<' ~ spark__voc_type(spelled[:-2]) ~ '>') }}
    {%- endif -%}
    {%- set names = {
        'varchar': 'string',
        'text': 'string',
        'timestamptz': 'timestamp',
        'timestamp with time zone': 'timestamp',
        'integer': 'int',
        'hugeint': 'decimal(38, 0)',
    } -%}
    {{ return(names.get(spelled, spelled)) }}
{%- endmacro %}
