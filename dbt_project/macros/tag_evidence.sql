{#- The tag_evidence JSON of a feedback item (nlp_udfs.taxonomy.tag_evidence_json: a list of
    {tag, keyword, clause, sentiment, score}, one entry per tag) as one struct per entry, in a
    select list: one output row per entry. -#}
{% macro unnest_tag_evidence(json_column) -%}
    {{ return(adapter.dispatch('unnest_tag_evidence', 'voc')(json_column)) }}
{%- endmacro %}

{% macro spark__unnest_tag_evidence(json_column) -%}
    explode(
        from_json(
            {{ json_column }},
            'array<struct<tag: string, keyword: string, clause: string, sentiment: string, score: double>>'
        )
    )
{%- endmacro %}

{% macro duckdb__unnest_tag_evidence(json_column) -%}
    unnest(
        from_json(
            {{ json_column }},
            '[{"tag": "VARCHAR", "keyword": "VARCHAR", "clause": "VARCHAR", "sentiment": "VARCHAR", "score": "DOUBLE"}]'
        )
    )
{%- endmacro %}
