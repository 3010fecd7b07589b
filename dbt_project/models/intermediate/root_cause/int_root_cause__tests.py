"""One-sided tests of the root-cause cells, with Benjamini-Hochberg control per episode.

Each cell's observed count of the episode's tag mentions is tested against its expected share
(int_root_cause__cells) with the exact one-sided binomial test, P(X >= observed) for
X ~ Binomial(tag total of the period, expected share). The p-values of all cells of one episode
(every dimension together) are adjusted with scipy.stats.false_discovery_control (Benjamini-
Hochberg), giving q-values; a cell is significant when its q-value is at most fdr_level, it has
at least min_cell_observed mentions and it is above its expectation. Settings:
root_cause_settings seed.

The episode's own excess is tested too: is the tag's volume in the period above its baseline rate
per feedback? Given n mentions in the period and B in the baseline, with F and F_base feedback,
n ~ Binomial(n + B, F / (F + F_base)) under equal rates (the conditional test of two Poisson
rates, which accounts for the noise of the baseline); excess_p_value = P(X >= n), null without
baseline feedback. A spike whose excess is not significant rose with the network's volume and
is not called local.
"""

import numpy as np
import pandas as pd
from scipy import stats


def _settings(frame: pd.DataFrame) -> dict[str, float]:
    return {row.setting: float(row.value) for row in frame.itertuples(index=False)}


def _frame(relation):
    """A ref as a pandas frame, on either engine: a Spark DataFrame (dbt-spark) or a DuckDB relation."""
    return relation.toPandas() if hasattr(relation, "toPandas") else relation.df()


def model(dbt, session):
    dbt.config(materialized="table")
    settings = _settings(_frame(dbt.ref("root_cause_settings")))
    cells = _frame(dbt.ref("int_root_cause__cells"))

    observed = cells["observed"].to_numpy(dtype="int64")
    total = cells["tag_total"].to_numpy(dtype="int64")
    share = np.clip(cells["expected_share"].to_numpy(dtype="float64"), 0.0, 1.0)
    # P(X >= observed); a cell with an expected share of 0 that was observed is as unlikely as can be
    p_values = np.where(share > 0, stats.binom.sf(observed - 1, total, share), 0.0)
    cells["p_value"] = p_values.astype("float64")

    q_values = np.empty(len(cells), dtype="float64")
    for _, positions in cells.groupby("episode_key", sort=False).indices.items():
        q_values[positions] = stats.false_discovery_control(p_values[positions], method="bh")
    cells["q_value"] = q_values
    cells["is_significant"] = (
        (cells["q_value"] <= settings["fdr_level"])
        & (cells["observed"] >= settings["min_cell_observed"])
        & (cells["excess"] > 0)
    )
    n = total.astype("float64")
    baseline = cells["baseline_tag_total"].to_numpy(dtype="float64")
    volume = cells["feedback_total"].to_numpy(dtype="float64")
    baseline_volume = cells["baseline_feedback_total"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_share = volume / (volume + baseline_volume)
    excess_p = stats.binom.sf(n - 1, n + baseline, np.nan_to_num(rate_share))
    cells["excess_p_value"] = np.where(baseline_volume > 0, excess_p, np.nan).astype("float64")
    columns = ["episode_key", "dimension", "dimension_value", "observed", "expected", "excess", "share_of_excess",
               "p_value", "q_value", "is_significant", "excess_p_value"]
    return cells[columns]
