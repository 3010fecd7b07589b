"""Alert delivery: robot message formats, at-most-once to chat robots, retries only where they
are safe, unknown outcomes resolved by `voc alerts`, circuit breaker and deadline, and no secret
in any error, table, log, Dagster event or outgoing body. Real local HTTP servers, no HTTP mocks."""

import time
from datetime import datetime, timedelta, timezone

import dagster as dg
import duckdb
import pytest
from click.testing import CliRunner
from webhook_receiver import Blackhole, WebhookReceiver, closed_port_url

from orchestration.alerts.assets import alert_deliveries
from orchestration.alerts.delivery import deliver_new_alerts
from orchestration.alerts.messages import webhook_payload
from orchestration.alerts.policy import DeliveryPolicy
from orchestration.alerts.routes import Webhook, load_routes, routes_from_rows, webhook_url_variable
from orchestration.alerts.senders import Poster
from orchestration.cli import main as voc
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
FAST = DeliveryPolicy(connect_timeout_seconds=1, read_timeout_seconds=0.5, max_attempts=3, backoff_seconds=0.01, deadline_seconds=20)
FAST_ENV = {  # the same policy through the settings
    "VOC_ALERT_CONNECT_TIMEOUT_SECONDS": "1",
    "VOC_ALERT_READ_TIMEOUT_SECONDS": "0.5",
    "VOC_ALERT_DELIVERY_DEADLINE_SECONDS": "20",
}


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


def _deliver(warehouse, environ, policy=FAST, **options):
    with duckdb.connect(str(warehouse)) as con:
        return deliver_new_alerts(con, load_routes(con, environ), Poster(policy), **options)


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
    assert sorted(report.delivered) == ["a1", "a2", "a3"] and not report.trouble
    assert [p["msgtype"] for p in receiver.posts["/wecom"]] == ["markdown"]
    assert "content" in receiver.posts["/wecom"][0]["markdown"]
    assert "产品缺陷集中爆发" in receiver.posts["/dingtalk"][0]["markdown"]["title"]
    assert [p["alert"]["alert_id"] for p in receiver.posts["/json"]] == ["a3"]  # 物流部 has no own route
    assert _log(warehouse) == {"a1": ("vip_service", "delivered", 1), "a2": ("quality", "delivered", 1), "a3": ("default", "delivered", 1)}
    # only the JSON webhook gets an Idempotency-Key (the alert id); robots would not use it
    assert receiver.received["/json"][0][0].get("Idempotency-Key") == "a3"
    assert "Idempotency-Key" not in receiver.received["/wecom"][0][0]


def test_nothing_is_sent_twice_across_restarts_and_new_alerts_still_go(warehouse, environ, receiver):
    _deliver(warehouse, environ)
    again = _deliver(warehouse, environ)  # a new connection, as after a restart
    assert again.delivered == [] and sum(len(p) for p in receiver.posts.values()) == 3
    with duckdb.connect(str(warehouse)) as con:
        _insert_alerts(con, [("a4", "safety_risk", "critical", "2026-11-04 10:00:00+08", "C9", "安全-过敏", None, None, ["F9"], "大客户服务部", "过敏")])
    assert _deliver(warehouse, environ).delivered == ["a4"]
    assert len(receiver.posts["/wecom"]) == 2


def _cli(environ, warehouse, *args):
    env = {"VOC_DUCKDB_PATH": str(warehouse), "VOC_LANDING_DIR": str(warehouse.parent), **environ}
    return CliRunner().invoke(voc, ["alerts", *args], env=env, catch_exceptions=False)


def _assert_unknown_then_resolved(warehouse, environ, receiver, path, alert_id, resolve):
    """After one pass left ``alert_id`` unknown: the next pass does not resend it but reports it,
    `voc alerts list` shows it, and ``resolve`` (resend / mark-delivered) settles it."""
    received = len(receiver.received[path])
    assert _log(warehouse)[alert_id][1] == "unknown"
    later = _deliver(warehouse, environ)
    assert len(receiver.received[path]) == received  # not resent by the next run
    assert [a for a, _, _ in later.unknown_open] == [alert_id] and later.metadata()["unknown_outcome_open"] == 1
    listed = _cli(environ, warehouse, "list")
    assert listed.exit_code == 0 and f"unknown  {alert_id}" in listed.output and "mark-delivered" in listed.output
    receiver.slow.pop(path, None)
    receiver.drop.pop(path, None)
    if resolve == "resend":
        result = _cli(environ, warehouse, "resend", alert_id)
        assert result.exit_code == 0, result.output
        assert len(receiver.received[path]) == received + 1
    else:
        result = _cli(environ, warehouse, "mark-delivered", alert_id)
        assert result.exit_code == 0, result.output
        assert len(receiver.received[path]) == received
    assert _log(warehouse)[alert_id][1] == "delivered"
    assert _deliver(warehouse, environ).unknown_open == []
    assert len(receiver.received[path]) == received + (resolve == "resend")
    assert _cli(environ, warehouse, "mark-delivered", alert_id).exit_code == 2  # already delivered


