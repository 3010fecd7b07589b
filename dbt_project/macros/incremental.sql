{#- How incremental models build on each engine, in one place.

    DuckDB: `incremental` with `delete+insert` on the unique key, as before.
    Spark without Delta or Iceberg (plain Parquet tables) has no merge and no delete, and a
    statement may not overwrite a table it reads. The project therefore brings its own
    `incremental` materialization for Spark (below; it takes precedence over dbt-spark's, which
    offers only `append` and `insert_overwrite` for Parquet). It computes the model's rows once,
    into `<model>__voc_new`, and then: appends them when no existing row has their key (a night
    with only new texts), or else writes `<model>__voc_next` (the rows whose key is not among the
    new ones, plus the new ones) and swaps it in by renaming (`delete+insert` semantics, as on
    DuckDB). So the same model configs (`incremental`, `delete+insert`) hold on both engines. -#}
{% macro voc_incremental_materialization() -%}
    {{ return(adapter.dispatch('voc_incremental_materialization', 'voc')()) }}
{%- endmacro %}

{% macro default__voc_incremental_materialization() -%} {{ return('incremental') }} {%- endmacro %}

{% macro spark__voc_incremental_materialization() -%} {{ return('incremental') }} {%- endmacro %}

{% macro voc_incremental_strategy() -%}
    {{ return(adapter.dispatch('voc_incremental_strategy', 'voc')()) }}
{%- endmacro %}

{% macro default__voc_incremental_strategy() -%} {{ return('delete+insert') }} {%- endmacro %}

{% macro spark__voc_incremental_strategy() -%} {{ return('delete+insert') }} {%- endmacro %}

{#- A model that DuckDB keeps as a view (cheap to recompute on read); on Spark a table, because
    the readers of other processes (checks, reports) read tables by path and see no session view. -#}
{% macro voc_view_materialization() -%}
    {{ return(adapter.dispatch('voc_view_materialization', 'voc')()) }}
{%- endmacro %}

{% macro default__voc_view_materialization() -%} {{ return('view') }} {%- endmacro %}

{% macro spark__voc_view_materialization() -%} {{ return('table') }} {%- endmacro %}

{#- Spark: incremental models on plain Parquet tables (see the top of this file). Strategies:
    `append` (insert the new rows) and `delete+insert` on `unique_key` (one column or a list). The
    model's SQL is evaluated once, into a table, so the NLP functions run once per new row and
    `current_timestamp` is one value. A build interrupted between the renames leaves no model
    table: the next build then builds it whole, as a first build does. Each build logs what it
    did (`voc_spark_incremental_report`); the dbt wrapper forwards that line to the run's log. -#}
{% materialization incremental, adapter='spark', supported_languages=['sql'] -%}
    {%- set strategy = config.get('incremental_strategy') or 'append' -%}
    {%- set file_format = config.get('file_format', default='parquet') -%}
    {%- set unique_key = config.get('unique_key') -%}
    {%- if strategy not in ['append', 'delete+insert'] or file_format in ['delta', 'iceberg', 'hudi'] -%}
        {%- do exceptions.raise_compiler_error(
            "The project's Spark incremental materialization (macros/incremental.sql) builds plain "
            ~ "Parquet tables with 'append' or 'delete+insert', not '" ~ strategy ~ "' on '" ~ file_format ~ "'"
        ) -%}
    {%- endif -%}
    {%- if strategy == 'delete+insert' and not unique_key -%}
        {%- do exceptions.raise_compiler_error("delete+insert needs a unique_key: " ~ this) -%}
    {%- endif -%}
    {%- set keys = [unique_key] if unique_key is string else (unique_key or []) -%}
    {%- set on_schema_change = incremental_validate_on_schema_change(config.get('on_schema_change'), default='ignore') -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing_relation = load_relation(this) -%}
    {%- set new_relation = voc_spark_sibling(target_relation, '__voc_new') -%}
    {%- set next_relation = voc_spark_sibling(target_relation, '__voc_next') -%}
    {#- what an interrupted build may have left -#}
    {%- do adapter.drop_relation(new_relation) -%}
    {%- do adapter.drop_relation(next_relation) -%}
    {%- do adapter.drop_relation(voc_spark_sibling(target_relation, '__voc_old')) -%}

    {{ run_hooks(pre_hooks) }}

    {%- if existing_relation is none or existing_relation.is_view or should_full_refresh() -%}
        {%- if existing_relation is not none -%}
            {%- do adapter.drop_relation(existing_relation) -%}
        {%- endif -%}
        {%- call statement('main') -%}
            {{ create_table_as(False, target_relation, compiled_code) }}
        {%- endcall -%}
        {%- do voc_spark_incremental_report(target_relation, voc_spark_row_count(target_relation) ~ ' rows computed, table built whole') -%}
    {%- else -%}
        {%- call statement('voc_new_rows') -%} {{ create_table_as(False, new_relation, compiled_code) }}
        {%- endcall -%}
        {%- do process_schema_changes(on_schema_change, new_relation, existing_relation) -%}
        {%- set columns = adapter.get_columns_in_relation(target_relation) | map(attribute='quoted') | join(', ') -%}
        {%- set new_rows = voc_spark_row_count(new_relation) -%}
        {%- set key_match -%}
            {%- for key in keys %}{{ 'and ' if not loop.first }}incoming.{{ key }} = kept.{{ key }} {% endfor -%}
        {%- endset -%}
        {%- set replaced = 0 -%}
        {%- if strategy == 'delete+insert' and new_rows > 0 -%}
            {%- set replaced = voc_spark_row_count(
                target_relation, 'exists (select 1 from ' ~ new_relation ~ ' as incoming where ' ~ key_match ~ ')'
            ) -%}
        {%- endif -%}
        {%- if replaced == 0 -%}
            {%- call statement('main') -%}
                insert into table {{ target_relation }} select {{ columns }} from {{ new_relation }}
            {%- endcall -%}
            {%- do voc_spark_incremental_report(target_relation, new_rows ~ ' rows computed, appended') -%}
        {%- else -%}
            {%- call statement('main') -%}
                create table {{ next_relation }} {{ file_format_clause() }} as
                select {{ columns }}
                from {{ target_relation }} as kept
                where not exists (select 1 from {{ new_relation }} as incoming where {{ key_match }})
                union all
                select {{ columns }}
                from {{ new_relation }}
            {%- endcall -%}
            {%- do voc_spark_swap(target_relation, next_relation) -%}
            {%- do voc_spark_incremental_report(target_relation, new_rows ~ ' rows computed, replacing ' ~ replaced ~ ', table rewritten') -%}
        {%- endif -%}
        {%- do adapter.drop_relation(new_relation) -%}
    {%- endif -%}

    {%- do persist_docs(target_relation, model) -%}

    {{ run_hooks(post_hooks) }}

    {{ return({'relations': [target_relation]}) }}
{%- endmaterialization %}

{#- A helper table of `relation`'s model, beside it in the same schema. -#}
{% macro voc_spark_sibling(relation, suffix) -%}
    {{ return(relation.incorporate(path={'identifier': relation.identifier ~ suffix}, type='table')) }}
{%- endmacro %}

{#- The rows of `relation` (where `condition` holds, when given), as a number (0 while dbt parses). -#}
{% macro voc_spark_row_count(relation, condition=none) -%}
    {%- if not execute -%} {{ return(0) }} {%- endif -%}
    {%- set counted = run_query('select count(*) from ' ~ relation ~ ' as kept' ~ (' where ' ~ condition if condition else '')) -%}
    {{ return(counted.columns[0].values()[0] | int) }}
{%- endmacro %}

{#- Put `next_relation` in the place of `relation`: two renames in the catalog (a managed table's
    folder moves with its name), then the old table is dropped. -#}
{% macro voc_spark_swap(relation, next_relation) -%}
    {%- set old_relation = voc_spark_sibling(relation, '__voc_old') -%}
    {%- do adapter.drop_relation(old_relation) -%}
    {%- do adapter.rename_relation(relation, old_relation) -%}
    {%- do adapter.rename_relation(next_relation, relation) -%}
    {%- do adapter.drop_relation(old_relation) -%}
{%- endmacro %}

{#- Spark: keep only the rows of `relation` for which `keep` (a condition that is true or false,
    subqueries allowed) holds. Nothing is written when every row is kept; otherwise the kept rows
    go to `<relation>__voc_next`, which is swapped in. Returns how many rows were removed. -#}
{% macro voc_spark_keep_only(relation, keep) -%}
    {%- set relation = relation.incorporate(type='table') -%}
    {%- set removed = voc_spark_row_count(relation, 'not (' ~ keep ~ ')') -%}
    {%- if removed > 0 -%}
        {%- set next_relation = voc_spark_sibling(relation, '__voc_next') -%}
        {%- do adapter.drop_relation(next_relation) -%}
        {%- call statement('voc_keep_only') -%}
            create table {{ next_relation }} using parquet as select * from {{ relation }} as kept where {{ keep }}
        {%- endcall -%}
        {%- do voc_spark_swap(relation, next_relation) -%}
    {%- endif -%}
    {{ return(removed) }}
{%- endmacro %}

{#- One line per Spark incremental build: rows computed (the model's new rows: for the text models
    the texts the NLP ran on), rows they replaced, and how the table was written; and one when the
    text models' hook removes texts. The dbt wrapper
    (orchestration/engine/spark_dbt.py) forwards lines with this prefix to the run's log. -#}
{% macro voc_spark_incremental_report(relation, what) -%}
    {%- do log('voc incremental ' ~ relation ~ ': ' ~ what) -%}
{%- endmacro %}
