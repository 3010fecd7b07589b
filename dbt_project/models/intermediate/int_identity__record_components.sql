{#- Connected components of the identity graph by min-label propagation, record -> identifier
    -> record, for a bounded number of rounds (portable SQL, no recursive CTE). The singular test
    assert_identity_components_converged fails the build if the rounds were not enough. -#}
{% set rounds = var('voc_identity_max_rounds') | int %}

with edges as (
    select distinct record_key, node from {{ ref('int_identity__graph_edges') }}
),

record_label_0 as (
    select record_key, min(node) as label from edges group by record_key
),

{% for round in range(rounds) %}
node_label_{{ round }} as (
    select edges.node, min(record_label_{{ round }}.label) as label
    from edges
    inner join record_label_{{ round }} on edges.record_key = record_label_{{ round }}.record_key
    group by edges.node
),

record_label_{{ round + 1 }} as (
    select edges.record_key, min(node_label_{{ round }}.label) as label
    from edges
    inner join node_label_{{ round }} on edges.node = node_label_{{ round }}.node
    group by edges.record_key
),
{% endfor %}

components as (
    select record_key, label as component from record_label_{{ rounds }}
)

select * from components
