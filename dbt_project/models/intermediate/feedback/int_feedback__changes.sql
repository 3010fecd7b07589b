{#- The feedback items whose inputs changed since the last complete night, with the day and the
    customer they had then and have now: what an incremental night rebuilds. An item's inputs are
    its source record, the versions its text was analysed, tagged and segmented under, its
    customer (one_id, which moves when identity resolution joins or splits customers or the
    pseudonym key changes) and that member's tier history, and the seeds and reference tables
    every item is scored and prioritised with (a change of one of these changes every item).
    Compared by signature with the night ledger (macros/incremental_nights.sql), which records what
    the incremental models were built from only when a night built all of them: after a failed
    night the changes of that night are listed again. On a first build, a --full-refresh or an
    engine that builds every model whole, every item is listed as new. Deleted items (no source
    holds them any more) are listed with is_deleted. -#}
{%- set ledger = voc_night_ledger('items') %}

with
    {{ feedback_input_signatures() }},

    {% if ledger is not none %}
        previous as (select feedback_id, created_date, one_id, input_signature from {{ ledger }}),
    {% else %}
        previous as (
            select
                cast(null as {{ dbt.type_string() }}) as feedback_id,
                cast(null as date) as created_date,
                cast(null as {{ dbt.type_string() }}) as one_id,
                cast(null as {{ dbt.type_string() }}) as input_signature
            from signatures
            where false
        ),
    {% endif %}

    compared as (
        select
            coalesce(signatures.feedback_id, previous.feedback_id) as feedback_id,
            signatures.feedback_id is null as is_deleted,
            previous.feedback_id is null as is_new,
            signatures.created_date,
            previous.created_date as previous_created_date,
            signatures.one_id,
            previous.one_id as previous_one_id,
            signatures.input_signature
        from signatures
        full outer join previous on signatures.feedback_id = previous.feedback_id
        where
            signatures.feedback_id is null
            or previous.feedback_id is null
            or signatures.input_signature <> previous.input_signature
    )

select *
from compared
