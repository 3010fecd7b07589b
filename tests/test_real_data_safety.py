"""Safe to point at real customers' data: after whole `voc run`s with a unique, quote-holding key,
unique secrets in every secret variable, every webhook failing and a vendor API that fails, no
secret and no raw phone, email, UnionID or platform account of the input is anywhere: the
warehouse (every text column of every schema, and the file's bytes), dbt's target/ and logs,
Dagster's storage and logs, dlt's working folders, the reports, what `voc` printed, and every
request that left the process (bodies and headers)."""

from __future__ import annotations

import csv
import gzip
import json
import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from webhook_receiver import WebhookReceiver, closed_port_url

from devtools.demo.api import generate
from orchestration.sensors import run_failure_sensor
from orchestration.settings import VocSettings

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
VOC = Path(sys.executable).with_name("voc")
IDENTIFIER_FIELDS = {"phone", "email", "unionid", "buyer_open_id", "uid", "account_id"}
# shorter values (a 4-digit account id) would match unrelated text by chance
MIN_NEEDLE = 6


def _identifier_values(landing: Path) -> set[str]:
    """Every identifier the input carries, as written and as identity resolution normalizes it."""
    found: set[str] = set()

    def walk(value, key=None):
        if isinstance(value, dict):
            for child_key, child in value.items():
                walk(child, child_key)
        elif isinstance(value, list):
            for child in value:
                walk(child, key)
        elif key in IDENTIFIER_FIELDS and isinstance(value, (str, int)) and str(value).strip():
            text = str(value).strip()
            found.add(text)
            digits = re.sub(r"[^0-9]", "", text)
            if key == "phone" and len(digits) >= 11:
                found.add(digits[-11:])
            if key == "email":
                found.add(text.lower())

    for path in sorted(p for p in landing.rglob("*") if p.is_file() and "_truth" not in p.parts):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8-sig", errors="replace") as handle:
            if ".csv" in path.name:
                for row in csv.DictReader(handle):
                    walk(row)
                continue
            for line in handle:
                try:
                    walk(json.loads(line))
                except ValueError:
                    continue
    return {value for value in found if len(value) >= MIN_NEEDLE}


def _files_under(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def _text_of(path: Path) -> str:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except OSError:
            pass
    return data.decode("utf-8", "replace")


def _hits_in_warehouse(warehouse: Path, needles: set[str]) -> list[tuple[str, str]]:
    hits = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("create temp table needles (needle varchar)")
        con.executemany("insert into needles values (?)", [[n] for n in needles])
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type in ('VARCHAR', 'JSON') and table_catalog <> 'temp'"
        ).fetchall()
        for schema, table, column in columns:
            found = con.execute(
                f'select any_value(needles.needle) from "{schema}"."{table}" as t join needles '
                f'on contains(cast(t."{column}" as varchar), needles.needle)'
            ).fetchone()[0]
            if found is not None:
                hits.append((f"{schema}.{table}.{column}", found))
    data = warehouse.read_bytes()
    hits += [("warehouse file bytes", n) for n in needles if n.encode() in data]
    return hits


def _sensor_posts_failure(settings: VocSettings, caplog) -> None:
    """What the run-failure sensor of `voc ui` does for the failed run (it posts to the ops webhook)."""
    instance = dg.DagsterInstance.from_config(str(settings.dagster_home))
    failed = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
    assert failed, "the run with the failing vendor API should have failed"
    for run in failed:
        records = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
        context = dg.build_run_status_sensor_context(
            sensor_name="voc_run_failure_sensor",
            dagster_instance=instance,
            dagster_run=run,
            dagster_event=records[-1].event_log_entry.dagster_event,
            resources={"settings": settings},
        ).for_run_failure()
        run_failure_sensor(context)


def test_no_secret_and_no_raw_identifier_anywhere_after_failing_runs(tmp_path, caplog, dbt_manifest):
    caplog.set_level(logging.DEBUG)
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse" / "voc.duckdb"
    generate(landing, rows=300, seed=424242)

    def secret(name: str) -> str:
        return f"{name}{secrets.token_hex(8)}"

    key = f"it's-{secrets.token_hex(8)}-\"{{{{ var('x') }}}}-%s-\\-密钥"
    tokens = {name: secret(name) for name in ("wecomkey", "dingtoken", "riskkey", "jsonpath", "opskey", "apitoken", "apipath")}
    receiver = WebhookReceiver()
    for path in ("/cgi-bin/webhook/send", "/robot/send", f"/hooks/{tokens['jsonpath']}", "/ops/send"):
        receiver.fail_next[path] = 10**6  # every webhook answers 500
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOC_") and k != "DAGSTER_HOME"}
    env.update(
        VOC_LANDING_DIR=str(landing),
        VOC_DUCKDB_PATH=str(warehouse),
        VOC_HASH_SALT=key,
        VOC_ALERT_WEBHOOK_VIP_SERVICE=receiver.url("/cgi-bin/webhook/send") + f"?key={tokens['wecomkey']}",
        VOC_ALERT_WEBHOOK_QUALITY=receiver.url("/robot/send") + f"?access_token={tokens['dingtoken']}",
        VOC_ALERT_WEBHOOK_RISK_COMPLIANCE=closed_port_url("/robot/send") + f"?access_token={tokens['riskkey']}",
        VOC_ALERT_WEBHOOK_DEFAULT=receiver.url(f"/hooks/{tokens['jsonpath']}"),
        VOC_OPS_WEBHOOK_URL=receiver.url("/ops/send") + f"?key={tokens['opskey']}",
    )
    outputs = []
    try:
        # every source from its files: the marts and alerts are built, every delivery fails
        first = subprocess.run([str(VOC), "run"], cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
        outputs += [first.stdout, first.stderr]
        with duckdb.connect(str(warehouse), read_only=True) as con:
            attempted = con.execute("select count(*) from ops.alert_deliveries where status <> 'delivered'").fetchone()[0]
        assert attempted > 0, first.stdout[-2000:] + first.stderr[-2000:]
        assert sum(receiver.attempts.values()) > 0

        # social from a vendor API that refuses every connection: the run fails, the sensor posts it
        api_env = dict(
            env,
            VOC_SOCIAL_MODE="api",
            VOC_SOCIAL_BASE_URL=closed_port_url(f"/api/{tokens['apipath']}"),
            VOC_SOCIAL_TOKEN=tokens["apitoken"],
            VOC_API_STEP_RETRIES="0",
            VOC_API_MAX_ATTEMPTS="1",
        )
        second = subprocess.run([str(VOC), "run"], cwd=REPO, env=api_env, capture_output=True, text=True, timeout=1800)
        outputs += [second.stdout, second.stderr]
        assert second.returncode != 0
        _sensor_posts_failure(VocSettings.from_env(api_env), caplog)
        assert receiver.attempts.get("/ops/send", 0) > 0
    finally:
        receiver.stop()

    needles = {key, *tokens.values()} | _identifier_values(landing)
    assert len(needles) > 100  # the input has identifiers to look for

    hits = _hits_in_warehouse(warehouse, needles)
    for path in _files_under(warehouse.parent, tmp_path / "reports", REPO / "dbt_project" / "target", REPO / "dbt_project" / "logs"):
        if path == warehouse:
            continue
        text = _text_of(path)
        hits += [(str(path), n) for n in needles if n in text]
    sent = [json.dumps(headers) + json.dumps(body, ensure_ascii=False) for requests in receiver.received.values() for headers, body in requests]
    said = outputs + [caplog.text] + sent
    hits += [("output, log or request", n) for n in needles for text in said if n in text]
    assert hits == []
