{#- The daily tag spikes as the last complete night left them (the night ledger,
    macros/incremental_nights.sql): int_feedback__priority compares them with the new spikes, so
    that the items on a day whose spike appeared or went away get their priority again. Empty on
    a first build, a --full-refresh, or an engine that builds every model whole. -#}
{%- set ledger = voc_night_ledger('spikes') %}

{% if ledger is not none %} select tag, period_start from {{ ledger }}
{% else %}
    select cast(null as {{ dbt.type_string() }}) as tag, cast(null as date) as period_start
    from {{ ref('taxonomy') }}
    where false
{% endif %}
