{#- After an incremental build keyed by text_hash: delete the rows of texts that
    `referencing` (a relation with a text_hash column) no longer holds, e.g. a feedback text that
    was changed. Keeps the table what a full refresh would build. -#}
{% macro delete_unreferenced_texts(relation, referencing) -%}
    delete from {{ relation }}
    where text_hash not in (select referencing.text_hash from {{ referencing }} as referencing)
{%- endmacro %}
