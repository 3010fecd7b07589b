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

{#- Seeds: dbt-spark's session method pastes every value between quotes without escaping, so a
    setting whose text holds an apostrophe ("one product's defect feedback") breaks the insert.
    The values are written here as escaped Spark literals instead. -#}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                (
                    {%- for col_name in agate_table.column_names -%}
                        {%- set data_type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
                        cast({{ voc_spark_literal(row[loop.index0]) }} as {{ data_type }})
                        {%- if not loop.last %}, {% endif -%}
                    {%- endfor -%}
                )
                {%- if not loop.last %}, {% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%} {%- do statements.append(sql) -%} {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{%- endmacro %}

{% macro voc_spark_literal(value) -%}
    {%- if value is none -%} null
    {%- elif value is sameas true -%} true
    {%- elif value is sameas false -%} false
    {%- elif value is number -%} {{ value }}
    {%- elif value.isoformat is defined -%} '{{ value.isoformat() }}'
    {%- else -%} '{{ dbt.escape_single_quotes(value | string | replace("\\", "\\\\")) }}'
    {%- endif -%}
{%- endmacro %}
