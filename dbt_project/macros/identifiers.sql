{#- Ids and codes: blank means missing. UnionIDs are case-sensitive and compared exactly, so no case folding. -#}
{% macro blank_to_null(column) -%}
    nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '')
{%- endmacro %}

{#- Keyed pseudonym (HMAC-SHA256 under the deployment's secret key, 64 hex digits) of an
    identifier, the only form in which identifiers reach the marts. `kind` is a SQL expression
    naming what the value is (phone, email, member_id, unionid, account, customer). The key lives
    in the voc_pseudonym function that the dbt-duckdb plugin (or the Spark session) registers (nlp_udfs/pseudonyms.py),
    never in SQL text. -#}
{% macro hash_identifier(kind, id_value) -%}
    {{ return(adapter.dispatch('hash_identifier', 'voc')(kind, id_value)) }}
{%- endmacro %}

{#- On Spark the engine registers the same function in the session before dbt runs
    (nlp_udfs/spark_functions.py), with the key from the same variable. -#}
{% macro spark__hash_identifier(kind, id_value) -%} voc_pseudonym({{ kind }}, {{ id_value }}) {%- endmacro %}

{% macro duckdb__hash_identifier(kind, id_value) -%} voc_pseudonym({{ kind }}, {{ id_value }}) {%- endmacro %}

{#- A customer's stable id: 'cust_' and 16 hex digits of the keyed pseudonym of its anchor
    ('member_id:<id>' or the earliest-seen 'type:value' node). -#}
{% macro customer_pseudonym(anchor) -%}
    'cust_' || substr({{ hash_identifier("'customer'", anchor) }}, 1, 16)
{%- endmacro %}
