{#- The identity graph's edges with integer ids for records and identifier nodes, numbered in
    the order of their names: label propagation then compares and joins integers instead of
    long strings, and the smallest node id is still the smallest node name. -#}
with
    edges as (select distinct record_key, node from {{ ref('int_identity__graph_edges') }}),

    node_ids as (
        select node, row_number() over (order by node) as node_id
        from (select distinct node from edges) as nodes
    ),

    record_ids as (
        select record_key, row_number() over (order by record_key) as record_id
        from (select distinct record_key from edges) as records
    )

select edges.record_key, edges.node, record_ids.record_id, node_ids.node_id
from edges
inner join record_ids on edges.record_key = record_ids.record_key
inner join node_ids on edges.node = node_ids.node
