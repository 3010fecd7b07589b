{#- Edges of the identity graph: records to the unambiguous identifiers they carry. -#}
select distinct
    links.record_key,
    links.record_kind,
    {{ dbt.concat(['links.id_type', "':'", 'links.id_value']) }} as node,
    links.id_type,
    links.id_value,
    links.seen_at
from {{ ref('int_identity__links') }} as links
left join
    {{ ref('int_identity__ambiguous_identifiers') }} as ambiguous
    on links.id_type = ambiguous.id_type
    and links.id_value = ambiguous.id_value
where ambiguous.id_value is null
