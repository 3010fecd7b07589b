{#- A raw table exists only once its loader has seen data for it (a source family with no
    quarantined record has no quarantine table yet). Fall back to an empty relation typed from
    the source's documented columns so the project builds on any landing folder. Callers alias it. -#}
{% macro optional_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%} {{ return(relation) }} {%- endif -%}
    {%- set existing = adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {%- if existing is not none -%} {{ return(relation) }} {%- endif -%}
    {%- set node = graph.sources.values() | selectattr('source_name', 'equalto', source_name) | selectattr('name', 'equalto', table_name) | first -%}
    {%- set typed_columns = node.columns.values() | selectattr('data_type') | list -%}
    {%- if typed_columns | length == 0 -%}
        {{ exceptions.raise_compiler_error("optional_source: " ~ source_name ~ "." ~ table_name ~ " is missing and documents no typed columns") }}
    {%- endif -%}
    {%- set empty_relation -%}
    (select {% for column in typed_columns -%}
        cast(null as {{ voc_type(column.data_type) }}) as {{ adapter.quote(column.name) }}{{ ", " if not loop.last }}
    {%- endfor %} where 1 = 0)
    {%- endset -%}
    {{ return(empty_relation) }}
{%- endmacro %}

{#- A table the pipeline writes outside dbt (e.g. ops.alert_deliveries, written by the delivery
    asset after the dbt build): the relation when it exists, else an empty relation with the given
    {name: type} columns. Not a dbt source, so the asset graph gets no cycle; a model reading it
    sees what earlier runs wrote. Callers alias it. -#}
{% macro optional_relation(schema, identifier, typed_columns) -%}
    {%- set existing = adapter.get_relation(database=target.database, schema=schema, identifier=identifier) if execute else none -%}
    {%- if existing is not none -%} {{ return(existing) }} {%- endif -%}
    {%- set empty_relation -%}
    (select {% for name, data_type in typed_columns.items() -%}
        cast(null as {{ voc_type(data_type) }}) as {{ adapter.quote(name) }}{{ ", " if not loop.last }}
    {%- endfor %} where 1 = 0)
    {%- endset -%}
    {{ return(empty_relation) }}
{%- endmacro %}
