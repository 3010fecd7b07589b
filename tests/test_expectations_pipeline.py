"""The quality gates in the real job: a clean run passes every great-expectations check; after a
loaded batch is corrupted, the blocking raw check fails, dbt is skipped, the marts stay as they
were, and the check's metadata names the expectations and shows masked failing rows."""

from __future__ import annotations

import csv
import hashlib
import json

import dagster as dg
import duckdb
import pytest

from expectations.report import report_dir_for
from orchestration.checks import ERROR_CHECK, WARN_CHECK
from orchestration.settings import REPO_ROOT, VocSettings

pytestmark = pytest.mark.e2e

DEMO_ROWS = 400
DEMO_SEED = 5
GX_CHECKS = {ERROR_CHECK, WARN_CHECK}
SURVEYS = dg.AssetKey(["raw", "surveys"])
THRESHOLDS_SEED = REPO_ROOT / "dbt_project" / "seeds" / "quality_thresholds.csv"


def _run(settings: VocSettings) -> dg.ExecuteInProcessResult:
    from orchestration.pipeline_run import run_everything

    return run_everything(settings, instance=dg.DagsterInstance.ephemeral(), log_level="WARNING")


def _gx_evaluations(result: dg.ExecuteInProcessResult):
    return [e for e in result.get_asset_check_evaluations() if e.check_name in GX_CHECKS]


def _marts_fingerprint(settings: VocSettings) -> str:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.execute("select * from marts.fct_feedback order by feedback_id").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _corrupt_surveys(settings: VocSettings) -> dict[str, str]:
    """Out-of-range NPS on one row, one response id twice, one row without its key."""
    with duckdb.connect(str(settings.warehouse_path)) as con:
        first, second = (row[0] for row in con.execute(
            "select response_id from raw.surveys order by response_id limit 2"
        ).fetchall())
        con.execute("update raw.surveys set answers__nps = 42 where response_id = ?", [first])
        con.execute("insert into raw.surveys select * from raw.surveys where response_id = ?", [second])
        con.execute("alter table raw.surveys alter column response_id drop not null")
        con.execute(
            "insert into raw.surveys select * replace (null as response_id) from raw.surveys "
            "where response_id = ? limit 1",
            [second],
        )
    return {"out_of_range": first, "duplicate": second}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, dbt_manifest, restore_environ):
    from devtools.demo.api import generate

    root = tmp_path_factory.mktemp("voc_quality")
    settings = VocSettings(landing_dir=root / "landing", warehouse_path=root / "warehouse" / "voc.duckdb")
    generate(settings.landing_dir, rows=DEMO_ROWS, seed=DEMO_SEED)
    clean = _run(settings)
    fingerprint = _marts_fingerprint(settings)
    corrupted_ids = _corrupt_surveys(settings)
    broken = _run(settings)
    return settings, clean, fingerprint, corrupted_ids, broken


def _families_over_threshold(settings: VocSettings) -> set[str]:
    """From the generator's ground truth and the seed, independently of the mart."""
    summary = json.loads((settings.landing_dir / "_truth" / "summary.json").read_text(encoding="utf-8"))
    with open(THRESHOLDS_SEED, encoding="utf-8") as handle:
        thresholds = {row["source_family"]: float(row["max_quarantine_rate"]) for row in csv.DictReader(handle)}
    return {
        family
        for family, counts in summary.items()
        if isinstance(counts, dict) and counts.get("lines_written")
        and counts["bad_records"] / counts["lines_written"] > thresholds[family]
    }


def test_clean_run_passes_every_quality_check(runs):
    settings, clean, *_ = runs
    assert clean.success
    evaluations = _gx_evaluations(clean)
    layers = {evaluation.asset_key.path[0] for evaluation in evaluations}
    assert layers == {"raw", "staging", "marts"}
    quarantine = dg.AssetKey(["marts", "quarantine_summary"])
    failed = [
        (e.asset_key.to_user_string(), e.check_name, e.metadata.get("failing_expectation"))
        for e in evaluations
        if not e.passed and e.asset_key != quarantine
    ]
    assert failed == []
    assert (report_dir_for(settings.warehouse_path) / "index.html").is_file()


def test_quarantine_rate_warning_fires_exactly_for_sources_over_their_threshold(runs):
    settings, clean, *_ = runs
    over = _families_over_threshold(settings)
    # a few hundred demo rows carry a fixed minimum of broken lines, so some sources are over
    assert over
    (warning,) = [
        e for e in _gx_evaluations(clean)
        if e.asset_key == dg.AssetKey(["marts", "quarantine_summary"]) and e.check_name == WARN_CHECK
    ]
    assert not warning.passed and warning.severity == dg.AssetCheckSeverity.WARN and not warning.blocking
    assert {row["source_family"] for row in warning.metadata["sample_failing_rows"].value} <= over
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        flagged = {row[0] for row in con.execute(
            "select distinct source_family from marts.quarantine_summary where is_over_threshold"
        ).fetchall()}
    assert flagged == over


def test_corrupted_batch_fails_the_blocking_raw_check_with_masked_samples(runs):
    *_, corrupted_ids, broken = runs
    assert not broken.success
    (surveys_errors,) = [
        e for e in _gx_evaluations(broken) if e.asset_key == SURVEYS and e.check_name == ERROR_CHECK
    ]
    assert not surveys_errors.passed
    assert surveys_errors.severity == dg.AssetCheckSeverity.ERROR and surveys_errors.blocking
    failing = surveys_errors.metadata["failing_expectation"].value
    for expectation in (
        "expect_column_values_to_not_be_null(column=response_id)",
        "expect_column_values_to_be_unique(column=response_id)",
        "expect_column_values_to_be_between(column=answers__nps",
    ):
        assert expectation in failing
    failures = {f["expectation"]: f for f in surveys_errors.metadata["failures"].value}
    nps = next(f for name, f in failures.items() if "answers__nps" in name)
    assert nps["unexpected_count"] == 1
    assert nps["samples"] == [{"response_id": corrupted_ids["out_of_range"], "answers__nps": 42}]
    unique = failures["expect_column_values_to_be_unique(column=response_id)"]
    assert {sample["response_id"] for sample in unique["samples"]} == {corrupted_ids["duplicate"]}


def test_failed_raw_check_keeps_dbt_and_the_marts_from_running(runs):
    settings, _, fingerprint, _, broken = runs
    started = {event.step_key for event in broken.all_events if event.event_type == dg.DagsterEventType.STEP_START}
    assert "gx_raw_surveys" in started and "load_surveys" in started
    assert "voc_dbt_models" not in started
    rebuilt = [
        event.asset_key for event in broken.get_asset_materialization_events()
        if event.asset_key.path[0] in ("staging", "intermediate", "marts")
    ]
    assert rebuilt == []
    assert _marts_fingerprint(settings) == fingerprint
    # the other families' checks still ran and passed: only the broken load is held back
    tickets = [e for e in _gx_evaluations(broken) if e.asset_key == dg.AssetKey(["raw", "tickets"])]
    assert tickets and all(e.passed for e in tickets)
