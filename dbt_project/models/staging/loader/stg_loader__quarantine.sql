{#- Records that broke the source contract, from every loader, in one place. -#}
{% set families = var('voc_loader_families') %}
{% for family in families %}
    select
        '{{ family }}' as source_family,
        file as source_file,
        line as source_line,
        record_id,
        reason,
        raw_payload,
        quarantined_at
    from {{ optional_source(family, family ~ '_quarantine') }} as raw_records
    {% if not loop.last %}
        union all
    {% endif %}
{% endfor %}