@pytest.mark.parametrize("resolve", ["resend", "mark-delivered"])
def test_a_robot_slower_than_the_timeout_gets_the_alert_at_most_once(warehouse, environ, receiver, resolve):
    receiver.slow["/wecom"] = 1.5  # reads the alert, answers after the 0.5 s read timeout
    report = _deliver(warehouse, environ)
    assert len(receiver.received["/wecom"]) == 1  # no retry of an unknown outcome
    assert [(a, h) for a, h, _ in report.unknown_now] == [("a1", "vip_service")]
    assert "ReadTimeout" in report.unknown_now[0][2] and report.trouble
    assert sorted(report.delivered) == ["a2", "a3"]
    _assert_unknown_then_resolved(warehouse, environ, receiver, "/wecom", "a1", resolve)


@pytest.mark.parametrize("resolve", ["resend", "mark-delivered"])
def test_a_robot_that_drops_the_connection_after_reading_gets_the_alert_at_most_once(warehouse, environ, receiver, resolve):
    receiver.drop["/dingtalk"] = True
    report = _deliver(warehouse, environ)
    assert len(receiver.received["/dingtalk"]) == 1
    assert [(a, h) for a, h, _ in report.unknown_now] == [("a2", "quality")]
    _assert_unknown_then_resolved(warehouse, environ, receiver, "/dingtalk", "a2", resolve)


def test_a_robots_5xx_is_an_unknown_outcome_and_not_retried(warehouse, environ, receiver):
    receiver.fail_next["/wecom"] = 5
    report = _deliver(warehouse, environ)
    assert receiver.attempts["/wecom"] == 1 and _log(warehouse)["a1"][1] == "unknown"
    assert "HTTP 500" in report.unknown_now[0][2]


def test_a_kill_between_commit_and_post_becomes_unknown_after_the_bound(warehouse, environ, receiver):
    def crash(alert):
        if alert["alert_id"] == "a1":
            raise KeyboardInterrupt  # the process dies after 'sending' is committed, before the POST

    with pytest.raises(KeyboardInterrupt):
        _deliver(warehouse, environ, before_post=crash)
    assert _log(warehouse)["a1"][1] == "sending"
    soon = _deliver(warehouse, environ)  # within the bound: still in flight, not resent
    assert soon.in_flight == 1 and "a1" not in soon.delivered and "/wecom" not in receiver.received
    later = _deliver(warehouse, environ, clock=lambda: datetime.now(timezone.utc) + timedelta(seconds=FAST.sending_stale_seconds + 1))
    assert _log(warehouse)["a1"][1] == "unknown" and "/wecom" not in receiver.received  # not lost, not resent
    assert [a for a, _, _ in later.unknown_open] == ["a1"]
    assert _cli(environ, warehouse, "resend", "a1").exit_code == 0
    assert len(receiver.received["/wecom"]) == 1 and _log(warehouse)["a1"][1] == "delivered"


def test_a_kill_mid_send_of_a_json_webhook_is_resent_with_the_same_key(warehouse, environ, receiver):
    with pytest.raises(KeyboardInterrupt):
        _deliver(warehouse, environ, before_post=lambda alert: (_ for _ in ()).throw(KeyboardInterrupt) if alert["alert_id"] == "a3" else None)
    assert _log(warehouse)["a3"][1] == "sending"
    # past the bound a JSON webhook's interrupted row is failed, so the same pass resends it
    later = _deliver(warehouse, environ, clock=lambda: datetime.now(timezone.utc) + timedelta(hours=1))
    assert later.delivered == ["a3"] and not later.unknown_open
    assert [h["Idempotency-Key"] for h, _ in receiver.received["/json"]] == ["a3"]


