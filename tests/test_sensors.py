"""The landing-files sensor (each file triggers once) and the run-failure sensor."""

import json

import dagster as dg
import pytest
from webhook_receiver import WebhookReceiver

from orchestration.resources import VocWarehouse
from orchestration.sensors import (
    describe_failed_run,
    landing_files_sensor,
    new_or_changed,
    run_failure_sensor,
)
from orchestration.settings import VocSettings

pytestmark = pytest.mark.dagster


@pytest.fixture
def landing(tmp_path):
    root = tmp_path / "landing"
    (root / "surveys").mkdir(parents=True)
    (root / "tickets").mkdir()
    (root / "surveys" / "s1.jsonl").write_text('{"response_id": "R1"}\n')
    (root / "tickets" / "t1.jsonl").write_text('{"ticket_id": 1}\n')
    (root / "tickets" / ".t2.jsonl.part").write_text("upload in progress")
    (root / "tickets" / "notes.txt").write_text("not an export")
    return root


def _evaluate(landing, cursor=None, environ=None):
    settings = VocSettings.from_env(
        {"VOC_LANDING_DIR": str(landing), "VOC_DUCKDB_PATH": str(landing.parent / "voc.duckdb"), **(environ or {})}
    )
    resources = {"warehouse": VocWarehouse.from_settings(settings), "settings": settings}
    context = dg.build_sensor_context(cursor=cursor, resources=resources)
    result = landing_files_sensor(context)
    return result, context.cursor


def test_each_landed_file_triggers_one_run(landing):
    first, cursor = _evaluate(landing)
    assert isinstance(first, dg.RunRequest) and first.tags["voc/new_files"] == "2"
    assert set(json.loads(cursor)) == {"surveys/s1.jsonl", "tickets/t1.jsonl"}

    again, same_cursor = _evaluate(landing, cursor)
    assert isinstance(again, dg.SkipReason) and same_cursor == cursor

    (landing / "tickets" / "t2.jsonl").write_text('{"ticket_id": 2}\n')
    third, new_cursor = _evaluate(landing, cursor)
    assert isinstance(third, dg.RunRequest) and third.tags["voc/new_files"] == "1"
    assert third.run_key != first.run_key
    assert isinstance(_evaluate(landing, new_cursor)[0], dg.SkipReason)


def test_families_in_api_mode_do_not_trigger(landing):
    result, cursor = _evaluate(landing, environ={"VOC_TICKETS_MODE": "api", "VOC_TICKETS_BASE_URL": "http://vendor"})
    assert set(json.loads(cursor)) == {"surveys/s1.jsonl"} and result.tags["voc/new_files"] == "1"


def test_a_rewritten_file_counts_as_new():
    assert new_or_changed({"a": "10:1", "b": "5:1"}, {"a": "10:1", "b": "6:2", "c": "1:1"}) == ["b", "c"]


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
