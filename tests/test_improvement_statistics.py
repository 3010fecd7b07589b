"""The statistics of improvement_baseline (the dbt Python model int_improvement__tests) on
hand-checkable data: the difference-in-differences and its robust standard error, the
Benjamini-Hochberg correction and the insufficient_data rule. Pure functions, no dbt."""

from __future__ import annotations

import importlib.util
import math
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

MODEL_PATH = Path(__file__).resolve().parents[1] / "dbt_project/models/intermediate/improvement/int_improvement__tests.py"


@pytest.fixture(scope="module")
def stats_model():
    spec = importlib.util.spec_from_file_location("int_improvement__tests", MODEL_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _did_sample(rng, effect, n=200):
    """Four cells of n units each: base 1, +0.5 treated, +0.3 after, +effect treated after."""
    rows = []
    for treated in (0, 1):
        for post in (0, 1):
            mean = 1 + 0.5 * treated + 0.3 * post + effect * treated * post
            scale = 1 + treated  # unequal variances: robust errors matter
            rows += [(mean + scale * e, treated, post) for e in rng.standard_normal(n)]
    return pd.DataFrame(rows, columns=["y", "treated", "post"])


def test_did_is_the_difference_of_the_four_cell_means(stats_model):
    frame = _did_sample(np.random.default_rng(1), effect=-0.8)
    estimate, _, p_value = stats_model.did_regression(frame.y, frame.treated, frame.post)
    means = frame.groupby(["treated", "post"]).y.mean()
    by_hand = (means[1, 1] - means[1, 0]) - (means[0, 1] - means[0, 0])
    assert estimate == pytest.approx(by_hand, abs=1e-12)
    assert estimate == pytest.approx(-0.8, abs=0.35)  # the planted effect, within sampling error
    assert p_value < 1e-3


def test_did_standard_error_is_hc1_computed_directly(stats_model):
    """(X'X)^-1 X' diag(e^2) X (X'X)^-1 x n / (n - k), the HC1 sandwich, from plain numpy OLS."""
    frame = _did_sample(np.random.default_rng(2), effect=0.4, n=60)
    _, error, p_value = stats_model.did_regression(frame.y, frame.treated, frame.post)
    t, p = frame.treated.to_numpy(float), frame.post.to_numpy(float)
    x = np.column_stack([np.ones_like(t), t, p, t * p])
    y = frame.y.to_numpy()
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    residuals = y - x @ beta
    bread = np.linalg.inv(x.T @ x)
    n, k = x.shape
    sandwich = bread @ (x.T * residuals**2) @ x @ bread * n / (n - k)
    direct_se = math.sqrt(sandwich[3, 3])
    assert error == pytest.approx(direct_se, rel=1e-10)
    # with four cells the HC1 error is the Welch-style sum of the cell variances of the means
    cells = frame.groupby(["treated", "post"]).y
    welch = math.sqrt(sum(cells.var(ddof=0) / cells.count()) * n / (n - k))
    assert error == pytest.approx(welch, rel=1e-10)
    from scipy import stats

    assert p_value == pytest.approx(2 * stats.norm.sf(abs(beta[3] / direct_se)), rel=1e-9)


def test_did_without_all_four_cells_is_not_estimated(stats_model):
    assert stats_model.did_regression([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [1, 1, 1, 0, 0, 0], [0, 1, 0, 0, 1, 0]) != (None, None, None)
    assert stats_model.did_regression([1.0, 2.0, 3.0, 4.0], [1, 1, 0, 0], [0, 0, 0, 0]) == (None, None, None)


def test_benjamini_hochberg_by_hand(stats_model):
    # sorted p: 0.01, 0.02, 0.03, 0.5 -> p * m / rank = 0.04, 0.04, 0.04, 0.5 (then made monotone)
    adjusted = stats_model.bh_adjust([0.03, None, 0.01, 0.5, 0.02])
    assert adjusted[1] is None
    assert adjusted[0] == pytest.approx(0.04) and adjusted[2] == pytest.approx(0.04) and adjusted[4] == pytest.approx(0.04)
    assert adjusted[3] == pytest.approx(0.5)
    # one small p-value among many large ones loses its significance at 0.05 once corrected
    adjusted = stats_model.bh_adjust([0.03, 0.6, 0.7, 0.8])
    assert adjusted[0] == pytest.approx(0.12)
    assert stats_model.bh_adjust([None, None]) == [None, None]


def test_verdict_rules(stats_model):
    verdict = stats_model.verdict
    assert verdict("negative_rate", -0.2, 0.001, 30, 29, 0.05) == "insufficient_data"
    assert verdict("negative_rate", -0.2, 0.001, 30, 30, 0.05) == "improved"
    assert verdict("negative_rate", 0.2, 0.001, 30, 30, 0.05) == "worsened"
    assert verdict("avg_sentiment", 0.2, 0.001, 30, 30, 0.05) == "improved"
    assert verdict("avg_sentiment", 0.2, 0.05, 30, 30, 0.05) == "no_change"
    assert verdict("avg_sentiment", None, None, 30, 100, 0.05) == "insufficient_data"


def _observations(rng, n_per_day, effect_after_in_scope, effective, window_days=20):
    rows = []
    for offset in range(-window_days, window_days):
        day = effective + timedelta(days=offset)
        period = "after" if offset >= 0 else "before"
        for group in ("scope", "control"):
            for index in range(n_per_day):
                negative_share = 0.6 - (effect_after_in_scope if (group == "scope" and period == "after") else 0)
                has_tag = index % 2 == 0
                rows.append({"intervention_id": "INT-T", "feedback_id": f"{group}{day}{index}", "created_date": day,
                             "sentiment_score": float(rng.uniform(-1, 1)), "is_negative": bool(rng.random() < negative_share),
                             "has_tag": has_tag, "period": period, "group_name": group})
    return pd.DataFrame(rows)


def test_intervention_rows_find_a_planted_did_and_apply_the_minimum(stats_model):
    effective = date(2026, 9, 1)
    intervention = SimpleNamespace(intervention_id="INT-T", window_days=20, effective_date=effective)
    rows = stats_model.intervention_rows(intervention, _observations(np.random.default_rng(3), 10, 0.4, effective), 30, 0.05)
    by_metric = {row["metric"]: row for row in rows}
    negative = by_metric["negative_rate"]
    assert negative["did_test"] == "ols_did_hc1" and negative["verdict"] == "improved"
    assert negative["p_value_adjusted"] >= negative["did_p_value"]
    # the tag share and volume did not change by construction: no verdict either way
    assert by_metric["tag_per_1000_feedback"]["verdict"] == "no_change"
    assert by_metric["tag_volume_per_day"]["did_estimate"] == pytest.approx(0.0, abs=1e-12)
    # the same data with a minimum above every cell: no verdicts at all
    rows = stats_model.intervention_rows(intervention, _observations(np.random.default_rng(3), 10, 0.4, effective), 10_000, 0.05)
    assert {row["verdict"] for row in rows} == {"insufficient_data"}
    assert all(row["p_value_adjusted"] is None and not row["significant"] for row in rows)
