{#- After an incremental build keyed by text_hash: delete the rows of texts that
    `referencing` (a relation with a text_hash column) no longer holds, e.g. a feedback text that
    was changed. Keeps the table what a full refresh would build. -#}
{% macro delete_unreferenced_texts(relation, referencing) -%}
    {{ return(adapter.dispatch('delete_unreferenced_texts', 'voc')(relation, referencing)) }}
{%- endmacro %}

{% macro default__delete_unreferenced_texts(relation, referencing) -%}
    delete from {{ relation }}
    where text_hash not in (select referencing.text_hash from {{ referencing }} as referencing)
{%- endmacro %}

{#- Spark has no delete: the rows that stay are written to a new table that replaces the old one,
    and only when some text is no longer referenced (macros/incremental.sql). The hook's SQL is empty. -#}
{% macro spark__delete_unreferenced_texts(relation, referencing) -%}
    {%- set removed = voc_spark_keep_only(
        relation, 'kept.text_hash in (select referencing.text_hash from ' ~ referencing ~ ' as referencing)'
    ) -%}
    {%- if removed > 0 -%}
        {%- do voc_spark_incremental_report(relation, removed ~ ' rows of texts no feedback item says any more removed, table rewritten') -%}
    {%- endif -%}
{%- endmacro %}

{#- In an incremental build keyed by text_hash: keep only the texts that this model has not yet
    built under the current version (`version_column` of `version_alias`, the same column name in
    the model), so a new or changed text, or a new version, is computed and nothing else. -#}
{#- `version_alias` must not be a column name of the model: inside the subquery Spark reads
    `<name>.<column>` as a field of `done.<name>` first (DuckDB as the relation). -#}
{% macro where_not_built_for_version(text_alias, version_alias, version_column) -%}
    {% if is_incremental() %}
        where
            not exists (
                select 1
                from {{ this }} as done
                where
                    done.text_hash = {{ text_alias }}.text_hash
                    and done.{{ version_column }} = {{ version_alias }}.{{ version_column }}
            )
    {% endif %}
{%- endmacro %}

{#- The rows of the statement a UDF runs in (`relation` is what it selects from), for the
    enrichment's progress messages. Spark 4 fails a task when a scalar subquery is the argument
    of a Python UDF (a NullPointerException in OneRowRelationExec), so Spark counts with a window. -#}
{% macro statement_row_count(relation) -%}
    {{ return(adapter.dispatch('statement_row_count', 'voc')(relation)) }}
{%- endmacro %}

{% macro default__statement_row_count(relation) -%} (select count(*) from {{ relation }}) {%- endmacro %}

{% macro spark__statement_row_count(relation) -%} count(*) over () {%- endmacro %}
