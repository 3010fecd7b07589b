{#- Schemas are the layer names (raw, staging, intermediate, marts, seeds), not prefixed by the target schema,
    because BI tools and the contract address them as e.g. `marts.fct_feedback`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%} {{ target.schema | trim }}
    {%- else -%} {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
