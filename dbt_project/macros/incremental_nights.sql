{#- Incremental nights (docs/architecture.md, "What is incremental"). A model whose size grows with
    history rebuilds only the feedback items, days or weeks that changed since the last night that
    completed: int_feedback__changes compares a signature of every item's inputs with the night
    ledger, and each incremental model replaces the rows of the items, days or weeks it lists.

    The night ledger (two tables beside int_feedback__changes, written by voc_record_night in
    on-run-end) holds what the incremental models were last built from: every item's signature,
    day and customer, and the daily tag spikes. It is written only when int_feedback__changes and
    every model that reads it were built in the same invocation, so after a failed or partial
    night the next night still rebuilds everything that changed since the last complete one.

    Spark builds these models whole, as tables, on purpose: their nights delete rows by key in
    hooks (pre- and post-hooks, the ledger's delete and insert), which plain Parquet tables cannot
    do, and a night of theirs reads its own table. So voc_nights_materialization() is `table` on
    Spark (not voc_incremental_materialization(), which is `incremental` on both engines since the
    project's own Spark materialization, macros/incremental.sql, serves the text models and
    alerts); there every hook below renders no-op SQL and there is no ledger. -#}
{#- The materialization of the models that rebuild by night (this file): `incremental` on DuckDB,
    `table` on Spark. Their strategy is voc_incremental_strategy() (delete+insert). -#}
{% macro voc_nights_materialization() -%}
    {{ return(adapter.dispatch('voc_nights_materialization', 'voc')()) }}
{%- endmacro %}

{% macro default__voc_nights_materialization() -%} {{ return('incremental') }} {%- endmacro %}

{% macro spark__voc_nights_materialization() -%} {{ return('table') }} {%- endmacro %}

{#- Whether this engine builds the models of this file by night (keeps a night ledger). -#}
{% macro voc_builds_incrementally() -%}
    {{ return(voc_nights_materialization() == 'incremental') }}
{%- endmacro %}

{% macro voc_night_ledger_relation(kind, beside) -%}
    {{ return(api.Relation.create(database=beside.database, schema=beside.schema, identifier='voc_night_ledger__' ~ kind)) }}
{%- endmacro %}

{#- The ledger table `kind` as the last complete night left it: none on a first build, a
    --full-refresh, or on an engine that builds every model whole (every key counts as changed). -#}
{% macro voc_night_ledger(kind) -%}
    {%- if not execute or flags.FULL_REFRESH or not voc_builds_incrementally() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set wanted = voc_night_ledger_relation(kind, this) -%}
    {{ return(adapter.get_relation(database=wanted.database, schema=wanted.schema, identifier=wanted.identifier)) }}
{%- endmacro %}

{#- on-run-end: record in the night ledger what the incremental models were built from, when
    int_feedback__changes and every model that reads it (depends_on) were built successfully in
    this invocation. A partial or failed night records nothing, so the next night rebuilds its
    changes again. A --full-refresh replaces the ledger. -#}
{% macro voc_record_night(results) -%}
    {%- if not execute or not voc_builds_incrementally() -%} {{ return('') }} {%- endif -%}
    {%- set changes_node = graph.nodes.values() | selectattr('name', 'equalto', 'int_feedback__changes') | first -%}
    {%- set readers = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and changes_node.unique_id in node.depends_on.nodes -%}
            {%- do readers.append(node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set succeeded = [] -%}
    {%- for result in results -%}
        {%- if result.status == 'success' -%} {%- do succeeded.append(result.node.unique_id) -%} {%- endif -%}
    {%- endfor -%}
    {%- if changes_node.unique_id not in succeeded or readers | reject('in', succeeded) | list -%}
        {{ return('') }}
    {%- endif -%}
    {%- set changes = api.Relation.create(database=changes_node.database, schema=changes_node.schema, identifier=changes_node.alias) -%}
    {%- set trends_node = graph.nodes.values() | selectattr('name', 'equalto', 'int_feedback__tag_trends') | first -%}
    {%- set trends = api.Relation.create(database=trends_node.database, schema=trends_node.schema, identifier=trends_node.alias) -%}
    {%- set items = voc_night_ledger_relation('items', changes) -%}
    {%- set spikes = voc_night_ledger_relation('spikes', changes) -%}
    create table if not exists {{ items }} as
    select feedback_id, created_date, one_id, input_signature from {{ changes }} where false;
    {% if flags.FULL_REFRESH %}
        delete from {{ items }}
        ;
    {% endif %}
    delete from {{ items }}
    where feedback_id in (select feedback_id from {{ changes }})
    ;
    insert into {{ items }}
    select feedback_id, created_date, one_id, input_signature from {{ changes }} where not is_deleted;
    create or replace table {{ spikes }} as
    select tag, period_start from {{ trends }} where period_type = 'day' and is_spike;
{%- endmacro %}

{#- A hash of several expressions: two rows have the same signature when every expression is
    equal (NULLs equal, NULL not equal to any text). -#}
{% macro voc_signature(expressions) -%}
    {{ return(adapter.dispatch('voc_signature', 'voc')(expressions)) }}
{%- endmacro %}

{% macro default__voc_signature(expressions) -%}
    {{ dbt.hash(voc_signature_parts(expressions)) }}
{%- endmacro %}

{#- DuckDB hashes the values themselves, column by column (64 bits), without building a text. -#}
{% macro duckdb__voc_signature(expressions) -%}
    cast(hash({{ expressions | join(', ') }}) as {{ dbt.type_string() }})
{%- endmacro %}

{#- One hash of a whole (small) relation: every row, in a fixed order. A seed edit or a change of
    a reference table changes it, so a model keyed on it rebuilds all its keys. -#}
{% macro voc_relation_signature(relation) -%}
    {{ return(adapter.dispatch('voc_relation_signature', 'voc')(relation)) }}
{%- endmacro %}

{% macro default__voc_relation_signature(relation) -%}
    (
        select coalesce({{ dbt.hash("concat_ws('|', sort_array(collect_list(to_json(struct(t.*)))))") }}, '')
        from {{ relation }} as t
    )
{%- endmacro %}

{% macro duckdb__voc_relation_signature(relation) -%}
    (
        select coalesce({{ dbt.hash("string_agg(cast(t as varchar), '|' order by cast(t as varchar))") }}, '')
        from {{ relation }} as t
    )
{%- endmacro %}

{#- In an incremental build: the condition that keeps the rows of the feedback items whose inputs
    changed (int_feedback__changes); nothing in a full build. -#}
{% macro where_feedback_changed(column='feedback_id', keyword='where') -%}
    {% if is_incremental() %}
        {{ keyword }}
        {{ column }} in (
            select changes.feedback_id
            from {{ ref('int_feedback__changes') }} as changes
            where not changes.is_deleted
        )
    {% endif %}
{%- endmacro %}

{#- CTE `signatures` (and the CTEs it needs): every feedback item with its local day, customer
    and the signature of everything int_feedback__scored computes it from. -#}
{% macro feedback_input_signatures() -%}
    member_histories as (
        select
            member_id,
            {{ dbt.hash(dbt.listagg(voc_signature_parts(['version_at', 'tier']), "';'", 'order by version_at, tier')) }}
            as member_history
        from {{ ref('stg_members__member_versions') }}
        group by member_id
    ),

    shared_inputs as (
        select
            {{ dbt.hash(dbt.concat([
                voc_relation_signature(ref('taxonomy')), "'|'",
                voc_relation_signature(ref('member_tiers')), "'|'",
                voc_relation_signature(ref('stg_reference__stores')), "'|'",
                voc_relation_signature(ref('stg_reference__products')), "'|'",
                voc_relation_signature(ref('priority_rules'))])) }} as shared_signature,
            {#- every text is analysed, tagged and segmented under the current versions once the
            text models are built: a new version (taxonomy edit, nlp_udfs upgrade) changes them -#}
            (
                select {{ dbt.concat(['min(enrichment_version)', "'|'", 'max(enrichment_version)']) }}
                from {{ ref('int_feedback__text_tags') }}
            )
            || '|'
            || (
                select {{ dbt.concat(['min(terms_version)', "'|'", 'max(terms_version)']) }}
                from {{ ref('int_feedback__text_terms') }}
            )
            || '|'
            || (
                select {{ dbt.concat(['min(analysis_version)', "'|'", 'max(analysis_version)']) }}
                from {{ ref('int_feedback__text_analysis') }}
            ) as enrichment_versions
    ),

    signatures as (
        select
            feedback.feedback_id,
            {{ local_date('feedback.created_at') }} as created_date,
            customers.one_id,
            {{ voc_signature([
                'shared_inputs.shared_signature', 'feedback.source', 'feedback.source_record_id',
                'feedback.channel', 'feedback.created_at', 'feedback.updated_at', 'feedback.customer_text',
                'feedback.store_id', 'feedback.product_sku', 'feedback.order_id', 'feedback.rating_nps',
                'feedback.rating_csat', 'feedback.rating_ces', 'feedback.rating_stars',
                'feedback.ticket_priority', 'feedback.member_id', 'feedback.phone', 'feedback.email',
                'feedback.unionid', 'feedback.account_platform', 'feedback.account_id',
                'shared_inputs.enrichment_versions', 'customers.one_id', 'customers.member_id',
                'member_histories.member_history']) }} as input_signature
        from {{ ref('int_feedback__unioned') }} as feedback
        cross join shared_inputs
        left join
            {{ ref('int_identity__record_customers') }} as customers
            on customers.record_key = feedback.feedback_id
        left join member_histories on member_histories.member_id = customers.member_id
    )
{%- endmacro %}

{#- The parts voc_signature hashes, joined, without the hash (for an aggregate of several rows):
    each value as its length, ':' and the value, NULL as '~', so no two lists of values give
    the same text. -#}
{% macro voc_signature_parts(expressions) -%}
    {%- set parts = [] -%}
    {%- for expression in expressions -%}
        {%- set value = "cast(" ~ expression ~ " as " ~ dbt.type_string() ~ ")" -%}
        {%- do parts.append("coalesce(cast(" ~ dbt.length(value) ~ " as " ~ dbt.type_string() ~ ") || ':' || " ~ value ~ ", '~')") -%}
    {%- endfor -%}
    {{ parts | join(" || '|' || ") }}
{%- endmacro %}

{#- After an incremental build keyed by feedback item: delete the items that `referencing` (a
    relation with a feedback_id column) no longer holds. Keeps the table what a full refresh
    would build. -#}
{% macro delete_unreferenced_feedback(relation, referencing) -%}
    {% if is_incremental() %}
        delete from {{ relation }}
        where feedback_id not in (select referencing.feedback_id from {{ referencing }} as referencing)
    {% else %} select 1
    {% endif %}
{%- endmacro %}

{#- The items whose priority an incremental night evaluates again (int_feedback__priority, a select
    of feedback_id): items whose inputs changed, every item of their customers (now and before),
    the items on a day whose spike appeared or went away (int_feedback__previous_spikes against
    the new int_feedback__tag_trends). A priority_rules edit changes every item's signature. -#}
{% macro priority_affected_items() -%}
    select changes.feedback_id
    from {{ ref('int_feedback__changes') }} as changes
    where not changes.is_deleted
    union
    select mentions.feedback_id
    from {{ ref('int_feedback__tag_mentions') }} as mentions
    where
        mentions.one_id in (
            select changes.one_id
            from {{ ref('int_feedback__changes') }} as changes
            where changes.one_id is not null
            union
            select changes.previous_one_id
            from {{ ref('int_feedback__changes') }} as changes
            where changes.previous_one_id is not null
        )
    union
    select mentions.feedback_id
    from {{ ref('int_feedback__tag_mentions') }} as mentions
    inner join
        (
            (
                select tag, period_start
                from {{ ref('int_feedback__tag_trends') }}
                where period_type = 'day' and is_spike
                except
                select tag, period_start
                from {{ ref('int_feedback__previous_spikes') }}
            )
            union
            (
                select tag, period_start
                from {{ ref('int_feedback__previous_spikes') }}
                except
                select tag, period_start
                from {{ ref('int_feedback__tag_trends') }}
                where period_type = 'day' and is_spike
            )
        ) as flipped
        on mentions.tag = flipped.tag
        and mentions.created_date = flipped.period_start
{%- endmacro %}

{#- Pre-hook of int_feedback__priority: delete the rows of the items evaluated again. -#}
{% macro delete_priority_affected_items(priority_relation) -%}
    {% if is_incremental() %}
        delete from {{ priority_relation }} where feedback_id in ({{ priority_affected_items() }})
    {% else %} select 1
    {% endif %}
{%- endmacro %}

{#- The local days that changed feedback items were on or are on now (a select of changed_day). -#}
{% macro changed_feedback_days() -%}
    select created_date as changed_day
    from {{ ref('int_feedback__changes') }}
    where created_date is not null
    union
    select previous_created_date
    from {{ ref('int_feedback__changes') }}
    where previous_created_date is not null
{%- endmacro %}

{#- The ISO weeks (Monday, as period_start) that changed feedback items were in or are in now,
    each also moved by every number of weeks in `offsets`. -#}
{% macro changed_feedback_weeks(offsets=[0]) -%}
    {%- set week = "cast(" ~ dbt.date_trunc('week', 'changed_day') ~ " as date)" -%}
    {% for offset in offsets %}
        select {{ week if offset == 0 else dbt.dateadd('week', offset, week) }} as period_start
        from ({{ changed_feedback_days() }}) as changed_days
        {% if not loop.last %}
            union
        {% endif %}
    {% endfor %}
{%- endmacro %}

{#- Pre-hook of a model that delete+inserts by `column`: delete the rows whose `column` is in
    `keys` (a select) first, so a key whose rows are all gone (an item that lost its last tag,
    a week left without terms) is not kept from an earlier build. Nothing on a full build. -#}
{% macro voc_delete_keys(relation, column, keys) -%}
    {% if is_incremental() %} delete from {{ relation }} where {{ column }} in ({{ keys }})
    {% else %} select 1
    {% endif %}
{%- endmacro %}

{#- The feedback items whose inputs changed, deleted ones included (a select of feedback_id). -#}
{% macro changed_feedback_ids() -%}
    select changes.feedback_id from {{ ref('int_feedback__changes') }} as changes
{%- endmacro %}

{#- The items whose rows fct_feedback_tag rebuilds (a select of feedback_id): those whose inputs
    changed and those whose priority in fct_feedback is no longer the one these rows carry. -#}
{% macro fct_feedback_tag_affected_items(tag_relation) -%}
    {{ changed_feedback_ids() }}
    union
    select distinct current_rows.feedback_id
    from {{ tag_relation }} as current_rows
    inner join {{ ref('fct_feedback') }} as facts on current_rows.feedback_id = facts.feedback_id
    where current_rows.priority <> facts.priority
{%- endmacro %}

{#- kpi_daily: tickets solved per local day of solving x channel x store x product category, with
    the feedback measures at zero (a select). -#}
{% macro kpi_daily_tickets_solved() -%}
    select
        {{ local_date('tickets.solved_at') }} as kpi_date,
        'ticket' as source,
        tickets.channel,
        tickets.store_id,
        products.product_category,
        0 as n_feedback,
        0 as n_negative,
        0 as sentiment_sum,
        0 as n_complaints,
        0 as n_nps_responses,
        0 as n_promoters,
        0 as n_passives,
        0 as n_detractors,
        0 as n_csat_responses,
        0 as n_csat_top2,
        0 as n_ces_responses,
        0 as ces_sum,
        0 as n_star_ratings,
        0 as stars_sum,
        0 as n_tickets_opened,
        count(*) as n_tickets_solved
    from {{ ref('stg_tickets__tickets') }} as tickets
    left join {{ ref('stg_reference__products') }} as products on tickets.product_sku = products.product_sku
    where tickets.solved_at is not null and tickets.status in ('solved', 'closed')
    group by
        {{ local_date('tickets.solved_at') }}, tickets.channel, tickets.store_id, products.product_category

{%- endmacro %}

{#- The days kpi_daily rebuilds (a select of kpi_date): the days changed feedback items were on
    or are on now, and the days whose solved tickets differ from the ones the table holds. -#}
{% macro kpi_daily_affected_days(kpi_relation) -%}
    select changed_day as kpi_date
    from ({{ changed_feedback_days() }}) as changed_days
    union
    select coalesce(solved_now.kpi_date, solved_before.kpi_date)
    from
        (
            select
                {{ dbt.hash(dbt.concat(["cast(kpi_date as " ~ dbt.type_string() ~ ")", "'|'", "source", "'|'", "coalesce(channel, '')", "'|'", "coalesce(store_id, '')", "'|'", "coalesce(product_category, '')"])) }}
                as kpi_key,
                kpi_date,
                n_tickets_solved
            from ({{ kpi_daily_tickets_solved() }}) as solved
        ) as solved_now
    full outer join
        (
            select kpi_key, kpi_date, n_tickets_solved from {{ kpi_relation }} where n_tickets_solved > 0
        ) as solved_before
        on solved_now.kpi_key = solved_before.kpi_key
    where
        solved_now.kpi_key is null
        or solved_before.kpi_key is null
        or solved_now.n_tickets_solved <> solved_before.n_tickets_solved
{%- endmacro %}
