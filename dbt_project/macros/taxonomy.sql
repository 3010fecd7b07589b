{#- The taxonomy seed as one JSON document. An edit of the seed changes the document, so the
    next build re-tags all history (the enrichment model depends on the seed). -#}
{% macro taxonomy_json(taxonomy_relation) -%}
    {{ return(adapter.dispatch('taxonomy_json', 'voc')(taxonomy_relation)) }}
{%- endmacro %}

{#- The same document byte for byte as DuckDB's to_json: compact, keys in this order, rows sorted by
    tag (structs sort by their first field), nulls written as null (Spark drops null fields unless
    told not to). -#}
{% macro spark__taxonomy_json(taxonomy_relation) -%}
    (
        select
            to_json(
                sort_array(
                    collect_list(
                        named_struct(
                            'tag',
                            tag,
                            'l1',
                            l1,
                            'l2',
                            l2,
                            'keywords',
                            keywords,
                            'negative_keywords',
                            negative_keywords,
                            'is_complaint',
                            is_complaint
                        )
                    )
                ),
                map('ignoreNullFields', 'false')
            )
        from {{ taxonomy_relation }}
    )
{%- endmacro %}

{% macro duckdb__taxonomy_json(taxonomy_relation) -%}
    (
        select
            cast(
                to_json(
                    list(
                        {
                            'tag':tag,
                            'l1':l1,
                            'l2':l2,
                            'keywords':keywords,
                            'negative_keywords':negative_keywords,
                            'is_complaint':is_complaint
                        }
                        order by tag
                    )
                ) as varchar
            )
        from {{ taxonomy_relation }}
    )
{%- endmacro %}

{#- The short handle voc_enrich takes instead of the document (the document is registered once per
    build, rows carry 45 bytes instead of 12 KB). The handle names the enrichment version: the
    taxonomy plus the nlp_udfs code, lexicons and model, so a change of any re-enriches history. -#}
{% macro taxonomy_handle(taxonomy_relation) -%}
    {{ return(adapter.dispatch('taxonomy_handle', 'voc')(taxonomy_relation)) }}
{%- endmacro %}

{% macro spark__taxonomy_handle(taxonomy_relation) -%}
    (select voc_taxonomy_handle({{ taxonomy_json(taxonomy_relation) }}))
{%- endmacro %}

{% macro duckdb__taxonomy_handle(taxonomy_relation) -%}
    (select voc_taxonomy_handle({{ taxonomy_json(taxonomy_relation) }}))
{%- endmacro %}

{#- The version of the taxonomy-free text analysis: nlp_udfs code, lexicons, models and segmenter
    (no taxonomy), so a taxonomy edit leaves the analysed texts alone. -#}
{% macro nlp_analysis_version() -%}
    {{ return(adapter.dispatch('nlp_analysis_version', 'voc')()) }}
{%- endmacro %}

{% macro spark__nlp_analysis_version() -%} (select voc_analysis_version('analysis')) {%- endmacro %}

{% macro duckdb__nlp_analysis_version() -%}(select voc_analysis_version('analysis')) {%- endmacro %}

{#- The version of the hot terms under a taxonomy (a handle column or expression): nlp_udfs
    version plus the taxonomy's keyword words, which jieba's user dictionary holds. -#}
{% macro terms_version(taxonomy_handle_expression) -%}
    {{ return(adapter.dispatch('terms_version', 'voc')(taxonomy_handle_expression)) }}
{%- endmacro %}

{% macro spark__terms_version(taxonomy_handle_expression) -%}
    voc_terms_version({{ taxonomy_handle_expression }})
{%- endmacro %}

{% macro duckdb__terms_version(taxonomy_handle_expression) -%}
    voc_terms_version({{ taxonomy_handle_expression }})
{%- endmacro %}
