{#- One row per resolved customer. one_id is the keyed pseudonym (customer_pseudonym: HMAC under
    VOC_HASH_SALT) of an anchor that new data does not move: the component's member id when it has
    one (the smallest, if a chain joined members), else its earliest-seen identifier. -#}
with
    components as (select * from {{ ref('int_identity__record_components') }}),

    component_nodes as (
        select
            components.component,
            edges.node,
            edges.id_type,
            edges.id_value,
            min(edges.seen_at) as first_seen_at
        from components
        inner join {{ ref('int_identity__graph_edges') }} as edges on components.record_key = edges.record_key
        group by components.component, edges.node, edges.id_type, edges.id_value
    ),

    ranked as (
        select
            component,
            node,
            min(case when id_type = 'member_id' then id_value end) over (partition by component) as member_id,
            count(*) over (partition by component) as n_identifiers,
            row_number() over (partition by component order by first_seen_at, node) as seen_rank
        from component_nodes
    )

select
    component,
    {{ customer_pseudonym("coalesce('member_id:' || member_id, node)") }} as one_id,
    coalesce('member_id:' || member_id, node) as anchor,
    member_id,
    n_identifiers
from ranked
where seen_rank = 1
