"""The demo data plants an intervention with a real effect (returns in 华东 stores improve from
2026-08-18) and the seed declares one without (queue system, no change planted); the
improvement_baseline mart must tell them apart. Built on 6,000 generated rows: enough for the
planted effect to be detectable, and only the models the mart needs are built."""

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
    generate(landing, rows=6000, seed=11)
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
    assert negative_rate.significant and negative_rate.value_after < negative_rate.value_before
    assert sentiment.significant and sentiment.value_after > sentiment.value_before
    assert negative_rate.test == "two_proportion_z" and sentiment.test == "mann_whitney_u"
    # partial scope: the out-of-scope stores are the control, with a difference-in-differences
    assert negative_rate.control_value_before is not None and not math.isnan(negative_rate.diff_in_diff)


def test_the_intervention_without_effect_is_not_significant(baseline):
    rows, _ = baseline
    assert not rows.loc["INT-002"].significant.any()
    assert rows.loc["INT-002"].control_value_before.isna().all()  # scope all: no control group


def test_rate_p_values_are_the_two_proportion_z_test(baseline):
    """The mart's chi-square p-value equals the two-proportion z-test computed from its formula."""
    rows, observations = baseline
    scope = observations[(observations.intervention_id == "INT-001") & (observations.group_name == "scope") & observations.has_tag]
    before, after = scope[scope.period == "before"], scope[scope.period == "after"]
    x1, n1, x2, n2 = before.is_negative.sum(), len(before), after.is_negative.sum(), len(after)
    pooled = (x1 + x2) / (n1 + n2)
    z = (x2 / n2 - x1 / n1) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert rows.loc[("INT-001", "negative_rate")].p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
