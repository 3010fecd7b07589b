{#- A business setting from a key/value seed (alert_settings), as a scalar subquery, so that
    editing the seed changes the result without touching code. -#}
{% macro setting_number(name, seed='alert_settings') -%}
    (select cast(value as double) from {{ ref(seed) }} where setting = '{{ name }}')
{%- endmacro %}

{% macro setting_text(name, seed='alert_settings') -%}
    (select value from {{ ref(seed) }} where setting = '{{ name }}')
{%- endmacro %}
