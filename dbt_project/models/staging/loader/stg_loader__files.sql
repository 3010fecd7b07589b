{#- One row per landing file loaded (or refused), with the record counts the loader saw. -#}
{% set families = var('voc_loader_families') %}
{% for family in families %}
    select
        '{{ family }}' as source_family,
        file as source_file,
        sha256 as file_sha256,
        size_bytes,
        records_read,
        records_loaded,
        records_quarantined,
        loaded_at,
        refused_reason
    from {{ optional_source(family, family ~ '_files') }} as raw_records
    {% if not loop.last %}
        union all
    {% endif %}
{% endfor %}
