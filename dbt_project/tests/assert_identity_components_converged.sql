{{ config(meta={'dagster': {'ref': {'name': 'int_identity__record_components'}}}) }}
{#- Label propagation ran a bounded number of rounds: every identifier must end with all its
    records in one component, otherwise var('voc_identity_max_rounds') is too small. -#}
select edges.node, count(distinct components.component) as n_components
from {{ ref('int_identity__graph_edges') }} as edges
inner join
    {{ ref('int_identity__record_components') }} as components on edges.record_key = components.record_key
group by edges.node
having count(distinct components.component) > 1