def test_a_json_webhook_is_retried_with_the_same_idempotency_key(warehouse, environ, receiver):
    receiver.fail_next["/json"] = 2  # two 500s, then fine
    report = _deliver(warehouse, environ)
    assert "a3" in report.delivered and len(receiver.posts["/json"]) == 1
    assert [h["Idempotency-Key"] for h, _ in receiver.received["/json"]] == ["a3", "a3", "a3"]
    assert _log(warehouse)["a3"] == ("default", "delivered", 3)


def test_a_slow_json_webhook_is_retried_then_failed_and_tried_again_next_run(warehouse, environ, receiver):
    receiver.slow["/json"] = 1.0
    report = _deliver(warehouse, environ)
    assert [(a, h) for a, h, _ in report.failed] == [("a3", "default")] and not report.unknown_now
    assert [h["Idempotency-Key"] for h, _ in receiver.received["/json"]] == ["a3"] * FAST.max_attempts
    receiver.slow.pop("/json")
    assert _deliver(warehouse, environ).delivered == ["a3"]
    assert {h["Idempotency-Key"] for h, _ in receiver.received["/json"]} == {"a3"}


@pytest.mark.parametrize(("path", "errcode"), [("/wecom", 45009), ("/dingtalk", 130101)])
def test_a_robots_rate_limit_errcode_is_retried(warehouse, environ, receiver, path, errcode):
    receiver.robot_error[path] = errcode
    receiver.robot_error_next[path] = 2  # rate limited twice, then accepted
    report = _deliver(warehouse, environ)
    assert not report.trouble and len(receiver.received[path]) == 3 and len(receiver.posts[path]) == 1


def test_429_is_retried_and_a_lasting_rate_limit_leaves_the_alert_pending(warehouse, environ, receiver):
    receiver.fail_status = 429
    receiver.fail_next["/wecom"] = 100
    report = _deliver(warehouse, environ)
    assert receiver.attempts["/wecom"] == FAST.max_attempts and _log(warehouse)["a1"][1] == "pending"
    assert [(a, h) for a, h, _ in report.pending] == [("a1", "vip_service")] and "HTTP 429" in report.pending[0][2]
    receiver.fail_next["/wecom"] = 0
    assert _deliver(warehouse, environ).delivered == ["a1"]


def test_a_robot_errcode_is_a_refusal_tried_again_next_run(warehouse, environ, receiver):
    receiver.robot_error["/wecom"] = 93000
    report = _deliver(warehouse, environ)
    assert [(a, h) for a, h, _ in report.failed] == [("a1", "vip_service")] and "93000" in report.failed[0][2]
    assert receiver.attempts["/wecom"] == 1  # a refusal is not retried within the pass
    del receiver.robot_error["/wecom"]
    assert _deliver(warehouse, environ).delivered == ["a1"]


def test_routes_without_a_url_wait_until_one_is_configured(warehouse, environ, receiver):
    partial = {k: v for k, v in environ.items() if "DEFAULT" not in k}
    report = _deliver(warehouse, partial)
    assert report.waiting == {"物流部": 1} and "a3" not in _log(warehouse)
    assert _deliver(warehouse, environ).delivered == ["a3"]


def test_delivery_skips_cleanly_when_the_alerts_mart_is_missing(tmp_path):
    path = tmp_path / "empty.duckdb"
    with duckdb.connect(str(path)) as con:
        report = deliver_new_alerts(con, {}, Poster(FAST))
        tables = con.execute("select count(*) from information_schema.tables where table_schema = 'ops'").fetchall()
    assert "marts.alerts does not exist" in report.skipped_reason and tables == [(0,)]


