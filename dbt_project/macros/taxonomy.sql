{#- The taxonomy seed as one JSON document, handed to voc_enrich on every row so that an edit
    of the seed re-tags all history on the next build (the model depends on the seed). -#}
{% macro taxonomy_json(taxonomy_relation) -%}
    {{ return(adapter.dispatch('taxonomy_json', 'voc')(taxonomy_relation)) }}
{%- endmacro %}

{% macro default__taxonomy_json(taxonomy_relation) -%}
    {{ exceptions.raise_compiler_error("taxonomy_json has no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro duckdb__taxonomy_json(taxonomy_relation) -%}
    (select cast(to_json(list({
        'tag': tag, 'l1': l1, 'l2': l2, 'keywords': keywords,
        'negative_keywords': negative_keywords, 'is_complaint': is_complaint
     } order by tag)) as varchar)
     from {{ taxonomy_relation }})
{%- endmacro %}
