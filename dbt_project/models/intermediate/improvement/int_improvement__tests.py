"""Before/after statistics of every intervention, per metric and group, and the verdict.

Before / after in scope (scipy): rates (share of feedback carrying the tag, negative rate of that
feedback) use the Pearson chi-square test on the 2x2 table without continuity correction, which
is the two-proportion z-test (chi2 = z^2); tag volume per day uses the exact Poisson rate test;
sentiment uses the two-sided Mann-Whitney U test. Effect sizes: Cohen's h for rates, rate ratio
for volume, rank-biserial correlation for sentiment.

Difference-in-differences (statsmodels), where a partial scope leaves out-of-scope stores as the
control: OLS of the per-unit outcome on treated, post and treated x post with heteroskedasticity-
robust (HC1) standard errors; the coefficient of treated x post is the DiD, with its standard
error and two-sided p-value. Units: one row per day and group for tag volume per day, one row
per feedback item (1000 x has_tag) for tag per 1,000 feedback, one row per tagged item for the
negative rate (0/1, a linear probability model) and sentiment.

Verdict: a metric whose smallest group x period sample is below improvement_min_n says
insufficient_data. The others are tested on their DiD p-value (or the before/after p-value when
the scope is all and there is no control), adjusted with Benjamini-Hochberg across the metrics
of one intervention at improvement_fdr_level (analysis_settings seed); significant means the
adjusted p-value is below that level, and the verdict is improved or worsened by the sign of the
estimate (volume, share and negative rate should fall, sentiment should rise), else no_change.
"""

import math

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests

METRICS = ("tag_volume_per_day", "tag_per_1000_feedback", "negative_rate", "avg_sentiment")
# +1 when a higher value is better, -1 when lower is better
GOOD_DIRECTION = {"tag_volume_per_day": -1, "tag_per_1000_feedback": -1, "negative_rate": -1, "avg_sentiment": 1}
DID_TEST = "ols_did_hc1"


def did_regression(outcome, treated, post):
    """(estimate, standard error, p-value) of treated x post in OLS y ~ treated + post + treated:post
    with HC1 robust errors; (None, None, None) when a group x period cell is empty or the fit is
    degenerate."""
    y = np.asarray(outcome, dtype="float64")
    t = np.asarray(treated, dtype="float64")
    p = np.asarray(post, dtype="float64")
    cells = {(a, b) for a, b in zip(t, p)}
    if len(cells) < 4 or len(y) <= 4:
        return None, None, None
    design = np.column_stack([np.ones_like(y), t, p, t * p])
    fit = sm.OLS(y, design).fit(cov_type="HC1")
    estimate, error, p_value = float(fit.params[3]), float(fit.bse[3]), float(fit.pvalues[3])
    if not all(math.isfinite(v) for v in (estimate, error)) or error == 0:
        return estimate, (error if math.isfinite(error) else None), None
    return estimate, error, p_value


def bh_adjust(p_values):
    """Benjamini-Hochberg adjusted p-values; None stays None (not part of the family)."""
    present = [i for i, value in enumerate(p_values) if value is not None and not math.isnan(value)]
    adjusted = [None] * len(p_values)
    if present:
        _, corrected, _, _ = multipletests([p_values[i] for i in present], method="fdr_bh")
        for i, value in zip(present, corrected):
            adjusted[i] = float(value)
    return adjusted


def verdict(metric, estimate, p_adjusted, min_n, min_cell_n, fdr_level):
    """insufficient_data, improved, worsened or no_change."""
    if min_cell_n is None or min_cell_n < min_n or estimate is None or p_adjusted is None:
        return "insufficient_data"
    if p_adjusted >= fdr_level:
        return "no_change"
    return "improved" if estimate * GOOD_DIRECTION[metric] > 0 else "worsened"


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
        min_cell_n=min(len(before), len(after)),
    )

    p_value, effect = _two_proportion(k_before, len(before), k_after, len(after))
    results["tag_per_1000_feedback"] = dict(
        value_before=1000 * k_before / len(before) if len(before) else None,
        value_after=1000 * k_after / len(after) if len(after) else None,
        n_before=len(before), n_after=len(after), p_value=p_value, test="two_proportion_z", effect_size=effect,
        min_cell_n=min(len(before), len(after)),
    )

    neg_before, neg_after = int(tagged_before.is_negative.sum()), int(tagged_after.is_negative.sum())
    p_value, effect = _two_proportion(neg_before, k_before, neg_after, k_after)
    results["negative_rate"] = dict(
        value_before=neg_before / k_before if k_before else None,
        value_after=neg_after / k_after if k_after else None,
        n_before=k_before, n_after=k_after, p_value=p_value, test="two_proportion_z", effect_size=effect,
        min_cell_n=min(k_before, k_after),
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
        min_cell_n=min(k_before, k_after),
    )
    return results