def test_a_table_made_by_the_previous_version_keeps_working(warehouse, environ, receiver):
    with duckdb.connect(str(warehouse)) as con:  # the old schema, with an old 'failed' row
        con.execute("""
            create schema ops;
            create table ops.alert_deliveries (
                alert_id varchar not null, webhook varchar not null, route_to varchar, format varchar,
                status varchar not null, attempts integer not null, http_status integer, last_error varchar,
                first_attempt_at timestamptz, last_attempt_at timestamptz, delivered_at timestamptz,
                primary key (alert_id, webhook));
            insert into ops.alert_deliveries values
                ('a1', 'vip_service', '大客户服务部', 'wecom', 'failed', 4, 500, 'old', now(), now(), null),
                ('a2', 'quality', '质量部', 'dingtalk', 'failed', 4, null,
                 'ConnectionError: HTTPSConnectionPool(host=''oapi.dingtalk.com'', port=443): Max retries exceeded with url: /robot/send?access_token=old-secret-77', now(), now(), null);
        """)
    receiver.robot_error["/dingtalk"] = 93000  # a2 stays failed: its old error text is rewritten all the same
    assert sorted(_deliver(warehouse, environ).delivered) == ["a1", "a3"]
    assert _log(warehouse)["a1"] == ("vip_service", "delivered", 5)
    old_errors = {  # what the previous sender stored -> what is left of it
        "see https://oapi.dingtalk.com/robot/send?access_token=old-secret-77": "see https://oapi.dingtalk.com/…",
        "ConnectionError: HTTPSConnectionPool(host='oapi.dingtalk.com', port=443): Max retries exceeded with url: "
        "/robot/send?access_token=old-secret-77 (Caused by NewConnectionError('refused'))":
        "ConnectionError: HTTPSConnectionPool(host='oapi.dingtalk.com', port=443): Max retries exceeded with url: "
        "/… (Caused by NewConnectionError('refused'))",
    }
    for old, cleaned in old_errors.items():
        with duckdb.connect(str(warehouse)) as con:
            con.execute("update ops.alert_deliveries set last_error = ? where alert_id = 'a2'", [old])
            deliver_new_alerts(con, {}, Poster(FAST))  # no routes: nothing is posted, the table is still cleaned
            (error,) = con.execute("select last_error from ops.alert_deliveries where alert_id = 'a2'").fetchone()
        assert error == cleaned


def test_every_host_down_leaves_the_alerts_pending_within_the_deadline(tmp_path):
    """~300 alerts, robots behind a closed port and a blackhole, the JSON webhook behind another
    blackhole: the pass returns within the 30 s deadline (measured; bound 40 s), delivers nothing,
    leaves everything pending and says which hosts it skipped."""
    blackholes = [Blackhole(), Blackhole()]
    try:
        environ = {
            webhook_url_variable("vip_service"): blackholes[0].url("/wecom"),
            webhook_url_variable("quality"): closed_port_url("/dingtalk"),
            webhook_url_variable("default"): blackholes[1].url("/json"),
        }
        path = tmp_path / "voc.duckdb"
        with duckdb.connect(str(path)) as con:
            con.execute(ALERTS_DDL)
            routes = ["大客户服务部", "质量部", "物流部"]
            _insert_alerts(con, [
                (f"x{i:03d}", "tag_spike", "medium", f"2026-11-01 10:{i // 60:02d}:{i % 60:02d}+08", None, "t", None, None, ["F"], routes[i % 3], "d")
                for i in range(300)
            ])
        started = time.monotonic()
        report = _deliver(path, environ, policy=DeliveryPolicy())  # the shipped defaults: 30 s deadline
        elapsed = time.monotonic() - started
    finally:
        for hole in blackholes:
            hole.close()
    print(f"every host down, 300 alerts: delivery returned after {elapsed:.1f} s")
    assert elapsed < 40
    assert report.delivered == [] and not report.unknown_now and not report.failed
    assert report.deferred + len(report.pending) == 300
    assert blackholes[0].url("").split("//")[1] in report.skipped_hosts or report.deadline_reached
    quality_host = environ[webhook_url_variable("quality")].split("//")[1].split("/")[0]
    assert quality_host in report.skipped_hosts
    summary = report.summary()
    assert "Hosts skipped for this run" in summary and quality_host in summary
    assert report.deadline_reached == ("deadline was reached" in summary)
    with duckdb.connect(str(path), read_only=True) as con:
        statuses = dict(con.execute("select status, count(*) from ops.alert_deliveries group by 1").fetchall())
    assert set(statuses) <= {"pending"}  # tried ones are pending; the rest were never tried


def test_the_asset_records_deliveries_and_fails_visibly(warehouse, environ, receiver, tmp_path):
    from orchestration.settings import VocSettings

    settings = VocSettings.from_env({"VOC_LANDING_DIR": str(tmp_path), "VOC_DUCKDB_PATH": str(warehouse), **FAST_ENV, **environ})
    resource = VocWarehouse.from_settings(settings)
    receiver.fail_status = 400
    receiver.fail_next["/json"] = 100
    with pytest.raises(dg.Failure) as failure:
        alert_deliveries(context=dg.build_asset_context(), warehouse=resource, settings=settings)
    assert "a3 -> default" in failure.value.description and "HTTP 400" in failure.value.description
    receiver.fail_next["/json"] = 0
    result = alert_deliveries(context=dg.build_asset_context(), warehouse=resource, settings=settings)
    assert result.metadata["delivered"] == 1 and result.metadata["failed"] == 0
