{#- Hashed strong identifiers of each customer, for joins from other systems without exposing raw data. -#}
select
    customers.one_id,
    edges.id_type,
    {{ hash_identifier('edges.id_type', 'edges.id_value') }} as id_hash,
    min(edges.seen_at) as first_seen_at
from {{ ref('int_identity__graph_edges') }} as edges
inner join {{ ref('int_identity__record_customers') }} as customers on edges.record_key = customers.record_key
group by customers.one_id, edges.id_type, {{ hash_identifier('edges.id_type', 'edges.id_value') }}
