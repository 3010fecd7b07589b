{#- One row per intervention x metric: before / after the effective date in the intervention's
    window with its scipy test, for a partial scope the out-of-scope stores as control and a
    difference-in-differences regression (statsmodels OLS, HC1 errors), the Benjamini-Hochberg
    adjusted p-value across the intervention's metrics and the verdict, or insufficient_data
    below the minimum sample (all computed in int_improvement__tests). -#}
select
    interventions.intervention_id,
    interventions.name,
    interventions.tag,
    case
        when interventions.scope_type = 'all'
        then 'all'
        else interventions.scope_type || ':' || interventions.scope_value
    end as scope,
    interventions.effective_date,
    cast(interventions.window_days as integer) as window_days,
    cast(tests.metric as {{ dbt.type_string() }}) as metric,
    cast(tests.value_before as double) as value_before,
    cast(tests.value_after as double) as value_after,
    cast(tests.value_after - tests.value_before as double) as delta,
    cast(tests.n_before as bigint) as n_before,
    cast(tests.n_after as bigint) as n_after,
    cast(tests.test as {{ dbt.type_string() }}) as test,
    cast(tests.p_value as double) as p_value,
    cast(tests.min_cell_n as bigint) as min_cell_n,
    cast(tests.p_value_adjusted as double) as p_value_adjusted,
    cast(tests.fdr_level as double) as fdr_level,
    cast(tests.significant as boolean) as significant,
    cast(tests.verdict as {{ dbt.type_string() }}) as verdict,
    cast(tests.effect_size as double) as effect_size,
    cast(tests.control_value_before as double) as control_value_before,
    cast(tests.control_value_after as double) as control_value_after,
    cast(tests.control_value_after - tests.control_value_before as double) as control_delta,
    cast(tests.control_p_value as double) as control_p_value,
    cast(
        (tests.value_after - tests.value_before)
        - (tests.control_value_after - tests.control_value_before) as double
    ) as diff_in_diff,
    cast(tests.did_estimate as double) as did_estimate,
    cast(tests.did_std_error as double) as did_std_error,
    cast(tests.did_p_value as double) as did_p_value,
    cast(tests.did_test as {{ dbt.type_string() }}) as did_test
from {{ ref('int_improvement__tests') }} as tests
inner join
    {{ ref('interventions') }} as interventions on tests.intervention_id = interventions.intervention_id
