{#- How incremental models build on each engine, in one place.

    DuckDB: `incremental` with `delete+insert` on the unique key, as before.
    Spark without Delta or Iceberg (plain Parquet tables): no merge, no delete, and a statement
    may not overwrite a table it reads, so a model that keeps old rows and replaces some of them
    (the text models: a new enrichment version replaces the rows of the same text) cannot be
    incremental there; it is built whole as a `table`, which is what a full refresh builds on
    DuckDB. A model whose new rows only ever add keys can use `append`. -#}
{% macro voc_incremental_materialization() -%}
    {{ return(adapter.dispatch('voc_incremental_materialization', 'voc')()) }}
{%- endmacro %}

{% macro default__voc_incremental_materialization() -%} {{ return('incremental') }} {%- endmacro %}

{% macro spark__voc_incremental_materialization() -%} {{ return('table') }} {%- endmacro %}

{% macro voc_incremental_strategy() -%}
    {{ return(adapter.dispatch('voc_incremental_strategy', 'voc')()) }}
{%- endmacro %}

{% macro default__voc_incremental_strategy() -%} {{ return('delete+insert') }} {%- endmacro %}

{% macro spark__voc_incremental_strategy() -%} {{ return('append') }} {%- endmacro %}

{#- A model that DuckDB keeps as a view (cheap to recompute on read); on Spark a table, because
    the readers of other processes (checks, reports) read tables by path and see no session view. -#}
{% macro voc_view_materialization() -%}
    {{ return(adapter.dispatch('voc_view_materialization', 'voc')()) }}
{%- endmacro %}

{% macro default__voc_view_materialization() -%} {{ return('view') }} {%- endmacro %}

{% macro spark__voc_view_materialization() -%} {{ return('table') }} {%- endmacro %}
