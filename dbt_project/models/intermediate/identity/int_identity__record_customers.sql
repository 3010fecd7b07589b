{#- The customer of every feedback item and member record; records whose identifiers are all
    ambiguous (or that carry none) have no component and so no one_id. -#}
select components.record_key, customers.one_id, customers.member_id
from {{ ref('int_identity__record_components') }} as components
inner join {{ ref('int_identity__customers') }} as customers on components.component = customers.component
