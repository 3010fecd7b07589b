{#- Per ISO week: the terms customers use most and the ones rising fastest against the week
    before (count = feedback items using the term; stop words and the brand's own name are
    removed by the segmenter).

    Incremental by week: a night recomputes the weeks that changed feedback items were in or are
    in now (int_feedback__changes) and the week after each (it compares with the week before),
    from the uses of those weeks and the weeks before them. -#}
-- depends_on: {{ ref('int_feedback__changes') }}
{{ config(
    materialized=voc_nights_materialization(),
    unique_key='period_start',
    incremental_strategy=voc_incremental_strategy(),
    on_schema_change='fail',
    pre_hook="{{ voc_delete_keys(this, 'period_start', changed_feedback_weeks([0, 1])) }}"
) }}

with
    {% if is_incremental() %}
        affected_weeks as ({{ changed_feedback_weeks([0, 1]) }}),

        {#- the weeks counted: the affected ones and the week before each -#}
        counted_weeks as (
            select period_start
            from affected_weeks
            union
            select {{ dbt.dateadd('week', -1, 'period_start') }}
            from affected_weeks
        ),
    {% endif %}

    term_uses as (
        select scored.period_start, {{ explode_list('enriched.terms') }} as term
        from {{ ref('int_feedback__enriched') }} as enriched
        inner join
            (
                select feedback_id, cast({{ dbt.date_trunc('week', 'created_date') }} as date) as period_start
                from {{ ref('int_feedback__scored') }}
            ) as scored
            on enriched.feedback_id = scored.feedback_id
        {% if is_incremental() %}
            where scored.period_start in (select counted_weeks.period_start from counted_weeks)
        {% endif %}
    ),

    weeks as (
        select distinct period_start
        from term_uses
        {% if is_incremental() %}
            where period_start in (select affected_weeks.period_start from affected_weeks)
        {% endif %}
    ),

    counts as (select period_start, term, count(*) as term_count from term_uses group by period_start, term),

    with_previous as (
        select
            weeks.period_start,
            terms.term,
            coalesce(current_week.term_count, 0) as term_count,
            coalesce(previous_week.term_count, 0) as count_prev
        from weeks
        cross join (select distinct term from counts) as terms
        left join
            counts as current_week
            on current_week.period_start = weeks.period_start
            and current_week.term = terms.term
        left join
            counts as previous_week
            on previous_week.period_start = {{ dbt.dateadd('week', -1, 'weeks.period_start') }}
            and previous_week.term = terms.term
        where current_week.term_count is not null
    ),

    ranked as (
        select
            *,
            -- add-one smoothing, so a term going from 0 to 1 is not an infinite rise
            (term_count + 1) / (count_prev + 1) as lift,
            row_number() over (partition by period_start order by term_count desc, term) as top_rank,
            row_number() over (
                partition by period_start
                order by
                    case when term_count >= 3 then (term_count + 1) / (count_prev + 1) end desc nulls last,
                    term_count desc,
                    term
            ) as rising_rank
        from with_previous
    )

select
    {{ dbt.hash(dbt.concat(["cast(period_start as " ~ dbt.type_string() ~ ")", "'|'", "term"])) }}
    as term_key,
    'week' as period_type,
    period_start,
    cast(term as {{ dbt.type_string() }}) as term,
    cast(term_count as bigint) as {{ adapter.quote('count') }},
    cast(count_prev as bigint) as count_prev,
    cast(round(lift, 6) as double) as lift,
    cast(top_rank as bigint) as top_rank,
    cast(rising_rank as bigint) as rising_rank,
    top_rank <= 50 as is_top,
    rising_rank <= 50 and term_count >= 3 and lift > 1 as is_rising
from ranked
where top_rank <= 50 or (rising_rank <= 50 and term_count >= 3 and lift > 1)
