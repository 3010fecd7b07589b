"""The landing-files sensor (complete files the warehouse has not loaded) and the run-failure sensor."""

import json
import os
import time

import dagster as dg
import pytest
from record_guard import TEST_GUARD
from test_writer_lock import finish, start_writer
from webhook_receiver import WebhookReceiver

from orchestration.resources import VocWarehouse
from orchestration.sensors import (
    LandingFile,
    describe_failed_run,
    is_settled,
    landing_files_sensor,
    run_failure_sensor,
)
from orchestration.settings import VocSettings

pytestmark = pytest.mark.dagster

SETTLE = 30


def age(path, seconds=2 * SETTLE):
    """Make a file look last modified ``seconds`` ago."""
    then = time.time() - seconds
    os.utime(path, (then, then))


@pytest.fixture
def landing(tmp_path):
    root = tmp_path / "landing"
    (root / "surveys").mkdir(parents=True)
    (root / "tickets").mkdir()
    (root / "surveys" / "s1.jsonl").write_text('{"response_id": "R1"}\n')
    (root / "tickets" / "t1.jsonl").write_text('{"ticket_id": 1}\n')
    (root / "tickets" / ".t2.jsonl.part").write_text("upload in progress")
    (root / "tickets" / "notes.txt").write_text("not an export")
    for path in root.rglob("*"):
        if path.is_file():
            age(path)
    return root


@pytest.fixture(scope="module")
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def _settings(landing, environ=None):
    return VocSettings.from_env({
        "VOC_LANDING_DIR": str(landing),
        "VOC_DUCKDB_PATH": str(landing.parent / "voc.duckdb"),
        "VOC_LANDING_SETTLE_SECONDS": str(SETTLE),
        **(environ or {}),
    })


def _evaluate(landing, instance, cursor=None, environ=None):
    settings = _settings(landing, environ)
    resources = {"warehouse": VocWarehouse.from_settings(settings), "settings": settings}
    context = dg.build_sensor_context(cursor=cursor, resources=resources, instance=instance)
    result = landing_files_sensor(context)
    return result, context.cursor


def test_complete_files_the_warehouse_has_not_loaded_start_a_run(landing, instance):
    first, cursor = _evaluate(landing, instance)
    assert isinstance(first, dg.RunRequest) and first.tags["voc/new_files"] == "2"
    assert set(json.loads(cursor)) == {"surveys/s1.jsonl", "tickets/t1.jsonl"}
    # the cursor is not what says "done": until the warehouse has the files, the same run is asked
    # for again, and Dagster starts one run per run key
    again, _ = _evaluate(landing, instance, cursor)
    assert isinstance(again, dg.RunRequest) and again.run_key == first.run_key

    (landing / "tickets" / "t2.jsonl").write_text('{"ticket_id": 2}\n')
    age(landing / "tickets" / "t2.jsonl")
    third, _ = _evaluate(landing, instance, cursor)
    assert third.tags["voc/new_files"] == "3" and third.run_key != first.run_key


def test_a_file_still_being_written_starts_no_run_until_it_settles(landing, instance, monkeypatch):
    import orchestration.sensors

    growing = landing / "surveys" / "s2.jsonl"
    growing.write_text('{"response_id": "R2"}\n')
    result, cursor = _evaluate(landing, instance)
    assert isinstance(result, dg.SkipReason) and "1 new landing files are still being written (surveys/s2.jsonl)" in result.skip_message
    with open(growing, "a") as handle:  # the copy goes on: size and mtime change
        handle.write('{"response_id": "R3"}\n')
    result, cursor = _evaluate(landing, instance, cursor)
    assert isinstance(result, dg.SkipReason)

    # the settle period passes with the file unchanged: complete
    later = time.time() + SETTLE + 1
    monkeypatch.setattr(orchestration.sensors, "now", lambda: later)
    result, cursor = _evaluate(landing, instance, cursor)
    assert isinstance(result, dg.RunRequest) and result.tags["voc/new_files"] == "3"

    # an old modification time is not enough when the size changed since the sensor's last look
    with open(growing, "a") as handle:
        handle.write('{"response_id": "R4"}\n')
    age(growing)
    result, cursor = _evaluate(landing, instance, cursor)
    assert isinstance(result, dg.SkipReason) and "still being written" in result.skip_message
    result, _ = _evaluate(landing, instance, cursor)  # the same as at the last look, and old: complete
    assert isinstance(result, dg.RunRequest)


def test_a_done_marker_completes_a_file_at_once(landing, instance):
    (landing / "surveys" / "s2.jsonl").write_text('{"response_id": "R2"}\n')
    (landing / "surveys" / "s2.jsonl.done").write_text("")
    result, _ = _evaluate(landing, instance)
    assert isinstance(result, dg.RunRequest) and result.tags["voc/new_files"] == "3"


def test_is_settled():
    file = LandingFile(path=__import__("pathlib").Path("/nonexistent/a.jsonl"), rel="surveys/a.jsonl", size=10, mtime_ns=int(100e9))
    assert is_settled(file, None, now=131, settle_seconds=30)
    assert not is_settled(file, None, now=129, settle_seconds=30)
    assert is_settled(file, {"surveys/a.jsonl": [10, int(100e9), ""]}, now=131, settle_seconds=30)
    assert not is_settled(file, {"surveys/a.jsonl": [9, int(100e9), ""]}, now=131, settle_seconds=30)


