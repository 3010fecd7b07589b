{#- An identifier tied to two or more members (a household phone, a shared email, a phone that
    moved from one member to another) is ambiguous: it joins nothing. -#}
select id_type, id_value, count(distinct record_member_id) as n_members
from {{ ref('int_identity__links') }}
where record_member_id is not null and id_type <> 'member_id'
group by id_type, id_value
having count(distinct record_member_id) >= 2
