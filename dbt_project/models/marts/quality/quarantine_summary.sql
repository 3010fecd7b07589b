{#- Quarantined landing records per source family and reason, with the family's quarantine rate
    against its threshold (quality_thresholds seed). One masked sample payload per row: the
    quarantine keeps raw lines, and marts may hold no personal data. -#}
{#- A WeChat UnionID (o + 27 url-safe characters) keeps its first and last four characters.
    Applied twice: two ids separated by one character share that boundary character. -#}
{%- set unionid_re = "(^|[^0-9A-Za-z_-])(o[0-9A-Za-z_-]{3})[0-9A-Za-z_-]{20}([0-9A-Za-z_-]{4})([^0-9A-Za-z_-]|$)" -%}
{%- set unionid_mask = "\\1\\2********************\\3\\4" -%}
with
    quarantined as (
        select
            source_family,
            reason,
            count(*) as n_quarantined,
            min(quarantined_at) as first_quarantined_at,
            max(quarantined_at) as last_quarantined_at,
            -- the earliest line in file order stands for the reason
            min_by(
                record_id, source_file || ':' || lpad(cast(source_line as {{ dbt.type_string() }}), 12, '0')
            ) as sample_record_id,
            min_by(
                raw_payload, source_file || ':' || lpad(cast(source_line as {{ dbt.type_string() }}), 12, '0')
            ) as sample_payload
        from {{ ref('stg_loader__quarantine') }}
        group by source_family, reason
    ),

    read_per_family as (
        select
            source_family,
            cast(sum(records_read) as bigint) as n_records_read,
            cast(sum(records_quarantined) as bigint) as n_family_quarantined
        from {{ ref('stg_loader__files') }}
        group by source_family
    ),

    joined as (
        select
            q.source_family,
            q.reason,
            q.n_quarantined,
            coalesce(r.n_records_read, 0) as n_records_read,
            q.n_quarantined / nullif(r.n_records_read, 0) as reason_rate,
            coalesce(r.n_family_quarantined, 0) / nullif(r.n_records_read, 0) as source_quarantine_rate,
            t.max_quarantine_rate,
            q.first_quarantined_at,
            q.last_quarantined_at,
            q.sample_record_id,
            q.sample_payload
        from quarantined as q
        left join read_per_family as r using (source_family)
        left join {{ ref('quality_thresholds') }} as t using (source_family)
    )

select
    cast(source_family as {{ dbt.type_string() }}) as source_family,
    cast(reason as {{ dbt.type_string() }}) as reason,
    cast(n_quarantined as bigint) as n_quarantined,
    cast(n_records_read as bigint) as n_records_read,
    cast(reason_rate as double) as reason_rate,
    cast(source_quarantine_rate as double) as source_quarantine_rate,
    cast(max_quarantine_rate as double) as max_quarantine_rate,
    coalesce(source_quarantine_rate > max_quarantine_rate, false) as is_over_threshold,
    first_quarantined_at,
    last_quarantined_at,
    -- voc_mask_pii turns null into '', but an unreadable record id stays null
    nullif(
        {{ regexp_replace_all(
            regexp_replace_all('voc_mask_pii(sample_record_id)', unionid_re, unionid_mask),
            unionid_re, unionid_mask) }},
        ''
    ) as sample_record_id_masked,
    -- an allow-list: only the values of keys known to be safe stay readable (voc_mask_payload,
    -- nlp_udfs.pii.SAFE_PAYLOAD_KEYS); every other value, known or new, becomes ***
    left(voc_mask_payload(sample_payload), 500) as sample_payload_masked
from joined
