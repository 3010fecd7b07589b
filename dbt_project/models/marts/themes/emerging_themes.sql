{#- What the taxonomy misses: per ISO week, the terms and two-term phrases used most, and those
    rising fastest against the week before, among negative feedback that carries no tag, each
    with up to three masked examples, so a business user sees what to add to the taxonomy
    next. Terms come from the enrichment's segmentation (stop words removed); a phrase is two
    adjacent terms, so 效果 + 不好 gives 效果不好. -#}
with
    untagged_negative as (
        select
            scored.feedback_id,
            scored.source,
            scored.created_at,
            cast({{ dbt.date_trunc('week', 'scored.created_date') }} as date) as period_start,
            scored.text_masked,
            enriched.terms
        from {{ ref('int_feedback__scored') }} as scored
        inner join
            {{ ref('int_feedback__enriched') }} as enriched on scored.feedback_id = enriched.feedback_id
        where scored.sentiment_label = 'negative' and scored.primary_tag is null
    ),

    week_totals as (
        select period_start, count(*) as n_untagged_negative from untagged_negative group by period_start
    ),

    term_uses as (
        select distinct feedback_id, period_start, 'term' as theme_kind, theme
        from
            (
                select feedback_id, period_start, {{ explode_list('terms') }} as theme from untagged_negative
            ) as t
        where {{ dbt.length('theme') }} >= 2
        union all
        select distinct feedback_id, period_start, 'phrase' as theme_kind, theme
        from
            (
                select feedback_id, period_start, {{ explode_list(adjacent_pairs('terms')) }} as theme
                from untagged_negative
            ) as p
        where {{ dbt.length('theme') }} >= 3
    ),

    counts as (
        select period_start, theme_kind, theme, count(*) as theme_count
        from term_uses
        group by period_start, theme_kind, theme
    ),

    with_previous as (
        select
            current_week.period_start,
            current_week.theme_kind,
            current_week.theme,
            current_week.theme_count,
            coalesce(previous_week.theme_count, 0) as count_prev
        from counts as current_week
        left join
            counts as previous_week
            on previous_week.period_start = {{ dbt.dateadd('week', -1, 'current_week.period_start') }}
            and previous_week.theme_kind = current_week.theme_kind
            and previous_week.theme = current_week.theme
        where current_week.theme_count >= {{ setting_number('theme_min_count', 'analysis_settings') }}
    ),

    ranked as (
        select
            *,
            -- add-one smoothing, so a theme going from 0 to 3 is not an infinite rise
            (theme_count + 1) / (count_prev + 1) as lift,
            row_number() over (
                partition by period_start, theme_kind order by theme_count desc, theme
            ) as top_rank,
            row_number() over (
                partition by period_start, theme_kind
                order by (theme_count + 1) / (count_prev + 1) desc, theme_count desc, theme
            ) as rising_rank
        from with_previous
    ),

    kept as (
        select *
        from ranked
        where
            top_rank <= {{ setting_number('theme_rank_limit', 'analysis_settings') }}
            or (rising_rank <= {{ setting_number('theme_rank_limit', 'analysis_settings') }} and lift > 1)
    ),

    examples as (
        select
            kept.period_start,
            kept.theme_kind,
            kept.theme,
            uses.feedback_id,
            feedback.text_masked,
            row_number() over (
                partition by kept.period_start, kept.theme_kind, kept.theme
                order by feedback.created_at desc, uses.feedback_id
            ) as example_rank
        from kept
        inner join
            term_uses as uses
            on uses.period_start = kept.period_start
            and uses.theme_kind = kept.theme_kind
            and uses.theme = kept.theme
        inner join untagged_negative as feedback on feedback.feedback_id = uses.feedback_id
    ),

    example_lists as (
        select
            period_start,
            theme_kind,
            theme,
            max(case when example_rank = 1 then feedback_id end) as example_feedback_id_1,
            max(case when example_rank = 1 then text_masked end) as example_text_1,
            max(case when example_rank = 2 then feedback_id end) as example_feedback_id_2,
            max(case when example_rank = 2 then text_masked end) as example_text_2,
            max(case when example_rank = 3 then feedback_id end) as example_feedback_id_3,
            max(case when example_rank = 3 then text_masked end) as example_text_3
        from examples
        where example_rank <= 3
        group by period_start, theme_kind, theme
    )

select
    {{ dbt.hash(dbt.concat(["cast(kept.period_start as " ~ dbt.type_string() ~ ")", "'|'", "kept.theme_kind", "'|'", "kept.theme"])) }}
    as theme_key,
    'week' as period_type,
    kept.period_start,
    cast(kept.theme_kind as {{ dbt.type_string() }}) as theme_kind,
    cast(kept.theme as {{ dbt.type_string() }}) as theme,
    cast(kept.theme_count as bigint) as {{ adapter.quote('count') }},
    cast(kept.count_prev as bigint) as count_prev,
    cast(week_totals.n_untagged_negative as bigint) as n_untagged_negative,
    cast(
        round(kept.theme_count / week_totals.n_untagged_negative, 6) as double
    ) as share_of_untagged_negative,
    cast(round(kept.lift, 6) as double) as lift,
    cast(kept.top_rank as bigint) as top_rank,
    cast(kept.rising_rank as bigint) as rising_rank,
    kept.top_rank <= {{ setting_number('theme_rank_limit', 'analysis_settings') }} as is_top,
    kept.rising_rank <= {{ setting_number('theme_rank_limit', 'analysis_settings') }}
    and kept.lift > 1 as is_rising,
    cast(example_lists.example_feedback_id_1 as {{ dbt.type_string() }}) as example_feedback_id_1,
    cast(example_lists.example_text_1 as {{ dbt.type_string() }}) as example_text_1,
    cast(example_lists.example_feedback_id_2 as {{ dbt.type_string() }}) as example_feedback_id_2,
    cast(example_lists.example_text_2 as {{ dbt.type_string() }}) as example_text_2,
    cast(example_lists.example_feedback_id_3 as {{ dbt.type_string() }}) as example_feedback_id_3,
    cast(example_lists.example_text_3 as {{ dbt.type_string() }}) as example_text_3
from kept
inner join week_totals on week_totals.period_start = kept.period_start
inner join
    example_lists
    on example_lists.period_start = kept.period_start
    and example_lists.theme_kind = kept.theme_kind
    and example_lists.theme = kept.theme
