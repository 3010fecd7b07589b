"""Materialization metadata shown in the Dagster UI: the pure functions of orchestration.metadata on
hand-made tables, then the events of two real pipeline runs (first load; a late survey file with
new, updated and broken records), and the descriptions, owners and kinds of every asset."""

from __future__ import annotations

import json
import re

import dagster as dg
import duckdb
import pytest

from orchestration import metadata as md
from orchestration.settings import VocSettings

pytestmark = pytest.mark.dagster

DEMO_ROWS = 1500
DEMO_SEED = 23
PHONE = "13812345678"
EMAIL = "zhang.wei@example.com"
# A phone-shaped token or an e-mail address (as in test_end_to_end)
RAW_MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?![0-9A-Za-z])")
RAW_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
ALLOWED_KINDS = {"dlt", "dbt", "python"}


def _value(event_metadata, key):
    return event_metadata[key].value


# --- pure functions ------------------------------------------------------------------------------


@pytest.fixture
def con():
    with duckdb.connect() as connection:
        connection.execute("create schema raw")
        connection.execute("create schema marts")
        yield connection


def test_personal_columns_are_recognised_by_their_last_name_part():
    for column in ("respondent__phone", "requester__name", "name", "buyer_nick", "buyer_open_id",
                   "author__nickname", "members__unionid", "respondent__openid", "wechat_nickname"):
        assert md.is_personal_column(column), column
    for column in ("store_name", "product_name", "survey_name", "channel", "answers__comment", "response_id"):
        assert not md.is_personal_column(column), column


def test_cells_are_masked_blanked_escaped_and_cut():
    assert md.mask_cell("respondent__phone", PHONE) == md.REDACTED
    assert md.mask_cell("name", "张伟") == md.REDACTED
    comment = md.mask_cell("answers__comment", f"请打 {PHONE} 或发 {EMAIL}\n谢谢 | 好评")
    assert PHONE not in comment and EMAIL not in comment
    assert "138****5678" in comment and "[EMAIL]" in comment
    assert "\n" not in comment and "\\|" in comment
    assert len(md.mask_cell("text", "长" * 500)) == md.MAX_PREVIEW_CELL
    assert md.mask_cell("text", None) == ""


def test_preview_lists_the_first_rows_without_bookkeeping_columns(con):
    con.execute("create table raw.t (id varchar, phone varchar, note varchar, _dlt_id varchar, _voc_file varchar)")
    con.execute(
        "insert into raw.t select 'r' || i, '1391234567' || i, 'call 1391234567' || i, 'x', 'f' from range(8) t(i)"
    )
    preview = md.masked_preview(con, "raw", "t", order_by="id")
    lines = preview.splitlines()
    assert lines[0] == "| id | phone | note |"
    assert len(lines) == 2 + md.PREVIEW_ROWS
    assert not RAW_MOBILE.search(preview)
    assert md.masked_preview(con, "raw", "missing") == "_table does not exist yet_"


def test_dlt_resource_metadata_splits_new_and_updated_rows(con):
    con.execute("create table raw.surveys (response_id varchar, answers__comment varchar, _dlt_load_id varchar)")
    con.execute("create table raw.surveys_quarantine (file varchar, line bigint, _dlt_load_id varchar)")
    con.execute("insert into raw.surveys values ('a', 'ok', '1'), ('b', 'ok', '1'), ('c', 'ok', '1')")
    con.execute("insert into raw.surveys_quarantine values ('f1', 3, '1')")
    before = md.raw_counts_before_load(con, ["surveys"])
    # the second load replaces b (a new version) and adds d and e; one more line was rejected
    con.execute("delete from raw.surveys where response_id = 'b'")
    con.execute(f"insert into raw.surveys values ('b', '新手机 {PHONE}', '2'), ('d', 'ok', '2'), ('e', 'ok', '2')")
    con.execute("insert into raw.surveys_quarantine values ('f2', 1, '2')")

    meta = md.dlt_resource_metadata(
        con, table="surveys", family="surveys", rows_before=before["surveys"], load_ids=["2"]
    )
    assert _value(meta, md.ROW_COUNT_KEY) == 5
    assert _value(meta, "rows_loaded_this_run") == 3
    assert _value(meta, "new_rows_this_run") == 2
    assert _value(meta, "updated_rows_this_run") == 1
    assert _value(meta, "quarantined_rows_this_run") == 1
    assert _value(meta, "quarantined_rows_total") == 2
    assert PHONE not in _value(meta, "preview")

    nothing = md.dlt_resource_metadata(con, table="surveys", family="surveys", rows_before=5, load_ids=[])
    assert _value(nothing, "rows_loaded_this_run") == _value(nothing, "new_rows_this_run") == 0

    # counts before the load unreadable: no guessed split, the rest is still there
    unknown = md.dlt_resource_metadata(con, table="surveys", family="surveys", rows_before=None, load_ids=["2"])
    assert "new_rows_this_run" not in unknown and "updated_rows_this_run" not in unknown
    assert _value(unknown, "rows_loaded_this_run") == 3


