"""Before/after statistics of every intervention, per metric and group, computed with scipy.

Rates (share of feedback carrying the tag, negative rate of that feedback) use the Pearson
chi-square test on the 2x2 table without continuity correction, which is the two-proportion
z-test (chi2 = z^2); tag volume per day uses the exact Poisson rate test; sentiment uses the
two-sided Mann-Whitney U test. Effect sizes: Cohen's h for rates, rate ratio for volume,
rank-biserial correlation for sentiment.
"""

import math

import numpy as np
import pandas as pd
from scipy import stats

SIGNIFICANCE_LEVEL = 0.05
METRICS = ("tag_volume_per_day", "tag_per_1000_feedback", "negative_rate", "avg_sentiment")


def _two_proportion(hits_before, n_before, hits_after, n_after):
    if min(n_before, n_after) == 0 or hits_before + hits_after in (0, n_before + n_after):
        return None, None
    table = np.array([[hits_before, n_before - hits_before], [hits_after, n_after - hits_after]])
    _, p_value, _, _ = stats.chi2_contingency(table, correction=False)
    cohens_h = 2 * math.asin(math.sqrt(hits_after / n_after)) - 2 * math.asin(math.sqrt(hits_before / n_before))
    return float(p_value), float(cohens_h)


def _group_metrics(rows: pd.DataFrame, window_days: int) -> dict[str, dict]:
    """Metric values, test and effect size for one group (scope or control)."""
    before, after = rows[rows.period == "before"], rows[rows.period == "after"]
    tagged_before, tagged_after = before[before.has_tag], after[after.has_tag]
    results = {}

    k_before, k_after = len(tagged_before), len(tagged_after)
    p_value = None
    if k_before + k_after > 0:
        p_value = float(stats.poisson_means_test(k_after, window_days, k_before, window_days).pvalue)
    results["tag_volume_per_day"] = dict(
        value_before=k_before / window_days, value_after=k_after / window_days, n_before=k_before, n_after=k_after,
        p_value=p_value, test="poisson_exact", effect_size=(k_after / k_before) if k_before else None,
    )

    p_value, effect = _two_proportion(k_before, len(before), k_after, len(after))
    results["tag_per_1000_feedback"] = dict(
        value_before=1000 * k_before / len(before) if len(before) else None,
        value_after=1000 * k_after / len(after) if len(after) else None,
        n_before=len(before), n_after=len(after), p_value=p_value, test="two_proportion_z", effect_size=effect,
    )

    neg_before, neg_after = int(tagged_before.is_negative.sum()), int(tagged_after.is_negative.sum())
    p_value, effect = _two_proportion(neg_before, k_before, neg_after, k_after)
    results["negative_rate"] = dict(
        value_before=neg_before / k_before if k_before else None,
        value_after=neg_after / k_after if k_after else None,
        n_before=k_before, n_after=k_after, p_value=p_value, test="two_proportion_z", effect_size=effect,
    )

    p_value = effect = None
    if k_before and k_after:
        test = stats.mannwhitneyu(tagged_after.sentiment_score, tagged_before.sentiment_score, alternative="two-sided")
        p_value = float(test.pvalue)
        effect = 2 * float(test.statistic) / (k_before * k_after) - 1  # rank-biserial, > 0 when after is higher
    results["avg_sentiment"] = dict(
        value_before=float(tagged_before.sentiment_score.mean()) if k_before else None,
        value_after=float(tagged_after.sentiment_score.mean()) if k_after else None,
        n_before=k_before, n_after=k_after, p_value=p_value, test="mann_whitney_u", effect_size=effect,
    )
    return results


def model(dbt, session):
    dbt.config(materialized="table")
    interventions = dbt.ref("interventions").df()
    observations = dbt.ref("int_improvement__observations").df()

    rows = []
    for intervention in interventions.itertuples(index=False):
        mine = observations[observations.intervention_id == intervention.intervention_id]
        by_group = {
            group: _group_metrics(mine[mine.group_name == group], int(intervention.window_days))
            for group in ("scope", "control")
            if (mine.group_name == group).any() or group == "scope"
        }
        for metric in METRICS:
            scope = by_group["scope"][metric]
            control = by_group.get("control", {}).get(metric)
            row = {
                "intervention_id": intervention.intervention_id,
                "metric": metric,
                **scope,
                "significant": scope["p_value"] is not None and scope["p_value"] < SIGNIFICANCE_LEVEL,
                "control_value_before": control["value_before"] if control else None,
                "control_value_after": control["value_after"] if control else None,
                "control_p_value": control["p_value"] if control else None,
            }
            rows.append(row)
    columns = ["intervention_id", "metric", "value_before", "value_after", "n_before", "n_after", "p_value",
               "test", "effect_size", "significant", "control_value_before", "control_value_after", "control_p_value"]
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("value_before", "value_after", "p_value", "effect_size", "control_value_before",
                   "control_value_after", "control_p_value"):
        frame[column] = frame[column].astype("float64")
    return frame