def did_units(rows: pd.DataFrame, metric: str, effective_date, window_days: int) -> pd.DataFrame:
    """The regression units of one metric: columns y, treated, post."""
    treated = (rows.group_name == "scope").astype(int)
    post = (rows.period == "after").astype(int)
    if metric == "tag_volume_per_day":
        start = pd.Timestamp(effective_date) - pd.Timedelta(days=window_days)
        days = pd.date_range(start, periods=2 * window_days, freq="D")
        tagged = rows[rows.has_tag]
        counts = tagged.groupby([pd.to_datetime(tagged.created_date), tagged.group_name]).size()
        grid = pd.MultiIndex.from_product([days, ["scope", "control"]], names=["day", "group"])
        frame = counts.reindex(grid, fill_value=0).rename("y").reset_index()
        frame["treated"] = (frame.group == "scope").astype(int)
        frame["post"] = (frame.day >= pd.Timestamp(effective_date)).astype(int)
        return frame[["y", "treated", "post"]]
    if metric == "tag_per_1000_feedback":
        return pd.DataFrame({"y": 1000.0 * rows.has_tag.astype(float), "treated": treated, "post": post})
    mask = rows.has_tag.to_numpy()
    value = rows.is_negative.astype(float) if metric == "negative_rate" else rows.sentiment_score.astype(float)
    return pd.DataFrame({"y": value[mask], "treated": treated[mask], "post": post[mask]})


def intervention_rows(intervention, observations: pd.DataFrame, min_n: float, fdr_level: float) -> list[dict]:
    """One row per metric of one intervention, with the DiD, the BH-adjusted p-value and the verdict."""
    window_days = int(intervention.window_days)
    has_control = (observations.group_name == "control").any()
    scope = _group_metrics(observations[observations.group_name == "scope"], window_days)
    control = _group_metrics(observations[observations.group_name == "control"], window_days) if has_control else {}
    rows = []
    for metric in METRICS:
        mine = scope[metric]
        theirs = control.get(metric)
        row = {
            "intervention_id": intervention.intervention_id, "metric": metric,
            **{k: v for k, v in mine.items() if k != "min_cell_n"},
            "control_value_before": theirs["value_before"] if theirs else None,
            "control_value_after": theirs["value_after"] if theirs else None,
            "control_p_value": theirs["p_value"] if theirs else None,
            "min_cell_n": min(mine["min_cell_n"], theirs["min_cell_n"]) if theirs else mine["min_cell_n"],
            "did_estimate": None, "did_std_error": None, "did_p_value": None, "did_test": None,
        }
        if theirs:
            units = did_units(observations, metric, intervention.effective_date, window_days)
            estimate, error, p_value = did_regression(units.y, units.treated, units.post)
            row.update(did_estimate=estimate, did_std_error=error, did_p_value=p_value, did_test=DID_TEST)
            row["tested_estimate"], row["tested_p_value"] = estimate, p_value
        else:
            delta = None
            if mine["value_before"] is not None and mine["value_after"] is not None:
                delta = mine["value_after"] - mine["value_before"]
            row["tested_estimate"], row["tested_p_value"] = delta, mine["p_value"]
        rows.append(row)
    sufficient = [row["min_cell_n"] >= min_n for row in rows]
    adjusted = bh_adjust([row["tested_p_value"] if ok else None for row, ok in zip(rows, sufficient)])
    for row, p_adjusted in zip(rows, adjusted):
        row["p_value_adjusted"] = p_adjusted
        row["verdict"] = verdict(row["metric"], row["tested_estimate"], p_adjusted, min_n, row["min_cell_n"], fdr_level)
        row["significant"] = row["verdict"] in ("improved", "worsened")
        row["fdr_level"] = fdr_level
        del row["tested_estimate"], row["tested_p_value"]
    return rows


COLUMNS = ["intervention_id", "metric", "value_before", "value_after", "n_before", "n_after", "p_value", "test",
           "effect_size", "control_value_before", "control_value_after", "control_p_value", "min_cell_n",
           "did_estimate", "did_std_error", "did_p_value", "did_test", "p_value_adjusted", "fdr_level", "verdict",
           "significant"]
FLOAT_COLUMNS = ("value_before", "value_after", "p_value", "effect_size", "control_value_before", "control_value_after",
                 "control_p_value", "did_estimate", "did_std_error", "did_p_value", "p_value_adjusted", "fdr_level")


def _frame(relation):
    """A ref as a pandas frame, on either engine: a Spark DataFrame (dbt-spark) or a DuckDB relation."""
    return relation.toPandas() if hasattr(relation, "toPandas") else relation.df()


def model(dbt, session):
    dbt.config(materialized="table")
    interventions = _frame(dbt.ref("interventions"))
    observations = _frame(dbt.ref("int_improvement__observations"))
    settings_frame = _frame(dbt.ref("analysis_settings"))
    settings = dict(zip(settings_frame.setting, settings_frame.value))
    min_n, fdr_level = float(settings["improvement_min_n"]), float(settings["improvement_fdr_level"])

    rows = []
    for intervention in interventions.itertuples(index=False):
        mine = observations[observations.intervention_id == intervention.intervention_id]
        rows += intervention_rows(intervention, mine, min_n, fdr_level)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for column in FLOAT_COLUMNS:
        frame[column] = frame[column].astype("float64")
    frame["min_cell_n"] = frame["min_cell_n"].astype("int64")
    return frame
