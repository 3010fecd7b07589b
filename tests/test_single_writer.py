"""One writer, always, through Dagster: the shipped dagster.yaml, runs that Dagster launches
(``execute_job``, which uses the job's own executor, as a launched run does) while another
process holds the warehouse, and `voc run` itself. Real processes and DuckDB files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from test_writer_lock import finish, start_writer, writes
from webhook_receiver import WebhookReceiver
from writer_process import write_row

from orchestration.settings import VocSettings
from orchestration.writer_lock import WRITER_TAG, hold_warehouse, install_dagster_yaml, single_writer_executor

pytestmark = pytest.mark.dagster


def tiny_writer_job() -> dg.JobDefinition:
    """A one-step job with the pipeline's executor, for the deployment in the environment."""
    settings = VocSettings.from_env()

    @dg.op
    def write_one_row() -> None:
        write_row(settings.warehouse_path, "dagster", "step")

    @dg.job(executor_def=single_writer_executor(settings.warehouse_path, settings.writer_wait_seconds))
    def tiny_writer() -> None:
        write_one_row()

    return tiny_writer


def everything_job() -> dg.JobDefinition:
    """The real voc_everything of the deployment in the environment."""
    from orchestration.definitions import build_definitions

    return build_definitions(VocSettings.from_env()).resolve_job_def("voc_everything")


@pytest.fixture
def deployment(tmp_path, monkeypatch):
    """Environment of a deployment in tmp_path, with its DAGSTER_HOME holding the shipped dagster.yaml."""
    landing, home = tmp_path / "landing", tmp_path / "dagster_home"
    (landing / "surveys").mkdir(parents=True)
    (landing / "surveys" / "s1.jsonl").write_text('{"response_id": "R1"}\n')
    environ = {
        "VOC_LANDING_DIR": str(landing),
        "VOC_DUCKDB_PATH": str(tmp_path / "voc.duckdb"),
        "DAGSTER_HOME": str(home),
        "VOC_WRITER_WAIT_SECONDS": "60",
        "VOC_HASH_SALT": "single-writer-test-key",  # a landing folder of real (non-demo) files
    }
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert install_dagster_yaml(home)
    return environ


def _instance(environ) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(environ["DAGSTER_HOME"])


