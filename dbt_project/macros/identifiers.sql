{#- Mainland mobile numbers arrive as 13800138000, +86 138 0013 8000, 86-13800138000,
    138-0013-8000 or (+86)13800138000: keep digits, drop the country code, and accept only a
    valid 11-digit mobile so that junk never becomes an identifier that joins customers. -#}
{% macro normalize_phone(column) -%}
    {{ return(adapter.dispatch('normalize_phone', 'voc')(column)) }}
{%- endmacro %}

{% macro default__normalize_phone(column) -%}
    {{ exceptions.raise_compiler_error("normalize_phone has no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro duckdb__normalize_phone(column) -%}
    nullif(
        regexp_extract(
            regexp_replace(coalesce(cast({{ column }} as varchar), ''), '[^0-9]', '', 'g'),
            '^(?:0086|86)?(1[3-9][0-9]{9})$',
            1
        ),
        ''
    )
{%- endmacro %}

{#- Emails compare case-insensitively and without surrounding spaces. -#}
{% macro normalize_email(column) -%}
    case when {{ column }} like '%_@_%' then lower(trim({{ column }})) end
{%- endmacro %}

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
