{#- Ids and codes: blank means missing. UnionIDs are case-sensitive and compared exactly, so no case folding. -#}
{% macro blank_to_null(column) -%}
    nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '')
{%- endmacro %}

{#- Salted hash of an identifier, the only form in which identifiers reach the marts. -#}
{% macro hash_identifier(id_type, id_value) -%}
    {{ return(adapter.dispatch('hash_identifier', 'voc')(id_type, id_value)) }}
{%- endmacro %}

{% macro default__hash_identifier(id_type, id_value) -%}
    sha2({{ dbt.concat(["'" ~ var('voc_hash_salt') ~ "'", "':'", id_type, "':'", id_value]) }}, 256)
{%- endmacro %}

{% macro duckdb__hash_identifier(id_type, id_value) -%}
    sha256({{ dbt.concat(["'" ~ var('voc_hash_salt') ~ "'", "':'", id_type, "':'", id_value]) }})
{%- endmacro %}
