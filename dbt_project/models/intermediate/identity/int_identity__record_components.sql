{#- Connected components of the identity graph by min-label propagation, record -> identifier
    -> record, for a bounded number of rounds (portable SQL, no recursive CTE). Labels are the
    integer node ids of int_identity__graph_edge_ids (numbered in name order), so the component is
    still named by its smallest node. The singular test assert_identity_components_converged fails
    the build if the rounds were not enough. -#}
{% set rounds = var('voc_identity_max_rounds') | int %}

with
    edges as (select record_id, node_id from {{ ref('int_identity__graph_edge_ids') }}),

    record_label_0 as (select record_id, min(node_id) as label from edges group by record_id),

    {% for round in range(rounds) %}
        node_label_{{ round }} as (
            select edges.node_id, min(record_label_{{ round }}.label) as label
            from edges
            inner join record_label_{{ round }} on edges.record_id = record_label_{{ round }}.record_id
            group by edges.node_id
        ),

        record_label_{{ round + 1 }} as (
            select edges.record_id, min(node_label_{{ round }}.label) as label
            from edges
            inner join node_label_{{ round }} on edges.node_id = node_label_{{ round }}.node_id
            group by edges.record_id
        ),
    {% endfor %}

    records as (select distinct record_id, record_key from {{ ref('int_identity__graph_edge_ids') }}),

    nodes as (select distinct node_id, node from {{ ref('int_identity__graph_edge_ids') }})

select records.record_key, nodes.node as component
from record_label_{{ rounds }} as final_labels
inner join records on final_labels.record_id = records.record_id
inner join nodes on final_labels.label = nodes.node_id