def test_families_in_api_mode_do_not_trigger(landing, instance):
    result, cursor = _evaluate(landing, instance, environ={"VOC_TICKETS_MODE": "api", "VOC_TICKETS_BASE_URL": "http://vendor"})
    assert set(json.loads(cursor)) == {"surveys/s1.jsonl"} and result.tags["voc/new_files"] == "1"


@pytest.mark.dlt
def test_files_the_warehouse_has_loaded_start_no_run(tmp_path, instance):
    """After `make run`, starting the UI starts nothing: the warehouse's own file ledger (written
    by the loader) says every landing file is loaded."""
    from devtools.demo.api import generate
    from loaders.pipeline import load_all

    landing = tmp_path / "landing"
    generate(landing, rows=120, seed=5)
    for path in landing.rglob("*"):
        if path.is_file():
            age(path)
    first, _ = _evaluate(landing, instance)
    assert isinstance(first, dg.RunRequest)
    files = int(first.tags["voc/new_files"])
    assert files >= 6

    load_all(landing, tmp_path / "voc.duckdb", TEST_GUARD)
    result, _ = _evaluate(landing, instance)  # a fresh sensor: no cursor at all
    assert isinstance(result, dg.SkipReason) and result.skip_message == f"all {files} landing files are already loaded"

    # a loaded file rewritten with other content of the same size is new again (sha256 in the ledger)
    survey = sorted((landing / "surveys").iterdir())[0]
    data = survey.read_bytes()
    survey.write_bytes(data[:-2] + (b"x" if data[-2:-1] != b"x" else b"y") + data[-1:])
    age(survey)
    result, _ = _evaluate(landing, instance)
    assert isinstance(result, dg.RunRequest) and result.tags["voc/new_files"] == "1"


@pytest.mark.e2e
def test_after_a_whole_pipeline_run_the_sensor_starts_nothing(demo_warehouse, instance):
    """`make run`, then `make ui`: the demo build's landing files are all in its warehouse."""
    files = [path for path in demo_warehouse.landing_dir.rglob("*") if path.is_file() and not path.name.startswith(".")]
    for path in files:
        age(path)
    settings = VocSettings(
        landing_dir=demo_warehouse.landing_dir, warehouse_path=demo_warehouse.warehouse_path, landing_settle_seconds=SETTLE
    )
    resources = {"warehouse": VocWarehouse.from_settings(settings), "settings": settings}
    result = landing_files_sensor(dg.build_sensor_context(resources=resources, instance=instance))
    assert isinstance(result, dg.SkipReason) and result.skip_message.startswith("all ")
    assert result.skip_message.endswith(" landing files are already loaded") and int(result.skip_message.split()[1]) >= 30


def test_no_look_at_the_warehouse_while_another_process_writes_it(landing, instance):
    holder = start_writer(landing.parent / "voc.duckdb", "night", 0, -1)
    try:
        assert holder.stdout.readline().strip() == "holding"
        result, _ = _evaluate(landing, instance)
    finally:
        holder.stdin.write("done\n")
        holder.stdin.flush()
        assert finish(holder)[0] == 0
    assert isinstance(result, dg.SkipReason)
    assert f"is being written by pid {holder.pid} (writer night)" in result.skip_message and "will look again" in result.skip_message


def test_no_second_run_while_one_is_in_progress(landing):
    with dg.instance_for_test() as instance:
        run = instance.add_run(dg.DagsterRun(job_name="voc_everything", status=dg.DagsterRunStatus.STARTED))
        result, _ = _evaluate(landing, instance)
        assert isinstance(result, dg.SkipReason) and f"run {run.run_id} of voc_everything" in result.skip_message
        instance.report_run_failed(run)
        assert isinstance(_evaluate(landing, instance)[0], dg.RunRequest)


@dg.op
def load_vendor_page():
    raise RuntimeError("tickets API: page 3 of this run failed after all retries: 500 Server Error")


@dg.job
def failing_job():
    load_vendor_page()


def test_run_failure_sensor_names_the_failed_step_and_posts_it():
    receiver = WebhookReceiver()
    settings = VocSettings.from_env({"VOC_OPS_WEBHOOK_URL": receiver.url("/ops"), "VOC_OPS_WEBHOOK_FORMAT": "wecom"})
    try:
        with dg.instance_for_test() as instance:
            result = failing_job.execute_in_process(instance=instance, raise_on_error=False)
            assert not result.success
            failure_event = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
            context = dg.build_run_status_sensor_context(
                sensor_name="voc_run_failure_sensor",
                dagster_instance=instance,
                dagster_run=result.dagster_run,
                dagster_event=failure_event,
                resources={"settings": settings},
            ).for_run_failure()
            run_failure_sensor(context)
    finally:
        receiver.stop()
    (post,) = receiver.posts["/ops"]
    content = post["markdown"]["content"]
    assert "failing_job FAILED" in content and "step load_vendor_page" in content and "tickets API: page 3" in content


def test_failed_run_description_is_one_line_per_step():
    text = describe_failed_run("voc_everything", "r1", "Execution failed", [("load_tickets", "Boom\ntrace"), ("dbt", "")])
    assert text.splitlines() == [
        "Run r1 of voc_everything FAILED: Execution failed",
        "  step load_tickets: Boom",
        "  step dbt: no error message",
    ]