def test_first_load_into_an_empty_warehouse(con):
    assert md.raw_counts_before_load(con, ["tickets"]) == {"tickets": 0}
    meta = md.dlt_resource_metadata(con, table="tickets", family="tickets", rows_before=0, load_ids=["1"])
    assert _value(meta, md.ROW_COUNT_KEY) == 0
    assert _value(meta, "quarantined_rows_total") == 0


def _feedback_table(con, rows):
    con.execute(
        "create or replace table marts.fct_feedback "
        "(feedback_id varchar, updated_at timestamp, tags varchar[], rating_nps int)"
    )
    con.executemany("insert into marts.fct_feedback values (?, ?, ?, ?)", rows)


def test_feedback_changes_against_the_keys_saved_before_the_build(con, tmp_path):
    _feedback_table(con, [("a", "2026-01-01", [], None), ("b", "2026-01-01", [], None)])
    keys = tmp_path / "keys.parquet"
    assert md.save_feedback_keys(con, keys)
    _feedback_table(con, [("a", "2026-01-01", [], None), ("b", "2026-02-01", [], None), ("c", "2026-02-01", [], None)])
    assert md.feedback_change_counts(con, keys) == {"new": 1, "updated": 1}
    assert md.feedback_change_counts(con, None) == {"new": 3, "updated": 0}


def test_feedback_keys_are_not_saved_before_the_first_build(con, tmp_path):
    assert not md.save_feedback_keys(con, tmp_path / "keys.parquet")


def test_top_tags_and_overall_nps(con):
    _feedback_table(
        con,
        [
            ("a", None, ["物流体验-时效性", "客户服务-服务态度"], 10),
            ("b", None, ["物流体验-时效性"], 9),
            ("c", None, ["产品质量-功能故障"], 3),
            ("d", None, [], 8),
            ("e", None, ["物流体验-时效性"], None),
        ],
    )
    assert md.top_tags(con, limit=2) == [("物流体验-时效性", 3), ("产品质量-功能故障", 1)]
    # 2 promoters, 1 passive, 1 detractor among 4 responses
    assert md.overall_nps(con) == (25.0, 4)
    con.execute("update marts.fct_feedback set rating_nps = null")
    assert md.overall_nps(con) == (None, 0)


def test_open_alerts_by_severity(con):
    con.execute("create table marts.alerts (alert_id varchar, severity varchar, status varchar)")
    con.execute("insert into marts.alerts values ('1', 'critical', 'open'), ('2', 'high', 'open'), ('3', 'high', 'closed')")
    assert md.open_alerts_by_severity(con) == {"critical": 1, "high": 1, "medium": 0}
    meta = md.alerts_metadata(con)
    assert _value(meta, "open_alerts_total") == 2
    assert _value(meta, md.ROW_COUNT_KEY) == 3


def test_dbt_views_and_tests_get_no_row_count(con):
    con.execute("create table marts.kpi_daily as select 1 as x")
    table = {"resource_type": "model", "schema": "marts", "alias": "kpi_daily", "name": "kpi_daily",
             "config": {"materialized": "table"}}
    assert _value(md.dbt_node_metadata(con, table), md.ROW_COUNT_KEY) == 1
    assert md.dbt_node_metadata(con, {**table, "config": {"materialized": "view"}}) == {}
    assert md.dbt_node_metadata(con, {**table, "resource_type": "test"}) == {}


# --- the events of real runs ---------------------------------------------------------------------


