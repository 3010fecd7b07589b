"""Alert delivery: robot message formats, once-only delivery across restarts, retries, failures."""

from datetime import datetime, timezone

import dagster as dg
import duckdb
import pytest
from webhook_receiver import WebhookReceiver

from orchestration.alerts.assets import alert_deliveries
from orchestration.alerts.delivery import deliver_new_alerts
from orchestration.alerts.messages import webhook_payload
from orchestration.alerts.routes import Webhook, load_routes, routes_from_rows, webhook_url_variable
from orchestration.alerts.senders import SendResult, make_http_sender
from orchestration.resources import VocWarehouse

pytestmark = pytest.mark.dagster

ALERTS_DDL = """
create schema marts;
create table marts.alerts (
    alert_id varchar primary key, alert_type varchar, severity varchar,
    raised_at timestamp with time zone, first_raised_at timestamp with time zone,
    one_id varchar, tag varchar, store_id varchar, product_sku varchar,
    evidence_feedback_ids varchar[], route_to varchar, status varchar, detail varchar
);
create schema seeds;
create table seeds.alert_webhooks (route_to varchar, webhook varchar, format varchar, description varchar);
insert into seeds.alert_webhooks values
    ('大客户服务部', 'vip_service', 'wecom', ''),
    ('质量部', 'quality', 'dingtalk', ''),
    ('*', 'default', 'json', '');
"""
ALERTS = [
    ("a1", "vip_negative", "high", "2026-11-01 10:00:00+08", "C1", "售后服务-退换货", "SH001", None, ["F1"], "大客户服务部", "客户 *** 很生气"),
    ("a2", "defect_burst", "high", "2026-11-02 10:00:00+08", None, "产品质量-故障", None, "SKU-1", ["F2", "F3"], "质量部", "5 items from 2 sources"),
    ("a3", "tag_spike", "medium", "2026-11-03 10:00:00+08", None, "物流体验-时效性", None, None, ["F4"], "物流部", "peak volume 40"),
]
FAST = dict(timeout_seconds=2, max_attempts=3, backoff_seconds=0.01)


def _insert_alerts(con, alerts):
    for alert_id, kind, severity, raised, one_id, tag, store, sku, evidence, route, detail in alerts:
        con.execute(
            "insert into marts.alerts values (?, ?, ?, ?::timestamptz, now(), ?, ?, ?, ?, ?, ?, 'open', ?)",
            [alert_id, kind, severity, raised, one_id, tag, store, sku, evidence, route, detail],
        )


@pytest.fixture
def receiver():
    server = WebhookReceiver()
    yield server
    server.stop()


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "voc.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(ALERTS_DDL)
        _insert_alerts(con, ALERTS)
    return path


@pytest.fixture
def environ(receiver):
    return {
        webhook_url_variable("vip_service"): receiver.url("/wecom"),
        webhook_url_variable("quality"): receiver.url("/dingtalk"),
        webhook_url_variable("default"): receiver.url("/json"),
    }


def _deliver(warehouse, environ, send=None):
    with duckdb.connect(str(warehouse)) as con:
        return deliver_new_alerts(con, load_routes(con, environ), send or make_http_sender(**FAST))


def _log(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            row[0]: row[1:]
            for row in con.execute("select alert_id, webhook, status, attempts from ops.alert_deliveries").fetchall()
        }


def test_payload_formats_match_the_robot_apis():
    alert = {"alert_id": "a1", "alert_type": "vip_negative", "severity": "high", "route_to": "大客户服务部",
             "raised_at": datetime(2026, 11, 1, 2, tzinfo=timezone.utc), "evidence_feedback_ids": ["F1", "F2"]}
    wecom = webhook_payload("wecom", alert)
    assert set(wecom) == {"msgtype", "markdown"} and wecom["msgtype"] == "markdown"
    assert set(wecom["markdown"]) == {"content"} and "VIP 客户负面反馈" in wecom["markdown"]["content"]
    ding = webhook_payload("dingtalk", alert)
    assert ding["msgtype"] == "markdown" and set(ding["markdown"]) == {"title", "text"}
    assert ding["markdown"]["title"] == "[HIGH] VIP 客户负面反馈" and "F1, F2" in ding["markdown"]["text"]
    plain = webhook_payload("json", alert)
    assert plain["alert"]["raised_at"] == "2026-11-01T02:00:00+00:00" and plain["alert"]["evidence_feedback_ids"] == ["F1", "F2"]


def test_routes_take_urls_from_the_environment_and_fall_back_to_the_catch_all():
    routes = routes_from_rows([("质量部", "quality", "DingTalk"), ("*", "default", "json")], {"VOC_ALERT_WEBHOOK_QUALITY": "http://q"})
    assert routes["质量部"] == Webhook("quality", "dingtalk", "http://q")
    assert routes["*"].url is None
    with pytest.raises(ValueError):
        Webhook("x", "email")


