"""Sensors of the live loop: new landing files start a run; failed runs are surfaced loudly."""


import hashlib
import json
from pathlib import Path
from typing import Mapping

import dagster as dg

from loaders.api.config import API_MODE, ApiConfig
from loaders.families import FAMILIES
from loaders.files.readers import discover_files, is_csv_name, is_jsonl_name
from orchestration.resources import SettingsResource, VocWarehouse

EVERYTHING_JOB = "voc_everything"


def _loadable_name(name: str) -> bool:
    return is_jsonl_name(name) or is_csv_name(name)


def landing_fingerprints(landing_dir: Path, api: ApiConfig | None = None) -> dict[str, str]:
    """``relative path -> "size:mtime_ns"`` of every loadable file of the file-mode families.

    Families switched to api mode are left out: their folder is not read by the pipeline.
    """
    fingerprints: dict[str, str] = {}
    for family in FAMILIES:
        if api is not None and api.mode(family) == API_MODE:
            continue
        for path in discover_files(landing_dir / family, _loadable_name):
            stat = path.stat()
            fingerprints[path.relative_to(landing_dir).as_posix()] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return fingerprints


def new_or_changed(previous: Mapping[str, str], current: Mapping[str, str]) -> list[str]:
    """Files of ``current`` that ``previous`` does not hold with the same fingerprint, sorted."""
    return sorted(path for path, print_ in current.items() if previous.get(path) != print_)


def _run_key(files: list[str], current: Mapping[str, str]) -> str:
    text = "\n".join(f"{path}={current[path]}" for path in files)
    return "landing-" + hashlib.sha256(text.encode()).hexdigest()[:16]


@dg.sensor(
    job_name=EVERYTHING_JOB,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts voc_everything when files land in (or change in) the landing folder; each file triggers once.",
)
def landing_files_sensor(context: dg.SensorEvaluationContext, warehouse: VocWarehouse, settings: SettingsResource):
    """The cursor holds the fingerprint of every file already seen, so each file triggers once."""
    previous = json.loads(context.cursor) if context.cursor else {}
    current = landing_fingerprints(warehouse.landing_path, settings.api)
    arrived = new_or_changed(previous, current)
    if not arrived:
        return dg.SkipReason(f"no new files in {warehouse.landing_path}")
    context.update_cursor(json.dumps(current, sort_keys=True))
    shown = ", ".join(arrived[:5]) + (f" and {len(arrived) - 5} more" if len(arrived) > 5 else "")
    context.log.info(f"{len(arrived)} new landing files: {shown}")
    return dg.RunRequest(
        run_key=_run_key(arrived, current),
        tags={"voc/trigger": "landing_files", "voc/new_files": str(len(arrived))},
    )


def root_error_message(error) -> str:
    """The message of the innermost cause: Dagster wraps the user's error ("Error occurred while
    executing op ...") and the useful text, e.g. the vendor page that failed, is underneath."""
    if error is None:
        return ""
    while error.cause is not None:
        error = error.cause
    return error.message


def describe_failed_run(job_name: str, run_id: str, reason: str | None, step_errors: list[tuple[str, str]]) -> str:
    """A readable account of a failed run: job, run id, failed steps and their first error line."""
    lines = [f"Run {run_id} of {job_name} FAILED: {reason or 'no reason given'}"]
    for step, error in step_errors:
        first_line = (error or "").strip().splitlines()[0] if (error or "").strip() else "no error message"
        lines.append(f"  step {step}: {first_line[:500]}")
    return "\n".join(lines)


@dg.run_failure_sensor(
    name="voc_run_failure_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Logs every failed run with its failing steps and posts it to VOC_OPS_WEBHOOK_URL when set.",
)
def run_failure_sensor(context: dg.RunFailureSensorContext, settings: SettingsResource) -> None:
    step_errors = [
        (event.step_key or "?", root_error_message(event.step_failure_data.error))
        for event in context.get_step_failure_events()
    ]
    run_error = getattr(context.failure_event.event_specific_data, "error", None)
    if not step_errors and run_error is not None:
        # failed before any step, e.g. the warehouse was held by another writer or a reader
        step_errors = [("(run)", root_error_message(run_error))]
    text = describe_failed_run(
        context.dagster_run.job_name, context.dagster_run.run_id, context.failure_event.message, step_errors
    )
    context.log.error(text)
    if settings.ops_webhook_url:
        from orchestration.alerts.senders import make_http_sender

        result = make_http_sender()(settings.ops_webhook_url, ops_payload(settings.ops_webhook_format, text))
        if not result.ok:
            context.log.error(f"could not post the failure to VOC_OPS_WEBHOOK_URL: {result.error}")


def ops_payload(message_format: str, text: str) -> dict:
    """The failed-run message in the ops webhook's format."""
    title = text.splitlines()[0]
    if message_format == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": text}}
    if message_format == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": title[:64], "text": text}}
    return {"event": "voc.run_failed", "text": text}