def test_the_shipped_dagster_yaml_queues_one_writer_at_a_time(tmp_path):
    from dagster._core.instance.config import PoolGranularity
    from dagster._core.run_coordinator import QueuedRunCoordinator

    assert install_dagster_yaml(tmp_path)
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
    config = instance.get_concurrency_config()
    assert config.run_queue_config.max_concurrent_runs == 1
    assert [dict(limit) for limit in config.run_queue_config.tag_concurrency_limits] == [{"key": WRITER_TAG, "limit": 1}]
    # voc_duckdb_writer is the only pool: the default limit is its limit
    assert config.pool_config.default_pool_limit == 1
    assert config.pool_config.pool_granularity == PoolGranularity.RUN
    assert instance.global_op_concurrency_default_limit == 1

    # a user's own dagster.yaml is left alone; an older shipped one is replaced
    own = tmp_path / "own"
    own.mkdir()
    (own / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    assert not install_dagster_yaml(own) and (own / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"
    (own / "dagster.yaml").write_text("# voc-managed: an older template\n")
    assert install_dagster_yaml(own) and "max_concurrent_runs: 1" in (own / "dagster.yaml").read_text()


def test_the_pipeline_job_runs_with_the_single_writer_executor_and_tag(dbt_manifest, deployment):
    job = everything_job()
    assert job.executor_def.name == "voc_single_writer" and job.tags[WRITER_TAG] == "true"


def test_a_dagster_run_waits_while_voc_run_holds_the_warehouse_then_writes(deployment):
    warehouse = Path(deployment["VOC_DUCKDB_PATH"])
    holder = start_writer(warehouse, "voc-run", 0, -1)  # holds until told
    assert holder.stdout.readline().strip() == "holding"
    instance = _instance(deployment)
    waited: list[str] = []

    def release_once_the_run_waits() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not waited:
            for run in instance.get_runs(limit=1):
                waited.extend(e.message for e in instance.all_logs(run.run_id) if "being written by" in (e.message or ""))
            time.sleep(0.2)
        holder.stdin.write("done\n")
        holder.stdin.flush()

    releaser = threading.Thread(target=release_once_the_run_waits)
    releaser.start()
    result = dg.execute_job(dg.reconstructable(tiny_writer_job), instance)
    releaser.join()
    assert result.success
    assert finish(holder)[0] == 0
    assert [(label, event) for label, _, event, _ in writes(warehouse)] == [
        ("voc-run", "start"), ("voc-run", "end"), ("dagster", "step")
    ]
    assert f"is being written by pid {holder.pid} (writer voc-run)" in waited[0] and "waiting up to 60s" in waited[0]


def test_the_pipeline_run_stops_before_any_step_naming_who_holds_the_warehouse(dbt_manifest, deployment, monkeypatch):
    from orchestration.sensors import run_failure_sensor

    warehouse = Path(deployment["VOC_DUCKDB_PATH"])
    monkeypatch.setenv("VOC_WRITER_WAIT_SECONDS", "1")
    holder = start_writer(warehouse, "voc-run", 0, -1)
    try:
        assert holder.stdout.readline().strip() == "holding"
        before = writes(warehouse)
        instance = _instance(deployment)
        result = dg.execute_job(dg.reconstructable(everything_job), instance)
        assert not result.success
        assert not [event for event in result.all_events if event.event_type == dg.DagsterEventType.STEP_START]
        assert writes(warehouse) == before
        failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)

        receiver = WebhookReceiver()
        settings = VocSettings.from_env({"VOC_OPS_WEBHOOK_URL": receiver.url("/ops")})
        try:
            context = dg.build_run_status_sensor_context(
                sensor_name="voc_run_failure_sensor",
                dagster_instance=instance,
                dagster_run=result.dagster_run,
                dagster_event=failure,
                resources={"settings": settings},
            ).for_run_failure()
            run_failure_sensor(context)
        finally:
            receiver.stop()
        (post,) = receiver.posts["/ops"]
        assert f"is being written by pid {holder.pid} (writer voc-run)" in post["text"]
    finally:
        holder.kill()
        holder.wait()


def test_voc_run_exits_with_a_clear_message_while_another_writer_holds_the_warehouse(deployment):
    warehouse = Path(deployment["VOC_DUCKDB_PATH"])
    holder = start_writer(warehouse, "dagster-run", 0, -1)
    try:
        assert holder.stdout.readline().strip() == "holding"
        voc = Path(sys.executable).with_name("voc")
        env = {**os.environ, **deployment, "VOC_WRITER_WAIT_SECONDS": "1"}
        done = subprocess.run([str(voc), "run"], env=env, capture_output=True, text=True, timeout=300)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 3, done.stderr[-2000:]
    assert f"voc run: the warehouse {warehouse} is being written by pid {holder.pid} (writer dagster-run)" in done.stderr
    with duckdb.connect(str(warehouse), read_only=True) as con:  # voc run wrote nothing
        tables = {row[0] for row in con.execute("select table_name from information_schema.tables").fetchall()}
    assert tables == {"writes"}


def test_a_run_left_started_by_a_killed_writer_is_marked_failed_by_the_next(deployment):
    warehouse = Path(deployment["VOC_DUCKDB_PATH"])
    instance = _instance(deployment)
    run = instance.add_run(dg.DagsterRun(job_name="voc_everything", status=dg.DagsterRunStatus.STARTED))
    holder = start_writer(warehouse, "voc-run", 0, 60, run_id=run.run_id)
    assert holder.stdout.readline().strip() == "holding"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    messages: list[str] = []
    with hold_warehouse(warehouse, 5, instance=instance, log=messages.append):
        pass
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
    assert f"its process (pid {holder.pid} (writer voc-run)" in messages[0]