def _loaded_survey_record(settings: VocSettings) -> dict:
    """A landing survey record that the first run loaded into raw.surveys."""
    loaded = {row[0] for row in _query(settings, "select response_id from raw.surveys")}
    for path in sorted((settings.landing_dir / "surveys").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if record.get("response_id") in loaded and isinstance(record.get("answers"), dict):
                return record
    raise AssertionError("no loaded survey record in the landing jsonl files")


def _late_survey_file(settings: VocSettings) -> dict:
    """A late export: two new responses, a newer version of an existing one (its comment now
    holds a phone number and an e-mail) and a line that is not JSON. Returns what it contains."""
    landing = settings.landing_dir
    existing = _loaded_survey_record(settings)
    updated = {
        **existing,
        "updated_at": "2026-11-30T10:00:00+08:00",
        "answers": {**existing["answers"], "comment": f"改一下评价，电话 {PHONE}，邮箱 {EMAIL}"},
    }
    new = [
        {
            "response_id": f"R-META-{i}",
            "survey_id": "nps_post_purchase",
            "survey_name": "购后NPS调研",
            "submitted_at": "2026-11-29T10:00:00+08:00",
            "updated_at": "2026-11-29T10:00:00+08:00",
            "channel": "app",
            "respondent": {"member_id": None, "phone": PHONE, "unionid": None, "email": EMAIL},
            "answers": {"nps": 10, "csat": 5, "ces": 2, "comment": f"物流很快，有事打 {PHONE}"},
            "store_id": None,
            "product_sku": None,
            "order_id": None,
        }
        for i in range(2)
    ]
    lines = [json.dumps(record, ensure_ascii=False) for record in [*new, updated]] + ["{this line is not json"]
    (landing / "surveys" / "zz_meta_late_export.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"updated_id": existing["response_id"], "new": 2, "updated": 1, "quarantined": 1}


def _latest_metadata(instance: dg.DagsterInstance, *path: str) -> dict:
    event = instance.get_latest_materialization_event(dg.AssetKey(list(path)))
    assert event is not None, path
    return dict(event.asset_materialization.metadata)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, dbt_manifest, restore_environ):
    """Two runs on one warehouse; the metadata of the first run's events is kept before the second."""
    from devtools.demo.api import generate
    from orchestration.pipeline_run import run_everything

    root = tmp_path_factory.mktemp("voc_metadata")
    settings = VocSettings(landing_dir=root / "landing", warehouse_path=root / "warehouse" / "voc.duckdb")
    generate(settings.landing_dir, rows=DEMO_ROWS, seed=DEMO_SEED)
    instance = dg.DagsterInstance.ephemeral()
    first = run_everything(settings, instance=instance, log_level="WARNING")
    assert first.success, [e.message for e in first.all_events if e.is_step_failure]
    first_run = {
        key: _latest_metadata(instance, *key)
        for key in (("raw", "surveys"), ("raw", "tickets"), ("marts", "fct_feedback"))
    }
    late = _late_survey_file(settings)
    second = run_everything(settings, instance=instance, log_level="WARNING")
    assert second.success, [e.message for e in second.all_events if e.is_step_failure]
    return settings, instance, first_run, late


def _query(settings: VocSettings, sql: str):
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def _assert_no_personal_data(text: str) -> None:
    assert not RAW_MOBILE.search(text), text
    assert not RAW_EMAIL.search(text), text


@pytest.mark.e2e
def test_first_load_counts_every_row_as_new(runs):
    settings, _, first_run, _ = runs
    surveys = first_run[("raw", "surveys")]
    # counts as of the first run: the late file's 2 new responses came later
    total = _query(settings, "select count(*) from raw.surveys")[0][0] - 2
    assert _value(surveys, md.ROW_COUNT_KEY) == total
    assert _value(surveys, "rows_loaded_this_run") == _value(surveys, "new_rows_this_run") == total
    assert _value(surveys, "updated_rows_this_run") == 0
    assert _value(surveys, "quarantined_rows_this_run") == _value(surveys, "quarantined_rows_total") > 0
    feedback = first_run[("marts", "fct_feedback")]
    assert _value(feedback, "new_rows_this_run") == _value(feedback, md.ROW_COUNT_KEY)


@pytest.mark.e2e
def test_late_file_shows_new_updated_and_quarantined_surveys(runs):
    settings, instance, first_run, late = runs
    surveys = _latest_metadata(instance, "raw", "surveys")
    assert _value(surveys, "new_rows_this_run") == late["new"]
    assert _value(surveys, "updated_rows_this_run") == late["updated"]
    assert _value(surveys, "rows_loaded_this_run") == late["new"] + late["updated"]
    assert _value(surveys, "quarantined_rows_this_run") == late["quarantined"]
    assert _value(surveys, "quarantined_rows_total") == _query(settings, "select count(*) from raw.surveys_quarantine")[0][0]
    assert _value(surveys, md.ROW_COUNT_KEY) == _query(settings, "select count(*) from raw.surveys")[0][0]
    assert _value(surveys, "quarantined_rows_total") == _value(first_run[("raw", "surveys")], "quarantined_rows_total") + 1
    preview = _value(surveys, "preview")
    assert preview.startswith("| response_id |") and len(preview.splitlines()) == 2 + md.PREVIEW_ROWS
    _assert_no_personal_data(preview)

    # tickets had no new file: the run loaded nothing, and says so
    tickets = _latest_metadata(instance, "raw", "tickets")
    assert _value(tickets, "rows_loaded_this_run") == _value(tickets, "quarantined_rows_this_run") == 0
    assert _value(tickets, md.ROW_COUNT_KEY) == _value(first_run[("raw", "tickets")], md.ROW_COUNT_KEY)


@pytest.mark.e2e
def test_no_raw_personal_data_in_any_raw_preview(runs):
    settings, instance, *_ = runs
    from orchestration.assets.ingestion import RESOURCES_BY_FAMILY

    for resources in RESOURCES_BY_FAMILY.values():
        for resource in resources:
            _assert_no_personal_data(_value(_latest_metadata(instance, "raw", resource), "preview"))


@pytest.mark.e2e
def test_fct_feedback_event_has_counts_tags_nps_and_a_masked_preview(runs):
    settings, instance, _, late = runs
    feedback = _latest_metadata(instance, "marts", "fct_feedback")
    assert _value(feedback, md.ROW_COUNT_KEY) == _query(settings, "select count(*) from marts.fct_feedback")[0][0]
    assert _value(feedback, "new_rows_this_run") == late["new"]
    assert _value(feedback, "updated_rows_this_run") == late["updated"]

    # top tags recomputed in Python from the mart
    counts: dict[str, int] = {}
    for (tags,) in _query(settings, "select tags from marts.fct_feedback"):
        for tag in tags:
            counts[tag] = counts.get(tag, 0) + 1
    expected = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[: md.TOP_TAGS]
    table_rows = _value(feedback, "top_tags").splitlines()[2:]
    assert table_rows == [f"| {tag} | {n} |" for tag, n in expected]

    ratings = [r for (r,) in _query(settings, "select rating_nps from marts.fct_feedback where rating_nps is not null")]
    promoters, detractors = sum(r >= 9 for r in ratings), sum(r <= 6 for r in ratings)
    assert _value(feedback, "nps_overall") == pytest.approx(100 * (promoters - detractors) / len(ratings), abs=0.05)
    assert _value(feedback, "nps_responses") == len(ratings)

    preview = _value(feedback, "preview")
    assert preview.splitlines()[0] == "| " + " | ".join(md.FEEDBACK_PREVIEW_COLUMNS) + " |"
    # the newest feedback first: the late responses (whose comments hold a phone) are in it, masked
    assert "survey:R-META-" in preview
    _assert_no_personal_data(preview)


@pytest.mark.e2e
def test_alerts_event_has_open_alerts_by_severity(runs):
    settings, instance, *_ = runs
    alerts = _latest_metadata(instance, "marts", "alerts")
    open_by_severity = dict(
        _query(settings, "select severity, count(*) from marts.alerts where status = 'open' group by 1")
    )
    for severity in md.ALERT_SEVERITIES:
        assert _value(alerts, f"open_alerts_{severity}") == open_by_severity.get(severity, 0)
    assert _value(alerts, "open_alerts_total") == sum(open_by_severity.values())


@pytest.mark.e2e
def test_dbt_tables_carry_row_counts_and_views_do_not(runs):
    settings, instance, *_ = runs
    kpi_daily = _latest_metadata(instance, "marts", "kpi_daily")
    assert _value(kpi_daily, md.ROW_COUNT_KEY) == _query(settings, "select count(*) from marts.kpi_daily")[0][0]
    seed = _latest_metadata(instance, "seeds", "taxonomy")
    assert _value(seed, md.ROW_COUNT_KEY) == _query(settings, "select count(*) from seeds.taxonomy")[0][0]
    assert md.ROW_COUNT_KEY not in _latest_metadata(instance, "staging", "stg_surveys__responses")


# --- every asset explains itself -----------------------------------------------------------------


@pytest.mark.dbt
def test_every_asset_has_a_description_owner_and_kinds(dbt_manifest):
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = [key for key in graph.get_all_asset_keys() if graph.get(key).is_materializable]
    assert len(keys) > 40
    for key in keys:
        node = graph.get(key)
        name = key.to_user_string()
        # dagster-dbt falls back to "dbt model <name>" when the dbt yml has no description
        assert node.description and not node.description.startswith("dbt "), name
        assert node.owners, name
        assert "duckdb" in node.kinds, name
        assert node.kinds & ALLOWED_KINDS, (name, node.kinds)
    assert graph.get(dg.AssetKey(["raw", "surveys"])).kinds >= {"dlt", "duckdb"}
    assert graph.get(dg.AssetKey(["marts", "fct_feedback"])).kinds >= {"dbt", "duckdb"}
    assert "python" in graph.get(dg.AssetKey(["ops", "alert_deliveries"])).kinds
