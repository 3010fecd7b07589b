"""No secret leaves through an error: webhook keys (query and path), the ops webhook's key and the
vendor API's token and path never reach ops.alert_deliveries, a log line, a Dagster event or its
metadata, `voc alerts` output, or the body of any outgoing request, when every one of them fails
(connection refused, 5xx, read timeout). Real local HTTP servers."""

import logging
import secrets

import dagster as dg
import duckdb
import pytest
from click.testing import CliRunner
from dagster._serdes import serialize_value
from dagster_dlt import DagsterDltResource
from test_alert_delivery import ALERTS, ALERTS_DDL, _insert_alerts
from webhook_receiver import WebhookReceiver, closed_port_url

from loaders.api.safe_errors import describe_http_failure, redact_secrets, redact_urls, safe_host
from orchestration.alerts.assets import alert_deliveries
from orchestration.assets.ingestion import ingestion_assets
from orchestration.cli import main as voc
from orchestration.resources import VocWarehouse
from orchestration.sensors import run_failure_sensor
from orchestration.settings import VocSettings

pytestmark = pytest.mark.dagster


def test_failure_descriptions_name_host_status_and_type_only():
    url = "https://user:pw-9f8e7d6c@qyapi.example.com:8443/cgi-bin/webhook/send?key=k-1234abcd#frag"
    text = describe_http_failure(url, TimeoutError("read timed out for url " + url), 504, "see " + url)
    assert text == "host qyapi.example.com:8443: HTTP 504 TimeoutError (see https://qyapi.example.com:8443/…)"
    assert safe_host("not a url") == "?" and redact_urls(f"x {url} y") == "x https://qyapi.example.com:8443/… y"
    hook = "https://oapi.example.com/robot/send?access_token=tok0123456789abcdef"
    leaked = f"boom tok0123456789abcdef and {hook}"
    assert redact_secrets(leaked, [hook]) == "boom *** and https://oapi.example.com/…"


def _secret(name: str) -> str:
    return f"{name}-{secrets.token_hex(8)}"


def _sensor(instance, result, settings):
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    context = dg.build_run_status_sensor_context(
        sensor_name="voc_run_failure_sensor",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=failure,
        resources={"settings": settings},
    ).for_run_failure()
    run_failure_sensor(context)


def test_no_secret_in_any_table_log_event_or_outgoing_body(tmp_path, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    secret = {name: _secret(name) for name in ("wecomkey", "dingtoken", "jsonpath", "opskey", "apitoken", "apipath", "socialpath", "hashkey")}
    receiver = WebhookReceiver()
    warehouse = tmp_path / "voc.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(ALERTS_DDL)
        _insert_alerts(con, ALERTS)
    receiver.fail_next["/robot/send"] = 100  # DingTalk robot answers 500
    receiver.fail_next["/ops/send"] = 100  # the ops webhook answers 500
    receiver.slow[f"/hooks/{secret['jsonpath']}/voc"] = 1.0  # the JSON webhook times out
    environ = {
        "VOC_LANDING_DIR": str(tmp_path),
        "VOC_DUCKDB_PATH": str(warehouse),
        "VOC_ALERT_CONNECT_TIMEOUT_SECONDS": "1",
        "VOC_ALERT_READ_TIMEOUT_SECONDS": "0.5",
        "VOC_ALERT_WEBHOOK_VIP_SERVICE": closed_port_url(f"/cgi-bin/webhook/send?key={secret['wecomkey']}"),
        "VOC_ALERT_WEBHOOK_QUALITY": receiver.url(f"/robot/send?access_token={secret['dingtoken']}"),
        "VOC_ALERT_WEBHOOK_DEFAULT": receiver.url(f"/hooks/{secret['jsonpath']}/voc"),
        "VOC_OPS_WEBHOOK_URL": receiver.url(f"/ops/send?key={secret['opskey']}"),
        "VOC_OPS_WEBHOOK_FORMAT": "wecom",
        "VOC_MEMBERS_MODE": "api",
        "VOC_MEMBERS_BASE_URL": receiver.url(f"/vendor/{secret['apipath']}"),  # answers GET with 501
        "VOC_MEMBERS_TOKEN": secret["apitoken"],
        "VOC_SOCIAL_MODE": "api",
        "VOC_SOCIAL_BASE_URL": closed_port_url(f"/social/{secret['socialpath']}"),
        "VOC_SOCIAL_TOKEN": secret["apitoken"],
        "VOC_API_MAX_ATTEMPTS": "1",
        "VOC_API_STEP_RETRIES": "0",
        "VOC_HASH_SALT": secret["hashkey"],  # api mode is real data: the demo key is refused
    }
    settings = VocSettings.from_env(environ)
    resources = {"dlt": DagsterDltResource(), "warehouse": VocWarehouse.from_settings(settings), "settings": settings}
    loads = [a for a in ingestion_assets if a.node_def.name in ("load_members", "load_social")]
    try:
        with dg.instance_for_test() as instance:
            delivery_run = dg.materialize([alert_deliveries], resources=resources, instance=instance, raise_on_error=False)
            api_run = dg.materialize(loads, resources=resources, instance=instance, raise_on_error=False)
            for run in (delivery_run, api_run):
                assert not run.success
                _sensor(instance, run, settings)
            events = [serialize_value(record) for run in (delivery_run, api_run) for record in instance.all_logs(run.run_id)]
        cli = CliRunner()
        outputs = [
            cli.invoke(voc, ["alerts", "list"], env=environ, catch_exceptions=False).output,
            cli.invoke(voc, ["alerts", "resend", "a2"], env=environ, catch_exceptions=False).output,
        ]
    finally:
        receiver.stop()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select * from ops.alert_deliveries order by alert_id").fetchall()
    captured = capfd.readouterr()
    bodies = [body.decode("utf-8", "replace") for body in receiver.raw_bodies]

    # the failures happened as intended: refused, 5xx, timeout; both API families failed
    statuses = {row[0]: row[4] for row in rows}
    assert statuses == {"a1": "pending", "a2": "unknown", "a3": "failed"}
    assert len(receiver.received["/ops/send"]) == 2  # one failed-run message per failed run, 500 each
    everything = {
        "ops.alert_deliveries": repr(rows),
        "dagster events": "\n".join(events),
        "logs": caplog.text,
        "stdout/stderr": captured.out + captured.err,
        "voc alerts": "\n".join(outputs),
        "request bodies": "\n".join(bodies),
    }
    assert "members API: page 1" in everything["dagster events"] and "social API: page 1" in everything["dagster events"]
    assert "members API: page 1" in everything["request bodies"]  # the ops message names the failed page
    assert "host 127.0.0.1" in everything["ops.alert_deliveries"] and "HTTP 500" in everything["ops.alert_deliveries"]
    assert "could not post the failure to VOC_OPS_WEBHOOK_URL (unknown): host 127.0.0.1" in everything["logs"] + everything["stdout/stderr"]
    for name, value in secret.items():
        for where, text in everything.items():
            assert value not in text, f"secret {name} leaked into {where}"
