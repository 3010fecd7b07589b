"""The expectation suites on small hand-made warehouses: clean data passes, each kind of damage
fails the right expectation with masked samples, and validation leaves the file unlocked."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from expectations.masking import mask_row, mask_unionids
from expectations.report import render_report, write_report
from expectations.runner import validate_suites
from expectations.suites import ERROR, WARN, mart_suite, raw_suites, staging_suite
from orchestration.checks import ERROR_CHECK, WARN_CHECK, check_result

pytestmark = pytest.mark.dbt

PHONE = "13800138000"
UNIONID = "ozbPj7faZ-yj6VjWR9ioBPJyEkBT"


def _build_surveys_warehouse(path: Path, survey_rows: list[tuple]) -> None:
    """raw.surveys (the columns the suites read), its load log and quarantine, consistent with the rows."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.surveys (response_id varchar, answers__nps bigint, answers__csat bigint, "
            "answers__ces bigint, respondent__phone varchar, _voc_file varchar, _voc_updated_at timestamptz)"
        )
        con.executemany("insert into raw.surveys values (?, ?, ?, ?, ?, ?, ?)", survey_rows)
        con.execute(
            "create table raw.surveys_files (file varchar, records_read bigint, records_loaded bigint, "
            "records_quarantined bigint)"
        )
        con.execute("insert into raw.surveys_files values ('surveys/a.jsonl', ?, ?, 1)", [len(survey_rows) + 1, len(survey_rows)])
        con.execute("create table raw.surveys_quarantine (file varchar, line bigint, reason varchar)")
        con.execute("insert into raw.surveys_quarantine values ('surveys/a.jsonl', 99, 'invalid_json')")


def _clean_rows(count: int = 20) -> list[tuple]:
    return [
        (f"R-{i:04d}", i % 11, 1 + i % 5, 1 + i % 7, PHONE, "surveys/a.jsonl", "2026-06-01 10:00:00+00")
        for i in range(count)
    ]


def _outcomes_by_name(warehouse: Path, suites) -> dict[str, object]:
    return {
        outcome.expectation: outcome
        for suite_outcome in validate_suites(warehouse, suites)
        for outcome in suite_outcome.outcomes
    }


@pytest.fixture
def clean_warehouse(tmp_path) -> Path:
    path = tmp_path / "clean.duckdb"
    _build_surveys_warehouse(path, _clean_rows())
    return path


def test_clean_raw_surveys_pass_every_expectation(clean_warehouse):
    outcomes = _outcomes_by_name(clean_warehouse, raw_suites("surveys", "surveys"))
    failed = {name: outcome.error or outcome.observed for name, outcome in outcomes.items() if not outcome.success}
    assert failed == {}
    assert any("answers__nps" in name for name in outcomes)
    assert any("records read = loaded + quarantined" in name for name in outcomes)


def test_corrupted_raw_batch_fails_with_named_expectations_and_masked_samples(tmp_path):
    rows = _clean_rows()
    rows[3] = ("R-0003", 42, 3, 3, PHONE, "surveys/a.jsonl", "2026-06-01 10:00:00+00")  # NPS out of 0..10
    rows.append(rows[5])  # the same response id twice
    rows.append((None, 5, 3, 3, PHONE, "surveys/a.jsonl", "2026-06-01 10:00:00+00"))  # null key
    path = tmp_path / "broken.duckdb"
    _build_surveys_warehouse(path, rows)

    outcomes = _outcomes_by_name(path, raw_suites("surveys", "surveys"))

    nps = outcomes["expect_column_values_to_be_between(column=answers__nps, min_value=0.0, max_value=10.0)"]
    assert (nps.success, nps.severity, nps.unexpected_count) == (False, ERROR, 1)
    assert nps.samples[0]["response_id"] == "R-0003" and nps.samples[0]["answers__nps"] == 42
    unique = outcomes["expect_column_values_to_be_unique(column=response_id)"]
    assert not unique.success and unique.unexpected_count == 2
    assert {sample["response_id"] for sample in unique.samples} == {"R-0005"}
    not_null = outcomes["expect_column_values_to_not_be_null(column=response_id)"]
    assert not not_null.success and not_null.unexpected_count == 1
    # the load log was written to match these rows, so reconciliation has nothing to object to
    reconciliation = outcomes["surveys: records read = loaded + quarantined, raw rows <= loaded"]
    assert reconciliation.success
    assert outcomes["expect_column_values_to_be_between(column=answers__csat, min_value=1.0, max_value=5.0)"].success


