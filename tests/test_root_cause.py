"""The root-cause marts against the demo generator's planted signals (docs/root-cause.md).

Reads the session's demo warehouse (conftest: 2,500 rows, seed 11), whose manifest records the
planted problems under scenarios.root_cause_signals: one local to a store, one nationwide, one
in the evening peak tied to a promotion tag. A last test runs the pipeline on data generated
without any planted signal and asserts that no spike is called local.
"""

from __future__ import annotations

import json
from datetime import date

import dagster as dg
import duckdb
import pytest

from orchestration.settings import VocSettings

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def signals(demo_warehouse) -> dict:
    manifest = json.loads((demo_warehouse.landing_dir / "_truth" / "manifest.json").read_text(encoding="utf-8"))
    return manifest["scenarios"]["root_cause_signals"]


@pytest.fixture(scope="module")
def query(demo_warehouse):
    connection = duckdb.connect(str(demo_warehouse.warehouse_path), read_only=True)

    def run(sql: str, params=None) -> list[dict]:
        cursor = connection.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    yield run
    connection.close()


def _verdict(query, episode_key: str) -> dict:
    rows = query("select * from marts.root_cause_verdicts where episode_key = ?", [episode_key])
    assert len(rows) == 1, f"no episode {episode_key}"
    return rows[0]


def test_the_problem_local_to_one_store_is_local_and_names_the_store(query, signals):
    planted = signals["local_store_problem"]
    verdict = _verdict(query, f"tag_week|{planted['tag']}|{planted['week_start']}")
    assert verdict["is_spike"]
    assert verdict["verdict"] == "local", verdict
    assert (verdict["local_dimension"], verdict["local_cells"]) == ("store", planted["store_id"]), verdict
    assert verdict["local_share_of_excess"] >= 0.6 and verdict["local_max_q_value"] <= 0.05
    assert verdict["verdict_text"].startswith(f"集中在 {planted['store_id']}：占超额 ")
    named = query("select dimension_value, is_significant from marts.root_cause "
                  "where episode_key = ? and is_local_cell", [verdict["episode_key"]])
    assert named == [{"dimension_value": planted["store_id"], "is_significant": True}]


def test_the_nationwide_problem_is_nationwide(query, signals):
    planted = signals["nationwide_problem"]
    spikes = query(
        "select * from marts.root_cause_verdicts where episode_type = 'tag_spike' and tag = ? and period_end >= ?",
        [planted["tag"], date.fromisoformat(planted["from"])],
    )
    assert spikes, "the planted logistics spike raised no tag_spike"
    for spike in spikes:
        assert spike["verdict"] == "nationwide", spike
        assert spike["verdict_text"] == "全国性"
        assert spike["excess_total"] > 0 and spike["local_cells"] is None


def test_the_evening_promotion_problem_is_local_to_its_hours_or_promotion_tag(query, signals):
    planted = signals["evening_promotion_problem"]
    verdict = _verdict(query, f"tag_week|{planted['tag']}|{planted['week_start']}")
    assert verdict["verdict"] == "local", verdict
    named = query("select dimension, dimension_value from marts.root_cause where episode_key = ? and is_local_cell",
                  [verdict["episode_key"]])
    evening = {str(hour) for hour in planted["hours"]}
    assert named and all(
        (row["dimension"] == "co_tag" and row["dimension_value"] == planted["co_tag"])
        or (row["dimension"] == "hour" and row["dimension_value"] in evening)
        for row in named
    ), named
    # every significant hour of the episode is an evening hour
    hours = query("select dimension_value from marts.root_cause where episode_key = ? and dimension = 'hour' "
                  "and is_significant", [verdict["episode_key"]])
    assert {row["dimension_value"] for row in hours} <= evening


def test_every_spike_and_burst_alert_has_its_episode_and_carries_the_verdict(query):
    alerts = query(
        "select alerts.alert_id, alerts.alert_type, alerts.detail, verdicts.verdict_text "
        "from marts.alerts left join marts.root_cause_verdicts as verdicts on verdicts.alert_id = alerts.alert_id "
        "where alerts.alert_type in ('tag_spike', 'defect_burst')"
    )
    assert alerts
    for alert in alerts:
        assert alert["verdict_text"] is not None, alert  # the episode's islands match the alert's
        assert alert["detail"].endswith("；" + alert["verdict_text"]), alert
    episodes = query("select count(*) as n from marts.root_cause_verdicts where alert_id is not null")
    assert episodes[0]["n"] == len(alerts)


def test_cells_are_consistent_with_their_episode(query):
    broken = query(
        """
        select cells.episode_key, cells.dimension, cells.dimension_value
        from marts.root_cause as cells
        inner join marts.root_cause_verdicts as verdicts on verdicts.episode_key = cells.episode_key
        where cells.observed > cells.tag_total
            or cells.q_value < cells.p_value - 1e-12
            or abs(cells.expected - cells.expected_share * cells.tag_total) > 1e-9
            or abs(cells.excess - (cells.observed - cells.expected)) > 1e-9
            or (cells.is_local_cell and not cells.is_significant)
            or cells.verdict <> verdicts.verdict
            or cells.tag_total <> verdicts.tag_total
        """
    )
    assert broken == []
    # every tag's every week is an episode
    weeks = query("select count(*) as n from marts.tag_trends where period_type = 'week'")[0]["n"]
    episodes = query("select count(*) as n from marts.root_cause_verdicts where episode_type = 'tag_week'")[0]["n"]
    assert weeks == episodes


def test_data_without_planted_signals_yields_no_local_verdict(tmp_path):
    """One seed of demo data with plant_signals=False: no spike may be called local (the figure
    over five seeds is measured by devtools/root_cause_false_alarms.py, docs/root-cause.md)."""
    from devtools.demo.api import generate
    from orchestration.pipeline_run import run_everything

    settings = VocSettings(landing_dir=tmp_path / "landing", warehouse_path=tmp_path / "warehouse" / "voc.duckdb")
    generate(settings.landing_dir, rows=2500, seed=5, plant_signals=False)
    result = run_everything(settings, instance=dg.DagsterInstance.ephemeral(), log_level="WARNING")
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        local = connection.execute(
            "select episode_key, local_cells from marts.root_cause_verdicts where verdict = 'local'").fetchall()
        weeks = connection.execute(
            "select count(*) from marts.root_cause_verdicts where episode_type = 'tag_week'").fetchone()[0]
    assert weeks > 0
    assert local == []