def test_each_alert_goes_once_to_its_routes_webhook_in_its_format(warehouse, environ, receiver):
    report = _deliver(warehouse, environ)
    assert sorted(report.delivered) == ["a1", "a2", "a3"] and not report.failed
    assert [p["msgtype"] for p in receiver.posts["/wecom"]] == ["markdown"]
    assert "content" in receiver.posts["/wecom"][0]["markdown"]
    assert "产品缺陷集中爆发" in receiver.posts["/dingtalk"][0]["markdown"]["title"]
    assert [p["alert"]["alert_id"] for p in receiver.posts["/json"]] == ["a3"]  # 物流部 has no own route
    assert _log(warehouse) == {"a1": ("vip_service", "delivered", 1), "a2": ("quality", "delivered", 1), "a3": ("default", "delivered", 1)}


def test_nothing_is_sent_twice_across_restarts_and_new_alerts_still_go(warehouse, environ, receiver):
    _deliver(warehouse, environ)
    again = _deliver(warehouse, environ)  # a new connection, as after a restart
    assert again.delivered == [] and sum(len(p) for p in receiver.posts.values()) == 3
    with duckdb.connect(str(warehouse)) as con:
        _insert_alerts(con, [("a4", "safety_risk", "critical", "2026-11-04 10:00:00+08", "C9", "安全-过敏", None, None, ["F9"], "大客户服务部", "过敏")])
    assert _deliver(warehouse, environ).delivered == ["a4"]
    assert len(receiver.posts["/wecom"]) == 2


def test_transient_errors_are_retried_and_a_persistent_failure_is_recorded_then_retried(warehouse, environ, receiver):
    receiver.fail_next["/wecom"] = 2  # two 500s, then fine: the sender's retries absorb them
    receiver.fail_next["/dingtalk"] = 100  # down for good in this pass
    report = _deliver(warehouse, environ)
    assert sorted(report.delivered) == ["a1", "a3"]
    assert [(alert_id, hook) for alert_id, hook, _ in report.failed] == [("a2", "quality")]
    assert receiver.attempts["/wecom"] == 3 and len(receiver.posts["/wecom"]) == 1
    assert _log(warehouse)["a2"] == ("quality", "failed", 1)
    receiver.fail_next["/dingtalk"] = 0
    assert _deliver(warehouse, environ).delivered == ["a2"]
    assert _log(warehouse)["a2"] == ("quality", "delivered", 2)
    assert len(receiver.posts["/dingtalk"]) == 1


def test_a_robot_errcode_is_a_failure(warehouse, environ, receiver):
    receiver.robot_error["/wecom"] = 93000
    report = _deliver(warehouse, environ)
    assert report.failed and report.failed[0][:2] == ("a1", "vip_service") and "93000" in report.failed[0][2]


def test_routes_without_a_url_wait_until_one_is_configured(warehouse, environ, receiver):
    partial = {k: v for k, v in environ.items() if "DEFAULT" not in k}
    report = _deliver(warehouse, partial)
    assert report.waiting == {"物流部": 1} and "a3" not in _log(warehouse)
    assert _deliver(warehouse, environ).delivered == ["a3"]


def test_an_interrupted_send_is_not_resent_but_reported(warehouse, environ, receiver):
    def crash_after_marking(url, payload):
        raise KeyboardInterrupt  # the process dies while the POST is in flight

    with pytest.raises(KeyboardInterrupt):
        _deliver(warehouse, environ, send=crash_after_marking)
    report = _deliver(warehouse, environ)
    assert report.interrupted == 1 and "a1" not in report.delivered
    assert _log(warehouse)["a1"][1] == "sending"


def test_delivery_skips_cleanly_when_the_alerts_mart_is_missing(tmp_path, environ):
    path = tmp_path / "empty.duckdb"
    with duckdb.connect(str(path)) as con:
        report = deliver_new_alerts(con, {}, lambda url, payload: SendResult(True))
        tables = con.execute("select count(*) from information_schema.tables where table_schema = 'ops'").fetchall()
    assert "marts.alerts does not exist" in report.skipped_reason and tables == [(0,)]


def test_the_asset_records_deliveries_and_fails_visibly(warehouse, environ, receiver, tmp_path):
    from orchestration.settings import VocSettings

    settings = VocSettings.from_env({"VOC_LANDING_DIR": str(tmp_path), "VOC_DUCKDB_PATH": str(warehouse), **environ})
    resource = VocWarehouse.from_settings(settings)
    receiver.fail_next["/json"] = 100
    with pytest.raises(dg.Failure) as failure:
        alert_deliveries(context=dg.build_asset_context(), warehouse=resource, settings=settings)
    assert "a3 -> default" in failure.value.description
    receiver.fail_next["/json"] = 0
    result = alert_deliveries(context=dg.build_asset_context(), warehouse=resource, settings=settings)
    assert result.metadata["delivered"] == 1 and result.metadata["failed"] == 0