def test_reconciliation_fails_when_quarantine_and_load_log_disagree(clean_warehouse):
    with duckdb.connect(str(clean_warehouse)) as con:
        con.execute("insert into raw.surveys_quarantine values ('surveys/a.jsonl', 100, 'missing_id')")
    outcomes = _outcomes_by_name(clean_warehouse, raw_suites("surveys", "surveys"))
    reconciliation = outcomes["surveys: records read = loaded + quarantined, raw rows <= loaded"]
    assert not reconciliation.success
    assert reconciliation.samples == [
        {"read": 21, "loaded": 20, "logged_quarantined": 1, "quarantine_rows": 2, "raw_rows": 20}
    ]


def test_samples_of_sql_rules_are_masked(tmp_path):
    path = tmp_path / "marts_wh.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_feedback (feedback_id varchar, text_masked varchar, one_id varchar)")
        con.execute(
            "insert into marts.fct_feedback values ('survey:1', '电话 138****8000 已处理', 'a1b2c3d4e5f60718293a4b5c6d7e8f90'),"
            f" ('survey:2', '请回电 {PHONE}', null), ('survey:3', 'mail me x.y@example.com', null),"
            f" ('survey:4', 'unionid {UNIONID} here', null)"
        )
    suite = mart_suite("fct_feedback", ["feedback_id", "text_masked", "one_id"])
    (outcome,) = _outcomes_by_name(path, [suite]).values()
    assert not outcome.success and outcome.severity == ERROR
    assert outcome.observed == 3  # the masked phone and the hex hash are not personal data
    shown = json.dumps(outcome.samples, ensure_ascii=False)
    assert {sample["feedback_id"] for sample in outcome.samples} == {"survey:2", "survey:3", "survey:4"}
    assert PHONE not in shown and "x.y@example.com" not in shown and UNIONID not in shown
    assert "138****8000" in shown and "[EMAIL]" in shown


def test_kpi_daily_nps_parts_must_add_up(tmp_path):
    path = tmp_path / "kpi_wh.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.kpi_daily as select * from (values "
            "('k1', date '2026-06-01', 'survey', 10, 2, 1, 5, 3, 1, 1, 20.0, 0.1, 4, 3), "
            "('k2', date '2026-06-01', 'review', 10, 2, 1, 5, 3, 1, 0, 40.0, 0.1, 4, 3)) "
            "as t(kpi_key, kpi_date, source, n_feedback, n_negative, n_complaints, n_nps_responses, n_promoters, n_passives, "
            "n_detractors, nps, avg_sentiment, n_csat_responses, n_csat_top2)"
        )
    outcomes = _outcomes_by_name(path, [mart_suite("kpi_daily", [])])
    parts = outcomes["kpi_daily: promoters + passives + detractors = NPS responses"]
    assert not parts.success and parts.observed == 1
    assert parts.samples[0]["kpi_key"] == "k2"
    assert outcomes["kpi_daily: parts never exceed their totals (negative, complaints, CSAT top-2)"].success


def test_staging_must_keep_every_raw_record(tmp_path):
    path = tmp_path / "staging_wh.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw; create schema staging")
        con.execute("create table raw.surveys as select 'R-' || i as response_id from range(5) t(i)")
        con.execute(
            "create view staging.stg_surveys__responses as select response_id, "
            "timestamptz '2026-01-01 00:00:00+00' as submitted_at from raw.surveys where response_id <> 'R-4'"
        )
    outcomes = _outcomes_by_name(path, [staging_suite("stg_surveys__responses", "surveys", "response_id", "submitted_at")])
    kept = outcomes["stg_surveys__responses: one row per record id of raw.surveys (none lost, none added)"]
    assert not kept.success and kept.samples == [{"raw_ids": 5, "staged_rows": 4}]
    assert outcomes["submitted_at is between 2000-01-01 and tomorrow"].success


