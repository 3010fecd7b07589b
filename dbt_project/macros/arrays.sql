{% macro array_contains(array_expression, value_expression) -%}
    {{ return(adapter.dispatch('array_contains', 'voc')(array_expression, value_expression)) }}
{%- endmacro %}

{% macro default__array_contains(array_expression, value_expression) -%}
    array_contains({{ array_expression }}, {{ value_expression }})
{%- endmacro %}

{% macro duckdb__array_contains(array_expression, value_expression) -%}
    list_contains({{ array_expression }}, {{ value_expression }})
{%- endmacro %}

{#- Sorted list of the distinct values of a column within a group. -#}
{% macro distinct_sorted_list(column) -%}
    {{ return(adapter.dispatch('distinct_sorted_list', 'voc')(column)) }}
{%- endmacro %}

{% macro default__distinct_sorted_list(column) -%}
    array_sort(collect_set({{ column }}))
{%- endmacro %}

{% macro duckdb__distinct_sorted_list(column) -%}
    list(distinct {{ column }} order by {{ column }})
{%- endmacro %}

{% macro empty_string_list() -%}
    {{ return(adapter.dispatch('empty_string_list', 'voc')()) }}
{%- endmacro %}

{% macro default__empty_string_list() -%}
    array()
{%- endmacro %}

{% macro duckdb__empty_string_list() -%}
    cast([] as varchar[])
{%- endmacro %}
