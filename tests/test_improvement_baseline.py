"""The demo data plants an intervention with a real effect (returns in 华东 stores improve from
2026-08-18) and the seed declares one without (queue system, no change planted); the
improvement_baseline mart must tell them apart. Built on 10,000 generated rows: enough for every
group x period cell of the planted tag to reach the improvement_min_n minimum (the out-of-scope
control has the fewest), and only the models the mart needs are built."""

from __future__ import annotations

import math
import os
import subprocess

import duckdb
import pytest
from record_guard import TEST_GUARD
from scipy import stats

from orchestration.project import DBT_EXECUTABLE, voc_dbt_project

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, dbt_manifest):
    from devtools.demo.api import generate
    from loaders.pipeline import load_all

    root = tmp_path_factory.mktemp("baseline")
    landing, warehouse = root / "landing", root / "voc.duckdb"
    generate(landing, rows=10_000, seed=11)
    load_all(landing, warehouse, TEST_GUARD)
    # a subprocess, so that dbt's DuckDB connection is closed before the test reads the file
    result = subprocess.run(
        [DBT_EXECUTABLE, "build", "--quiet", "--select", "+improvement_baseline",
         "--project-dir", str(voc_dbt_project.project_dir), "--profiles-dir", str(voc_dbt_project.profiles_dir),
         "--target-path", str(root / "target")],
        env={**os.environ, "VOC_DUCKDB_PATH": str(warehouse)}, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = conn.execute("select * from marts.improvement_baseline").df()
        observations = conn.execute("select * from intermediate.int_improvement__observations").df()
    return rows.set_index(["intervention_id", "metric"]), observations


def test_the_planted_intervention_is_significant_and_improves(baseline):
    rows, _ = baseline
    negative_rate = rows.loc[("INT-001", "negative_rate")]
    sentiment = rows.loc[("INT-001", "avg_sentiment")]
    assert negative_rate.verdict == "improved" and negative_rate.significant
    assert negative_rate.value_after < negative_rate.value_before
    assert sentiment.verdict == "improved" and sentiment.value_after > sentiment.value_before
    assert negative_rate.test == "two_proportion_z" and sentiment.test == "mann_whitney_u"
    # partial scope: the out-of-scope stores are the control, and the verdict is the regression's
    assert negative_rate.did_test == "ols_did_hc1" and negative_rate.did_estimate < 0
    assert negative_rate.did_estimate == pytest.approx(negative_rate.diff_in_diff, abs=1e-9)
    assert negative_rate.did_p_value < negative_rate.fdr_level <= 0.05
    assert negative_rate.min_cell_n >= 10


def test_the_intervention_without_effect_is_not_significant(baseline):
    rows, _ = baseline
    assert not rows.loc["INT-002"].significant.any()
    assert set(rows.loc["INT-002"].verdict) <= {"no_change", "insufficient_data"}
    assert rows.loc["INT-002"].control_value_before.isna().all()  # scope all: no control group
    assert rows.loc["INT-002"].did_estimate.isna().all() and rows.loc["INT-002"].did_test.isna().all()


def test_did_is_the_difference_of_the_cell_means(baseline):
    """The regression's coefficient, checked by hand from the observations it was fitted on."""
    rows, observations = baseline
    tagged = observations[(observations.intervention_id == "INT-001") & observations.has_tag]
    means = tagged.groupby(["group_name", "period"]).is_negative.mean()
    by_hand = (means["scope", "after"] - means["scope", "before"]) - (means["control", "after"] - means["control", "before"])
    assert rows.loc[("INT-001", "negative_rate")].did_estimate == pytest.approx(by_hand, abs=1e-9)


def test_p_values_are_benjamini_hochberg_adjusted_per_intervention(baseline):
    """scipy's own BH implementation over the tested p-values (DiD with a control, else before /
    after) of the metrics with enough data gives the mart's adjusted p-values."""
    rows, _ = baseline
    for intervention_id in ("INT-001", "INT-002"):
        mine = rows.loc[intervention_id]
        family = mine[mine.verdict != "insufficient_data"]
        tested = family.did_p_value.where(family.did_test.notna(), family.p_value)
        expected = stats.false_discovery_control(tested.to_numpy(), method="bh")
        assert list(family.p_value_adjusted) == pytest.approx(list(expected), rel=1e-9)
        assert mine[mine.verdict == "insufficient_data"].p_value_adjusted.isna().all()


def test_rate_p_values_are_the_two_proportion_z_test(baseline):
    """The mart's chi-square p-value equals the two-proportion z-test computed from its formula."""
    rows, observations = baseline
    scope = observations[(observations.intervention_id == "INT-001") & (observations.group_name == "scope") & observations.has_tag]
    before, after = scope[scope.period == "before"], scope[scope.period == "after"]
    x1, n1, x2, n2 = before.is_negative.sum(), len(before), after.is_negative.sum(), len(after)
    pooled = (x1 + x2) / (n1 + n2)
    z = (x2 / n2 - x1 / n1) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert rows.loc[("INT-001", "negative_rate")].p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