def test_missing_relation_fails_instead_of_passing(tmp_path):
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    outcomes = _outcomes_by_name(path, raw_suites("social", "social"))
    assert outcomes and all(not outcome.success for outcome in outcomes.values())
    assert all("does not exist" in outcome.error for outcome in outcomes.values())


def test_validation_releases_the_warehouse_lock(clean_warehouse):
    validate_suites(clean_warehouse, raw_suites("surveys", "surveys"))
    # a writer in this process (as dbt or dlt would be in another) can open the file again
    with duckdb.connect(str(clean_warehouse)) as con:
        con.execute("create table raw.after_check as select 1 as x")


def test_masking_keeps_only_the_edges_of_identifiers():
    row = mask_row({"phone": f"call {PHONE}", "unionid": UNIONID, "n": 3, "none": None})
    assert row == {"phone": "call 138****8000", "unionid": "ozbP" + "*" * 20 + "EkBT", "n": 3, "none": None}
    # a 28-character token that is part of a longer one is left alone
    assert mask_unionids("x" + UNIONID) == "x" + UNIONID


def test_check_result_carries_failing_expectation_observed_value_and_samples(tmp_path):
    path = tmp_path / "broken.duckdb"
    rows = _clean_rows()
    rows[0] = ("R-0000", 11, 1, 1, PHONE, "surveys/a.jsonl", "2026-06-01 10:00:00+00")
    _build_surveys_warehouse(path, rows)
    (tables, _) = validate_suites(path, raw_suites("surveys", "surveys"))
    errors = tables.of_severity(ERROR)
    result = check_result(dg.AssetKey(["raw", "surveys"]), ERROR, errors, tables.seconds, "report.html")
    assert result.passed is False and result.check_name == ERROR_CHECK
    assert result.severity == dg.AssetCheckSeverity.ERROR
    assert "answers__nps" in result.metadata["failing_expectation"].value
    assert result.metadata["observed_value"].value == {"value": {"unexpected_count": 1, "unexpected_percent": 5.0}}
    assert result.metadata["sample_failing_rows"].value == [{"response_id": "R-0000", "answers__nps": 11}]
    warnings = check_result(dg.AssetKey(["raw", "surveys"]), WARN, tables.of_severity(WARN), 0.0, "report.html")
    assert warnings.passed and warnings.check_name == WARN_CHECK and "failures" not in warnings.metadata


def test_report_lists_every_suite_and_escapes_values(tmp_path, clean_warehouse):
    outcomes = validate_suites(clean_warehouse, raw_suites("surveys", "surveys"))
    index = write_report(tmp_path / "report", "gx_raw_surveys", outcomes)
    page = index.read_text(encoding="utf-8")
    assert "raw_surveys_reconciliation" in page and "raw_surveys" in page
    document = {"check": "c", "validated_at": "t", "suites": [{
        "suite": "<script>", "layer": "marts", "asset": "marts/x", "relation": "marts.x", "seconds": 0.1,
        "expectations": [{"expectation": "e", "severity": "error", "success": False, "observed": 1,
                          "unexpected_count": 1, "samples": [{"v": "<b>"}], "error": None}],
    }]}
    html = render_report([document])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "1 failed ERROR expectations" in html


