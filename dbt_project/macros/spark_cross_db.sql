{#- dbt-spark's versions of two of dbt's cross-database macros differ from DuckDB's where our
    models rely on it; dbt_project.yml's dispatch config makes dbt find these first. DuckDB keeps
    dbt-duckdb's own. -#}
{#- listagg with its order: dbt-spark drops the order_by_clause (collect_list has no order), so the
    listed reasons, rule ids and cells would come in any order. Here the values are collected
    with their sort keys, sorted (nulls last, as DuckDB sorts) and joined. The clause is
    'order by <expression> [asc|desc], ...' with no comma inside an expression. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause=none, limit_num=none) -%}
    {%- set keys = [] -%}
    {%- if order_by_clause -%}
        {%- set clause = order_by_clause | trim -%}
        {%- if clause[:8] | lower != 'order by' -%}
            {{ exceptions.raise_compiler_error("listagg: order_by_clause must start with 'order by': " ~ order_by_clause) }}
        {%- endif -%}
        {%- for part in clause[8:].split(',') -%}
            {%- set words = part.strip().split(' ') -%}
            {%- set descending = words[-1] | lower == 'desc' -%}
            {%- set expression = (words[:-1] if words[-1] | lower in ['asc', 'desc'] else words) | join(' ') -%}
            {%- do keys.append({'expression': expression, 'descending': descending}) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set collected -%}
        array_sort(
            collect_list(
                named_struct(
                    {%- for key in keys %} 'k{{ loop.index }}', {{ key.expression }}, {%- endfor %} 'v', {{ measure }}
                )
            ),
            (l, r) -> case
                {%- for key in keys %}
                    {%- set first, second = ('r', 'l') if key.descending else ('l', 'r') %}
                    when l.k{{ loop.index }} is null and r.k{{ loop.index }} is not null then 1
                    when l.k{{ loop.index }} is not null and r.k{{ loop.index }} is null then -1
                    when {{ first }}.k{{ loop.index }} < {{ second }}.k{{ loop.index }} then -1
                    when {{ first }}.k{{ loop.index }} > {{ second }}.k{{ loop.index }} then 1
                {%- endfor %}
                else 0
            end
        )
    {%- endset -%}
    {%- set values = 'transform(' ~ collected ~ ', item -> item.v)' -%}
    {%- if limit_num -%} {%- set values = 'slice(' ~ values ~ ', 1, ' ~ limit_num ~ ')' -%} {%- endif -%}
    array_join({{ values }}, {{ delimiter_text }})
{%- endmacro %}

{#- dateadd keeping the time of day to the microsecond and giving a timestamp, as DuckDB's
    date + interval does: dbt-spark's goes through whole Unix seconds. -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, cast({{ interval }} as int), {{ from_date_or_timestamp }})
{%- endmacro %}
