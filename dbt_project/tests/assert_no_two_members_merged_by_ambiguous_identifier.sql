{{ config(meta={'dagster': {'ref': {'name': 'int_identity__graph_edges'}}}) }}
{#- Ambiguous identifiers join nothing: no customer may hold an identifier that is ambiguous. -#}
select edges.node
from {{ ref('int_identity__graph_edges') }} as edges
inner join
    {{ ref('int_identity__ambiguous_identifiers') }} as ambiguous
    on edges.id_type = ambiguous.id_type
    and edges.id_value = ambiguous.id_value