def test_driver_and_loop_rules_catch_inconsistent_rows(tmp_path):
    """driver_impact whose overall is not the weighted mean of with / without, a closed_loop row
    whose state contradicts its ticket, and weekly counts that do not add up all fail."""
    path = tmp_path / "analysis.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.driver_impact as select * from (values "
            "('d1', 'trailing', date '2026-08-01', 'nps', 'survey', 'a', 4, 2, 2, 0.5, 25.0, -50.0, 100.0, 75.0, 25.0, 26.0, 124.0, 1), "
            "('d2', 'trailing', date '2026-08-01', 'nps', 'survey', 'b', 4, 2, 2, 0.5, 40.0, 100.0, -50.0, -75.0, 25.0, -124.0, -26.0, 2)) "
            "as t(driver_key, period_type, period_start, metric, source, tag, n_total, n_with, n_without, share_with, "
            "value_overall, value_with, value_without, impact_points, impact_std_error, impact_ci_low, impact_ci_high, impact_rank)"
        )
        con.execute(
            "create table marts.closed_loop as select * from (values "
            "('a1', timestamptz '2026-11-01 00:00:00+00', 't1', timestamptz '2026-11-01 01:00:00+00', null, null, null, 'in_progress'), "
            "('a2', timestamptz '2026-11-01 00:00:00+00', null, null, null, null, null, 'resolved')) "
            "as t(alert_id, raised_at, ticket_id, ticket_created_at, resolved_at, next_feedback_id, next_feedback_at, loop_state)"
        )
        con.execute(
            "create table marts.closed_loop_weekly as select * from (values ('w1', 3, 2, 1, 0, 1, 0, 2), ('w2', 3, 1, 1, 1, 2, 0, 2)) "
            "as t(team_week_key, n_alerts, n_delivered, n_with_ticket, n_open, n_in_progress, n_resolved, n_followed_up)"
        )
    outcomes = _outcomes_by_name(path, [mart_suite(name, []) for name in ("driver_impact", "closed_loop", "closed_loop_weekly")])
    weighted = outcomes["driver_impact: with + without = all, and the overall value is their weighted mean"]
    assert not weighted.success and [row["driver_key"] for row in weighted.samples] == ["d2"]
    assert outcomes["driver_impact: the interval brackets the impact, and ranks are unique per period x metric x source"].success
    state = outcomes["closed_loop: the state follows from ticket, resolution and next feedback"]
    assert not state.success and [row["alert_id"] for row in state.samples] == ["a2"]
    weekly = outcomes["closed_loop_weekly: open + in progress + resolved = alerts; followed up <= resolved <= with ticket"]
    assert not weekly.success and {row["team_week_key"] for row in weekly.samples} == {"w1", "w2"}


def test_root_cause_rules_catch_q_values_below_p_values_and_unnamed_local_verdicts(tmp_path):
    path = tmp_path / "root_cause_wh.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.root_cause as select * from (values "
            "('e1', 'store', 'SZ001', 9, 12, 0.2, 0.001, 0.004, true, true), "
            "('e1', 'store', 'SH001', 2, 12, 0.1, 0.30, 0.20, false, false), "
            "('e1', 'hour', '21', 3, 12, 0.1, 0.01, 0.02, false, true)) "
            "as t(episode_key, dimension, dimension_value, observed, tag_total, expected_share, p_value, q_value, "
            "is_significant, is_local_cell)"
        )
        con.execute(
            "create table marts.root_cause_verdicts as select * from (values "
            "('e1', 'local', 'store', 'SZ001', 0.8), ('e2', 'local', null, null, null), "
            "('e3', 'nationwide', null, null, null)) "
            "as t(episode_key, verdict, local_dimension, local_cells, local_share_of_excess)"
        )
    outcomes = _outcomes_by_name(path, [mart_suite("root_cause", []), mart_suite("root_cause_verdicts", [])])
    cells = outcomes["root_cause: counts within their totals, q-values never below p-values, named cells significant"]
    assert not cells.success and cells.observed == 2
    assert {sample["dimension_value"] for sample in cells.samples} == {"SH001", "21"}
    verdicts = outcomes["root_cause_verdicts: a local verdict names its cells and explains at least part of the excess"]
    assert not verdicts.success and [sample["episode_key"] for sample in verdicts.samples] == ["e2"]
