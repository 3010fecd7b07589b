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

{% macro default__distinct_sorted_list(column) -%} array_sort(collect_set({{ column }})) {%- endmacro %}

{% macro duckdb__distinct_sorted_list(column) -%}
    list(distinct {{ column }} order by {{ column }}) filter (where {{ column }} is not null)
{%- endmacro %}

{% macro empty_string_list() -%} {{ return(adapter.dispatch('empty_string_list', 'voc')()) }} {%- endmacro %}

{% macro default__empty_string_list() -%} array() {%- endmacro %}

{% macro spark__empty_string_list() -%} cast(array() as array<string>) {%- endmacro %}

{% macro duckdb__empty_string_list() -%} cast([] as varchar[]) {%- endmacro %}

{#- One output row per element of a list column, in a select list. -#}
{% macro explode_list(column) -%}
    {{ return(adapter.dispatch('explode_list', 'voc')(column)) }}
{%- endmacro %}

{% macro default__explode_list(column) -%} explode({{ column }}) {%- endmacro %}

{% macro duckdb__explode_list(column) -%} unnest({{ column }}) {%- endmacro %}

{% macro regex_contains(text, pattern) -%}
    {{ return(adapter.dispatch('regex_contains', 'voc')(text, pattern)) }}
{%- endmacro %}

{% macro default__regex_contains(text, pattern) -%} ({{ text }} rlike {{ pattern }}) {%- endmacro %}

{#- Our patterns come from seeds, and DuckDB compiles a non-literal pattern once per row (16 s of
    the priority engine at 1M rows); voc_regex_contains (nlp_udfs) compiles each distinct one once. -#}
{% macro duckdb__regex_contains(text, pattern) -%}
    voc_regex_contains({{ text }}, {{ pattern }})
{%- endmacro %}

{% macro split_to_list(text, delimiter) -%}
    {{ return(adapter.dispatch('split_to_list', 'voc')(text, delimiter)) }}
{%- endmacro %}

{% macro default__split_to_list(text, delimiter) -%} split({{ text }}, {{ delimiter }}) {%- endmacro %}

{% macro duckdb__split_to_list(text, delimiter) -%} string_split({{ text }}, {{ delimiter }}) {%- endmacro %}

{#- The distinct values of two lists, sorted (nulls dropped). -#}
{% macro sorted_list_union(left_list, right_list) -%}
    {{ return(adapter.dispatch('sorted_list_union', 'voc')(left_list, right_list)) }}
{%- endmacro %}

{% macro default__sorted_list_union(left_list, right_list) -%}
    array_sort(array_union({{ left_list }}, {{ right_list }}))
{%- endmacro %}

{% macro duckdb__sorted_list_union(left_list, right_list) -%}
    list_sort(list_distinct(list_concat({{ left_list }}, {{ right_list }})))
{%- endmacro %}

{#- Each element of a list joined to the next one, in order: [a, b, c] -> [ab, bc]; empty when
    the list has fewer than two elements. -#}
{% macro adjacent_pairs(list_column) -%}
    {{ return(adapter.dispatch('adjacent_pairs', 'voc')(list_column)) }}
{%- endmacro %}

{% macro default__adjacent_pairs(list_column) -%}
    zip_with(
        slice({{ list_column }}, 1, greatest(size({{ list_column }}) - 1, 0)),
        slice({{ list_column }}, 2, greatest(size({{ list_column }}) - 1, 0)),
        (head, tail) -> concat(head, tail)
    )
{%- endmacro %}

{% macro duckdb__adjacent_pairs(list_column) -%}
    list_transform(
        range(1, greatest(len({{ list_column }}), 1)),
        lambda position:{{ list_column }} [position] || {{ list_column }} [position + 1]
    )
{%- endmacro %}

{#- Every match of a regular expression replaced; the replacement refers to groups as \\1 (the
    DuckDB / RE2 way), which Spark (Java) writes $1. -#}
{% macro regexp_replace_all(text, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'voc')(text, pattern, replacement)) }}
{%- endmacro %}

{% macro duckdb__regexp_replace_all(text, pattern, replacement) -%}
    regexp_replace({{ text }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro spark__regexp_replace_all(text, pattern, replacement) -%}
    regexp_replace({{ text }}, '{{ pattern }}', '{{ modules.re.sub("\\\\([0-9])", "$\\1", replacement) }}')
{%- endmacro %}
