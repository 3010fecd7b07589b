{#- The newest version of each record: a select over `relation` that keeps one row per
    `partition_by` (a column or a list of columns), the one with the newest `version_column`.
    Ties (the same version exported twice, in one file or several) go to the latest load, then
    the latest file and line. Pass version_column=none to only collapse exact re-exports of a
    version (partition_by then includes the version column). The raw tables are merged on their
    key already; this also covers rows that arrived in one load with equal versions. -#}
{% macro latest_version(relation, partition_by, version_column='_voc_updated_at') -%}
    {%- set keys = [partition_by] if partition_by is string else partition_by -%}
    select *
    from {{ relation }} as versions
    qualify
        row_number() over (
            partition by {{ keys | join(', ') }}
            order by
                {% if version_column %} {{ version_column }} desc, {% endif %} _dlt_load_id desc,
                _voc_file desc,
                _voc_line desc
        )
        = 1
{%- endmacro %}
