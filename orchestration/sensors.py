"""Sensors of the live loop: complete landing files not yet loaded start a run; failed runs are surfaced loudly."""


import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import dagster as dg

from loaders.api.config import API_MODE, ApiConfig
from loaders.api.safe_errors import redact_secrets
from loaders.families import FAMILIES
from loaders.files.readers import discover_files, file_digest, is_csv_name, is_jsonl_name
from loaders.writer_lock import WarehouseBusyError, hold_writer_lock
from orchestration.marts_reader import DuckDBMartsReader, WarehouseUnavailable, as_reader
from orchestration.resources import SettingsResource, VocWarehouse

EVERYTHING_JOB = "voc_everything"
DONE_SUFFIX = ".done"
"""``<file>.done`` beside a landing file says the file is complete: no settle period for it."""
ACTIVE_RUN_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def now() -> float:
    """The sensor's clock (seconds since the epoch, like file modification times)."""
    return time.time()


def _loadable_name(name: str) -> bool:
    return is_jsonl_name(name) or is_csv_name(name)


@dataclass(frozen=True)
class LandingFile:
    path: Path
    rel: str  # relative to the landing folder, as the loader's file ledger records it
    size: int
    mtime_ns: int

    @property
    def fingerprint(self) -> str:
        return f"{self.size}:{self.mtime_ns}"


def landing_files(landing_dir: Path, api: ApiConfig | None = None) -> list[LandingFile]:
    """Every loadable file of the file-mode families, as the loader discovers them.

    Families switched to api mode are left out: their folder is not read by the pipeline.
    """
    found = []
    for family in FAMILIES:
        if api is not None and api.mode(family) == API_MODE:
            continue
        for path in discover_files(landing_dir / family, _loadable_name, root=landing_dir):
            stat = path.stat()
            found.append(LandingFile(path, path.relative_to(landing_dir).as_posix(), stat.st_size, stat.st_mtime_ns))
    return found


def is_settled(file: LandingFile, previous: Mapping[str, list] | None, now: float, settle_seconds: float) -> bool:
    """Complete: it has a ``.done`` marker, or its size and modification time have not changed for
    ``settle_seconds`` (modified that long ago, and the same as at the sensor's previous look)."""
    if file.path.with_name(file.path.name + DONE_SUFFIX).exists():
        return True
    if now - file.mtime_ns / 1e9 < settle_seconds:
        return False
    seen = (previous or {}).get(file.rel)
    return seen is None or (seen[0], seen[1]) == (file.size, file.mtime_ns)


def read_file_ledger(reader, families=FAMILIES) -> dict[str, tuple[str, int]]:
    """``relative path -> (sha256, size)`` of every file the loader has loaded into this warehouse
    (``raw.<family>_files``, the table behind ``stg_loader__files``), through a marts reader (or an
    open DuckDB connection)."""
    reader = as_reader(reader)
    ledger: dict[str, tuple[str, int]] = {}
    for family in families:
        if reader.exists(f"raw.{family}_files"):
            for row in reader.table(f"raw.{family}_files", ["file", "sha256", "size_bytes"]).to_pylist():
                ledger[row["file"]] = (row["sha256"], row["size_bytes"])
    return ledger


def not_loaded(files: list[LandingFile], ledger: Mapping[str, tuple[str, int]], digests: dict[str, list]) -> list[LandingFile]:
    """The files whose content the ledger does not hold. A file of the ledger's size is hashed
    (``digests`` caches ``[size, mtime_ns, sha256]`` per file and is updated)."""
    missing = []
    for file in files:
        entry = ledger.get(file.rel)
        if entry is None or entry[1] != file.size:
            missing.append(file)
            continue
        cached = digests.get(file.rel)
        if cached and (cached[0], cached[1]) == (file.size, file.mtime_ns) and cached[2]:
            sha256 = cached[2]
        else:
            sha256, _ = file_digest(file.path)
        digests[file.rel] = [file.size, file.mtime_ns, sha256]
        if sha256 != entry[0]:
            missing.append(file)
    return missing


def _run_key(files: list[LandingFile]) -> str:
    text = "\n".join(f"{file.rel}={file.fingerprint}" for file in sorted(files, key=lambda f: f.rel))
    return "landing-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _shown(files: list[LandingFile]) -> str:
    names = sorted(file.rel for file in files)
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _active_run(context: dg.SensorEvaluationContext) -> str | None:
    """The id of a voc_everything run that is queued or in progress, if any."""
    runs = context.instance.get_runs(
        filters=dg.RunsFilter(job_name=EVERYTHING_JOB, statuses=ACTIVE_RUN_STATUSES), limit=1
    )
    return runs[0].run_id if runs else None


@dg.sensor(
    job_name=EVERYTHING_JOB,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Starts voc_everything when complete landing files (unchanged for VOC_LANDING_SETTLE_SECONDS, "
        "or with a .done marker) are not yet in the warehouse's file ledger."
    ),
)
def landing_files_sensor(context: dg.SensorEvaluationContext, warehouse: VocWarehouse, settings: SettingsResource):
    """What is loaded is the warehouse's own file ledger (``raw.<family>_files``), read under the
    writer lock so that the read never gets in a run's way; the cursor only remembers the previous
    look (size, modification time, sha256 of each file), to tell a settled file from a growing one.
    """
    previous = json.loads(context.cursor) if context.cursor else {}
    files = landing_files(warehouse.landing_path, settings.api)
    look_time = now()
    observed = {file.rel: [file.size, file.mtime_ns, ""] for file in files}
    for rel, seen in previous.items():
        if rel in observed and seen[:2] == observed[rel][:2]:
            observed[rel][2] = seen[2] if len(seen) > 2 else ""
    if not files:
        context.update_cursor(json.dumps(observed, sort_keys=True))
        return dg.SkipReason(f"no landing files in {warehouse.landing_path}")
    active = _active_run(context)
    if active is not None:
        context.update_cursor(json.dumps(observed, sort_keys=True))
        return dg.SkipReason(f"run {active} of {EVERYTHING_JOB} is queued or in progress; will look again after it")
    try:
        with hold_writer_lock(warehouse.warehouse_path, wait_seconds=0, command="landing_files_sensor"):
            ledger = read_warehouse_ledger(warehouse, settings.lake_dir if settings.uses_spark else None)
    except WarehouseBusyError as exc:
        context.update_cursor(json.dumps(observed, sort_keys=True))
        return dg.SkipReason(f"{exc}".split(";")[0] + "; will look again")
    if ledger is None:
        context.update_cursor(json.dumps(observed, sort_keys=True))
        return dg.SkipReason(f"the file ledger of {warehouse.warehouse_path} cannot be read now; will look again")
    new = not_loaded(files, ledger, observed)
    context.update_cursor(json.dumps(observed, sort_keys=True))
    if not new:
        return dg.SkipReason(f"all {len(files)} landing files are already loaded")
    unsettled = [file for file in new if not is_settled(file, previous, look_time, settings.landing_settle_seconds)]
    if unsettled:
        return dg.SkipReason(
            f"{len(unsettled)} new landing files are still being written ({_shown(unsettled)}); waiting until "
            f"they are unchanged for {settings.landing_settle_seconds:g}s or have a {DONE_SUFFIX} marker"
        )
    context.log.info(f"{len(new)} new landing files: {_shown(new)}")
    return dg.RunRequest(
        run_key=_run_key(new),
        tags={"voc/trigger": "landing_files", "voc/new_files": str(len(new))},
    )


def read_warehouse_ledger(warehouse: VocWarehouse, lake_dir: str | None = None) -> dict[str, tuple[str, int]] | None:
    """The file ledger of the warehouse: empty before the warehouse exists, None when it cannot
    be opened now (a process has it open for writing). With ``lake_dir`` (VOC_ENGINE=spark), the
    lake's load logs (``raw.<family>_files`` as Parquet)."""
    if lake_dir is not None:
        from loaders.lake import connect_lake

        with connect_lake(lake_dir) as con:
            return read_file_ledger(DuckDBMartsReader(connection=con))
    if not warehouse.warehouse_path.exists():
        return {}
    try:
        reader = DuckDBMartsReader(warehouse.warehouse_path)
    except WarehouseUnavailable:
        return None
    with reader:
        return read_file_ledger(reader)


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


def settings_secrets(settings) -> list[str]:
    """Every secret the settings hold: webhook URLs and vendor tokens (to scrub them from text)."""
    secrets = [settings.ops_webhook_url, *settings.alert_webhook_urls.values()]
    secrets += [source.token for source in settings.api.sources.values()]
    return [s for s in secrets if s]


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
    # an upstream error may quote a URL: cut every URL to its host and drop every known secret
    text = redact_secrets(text, settings_secrets(settings))
    context.log.error(text)
    if settings.ops_webhook_url:
        post_to_ops_webhook(context.log, settings, text, context.dagster_run.run_id)


def post_to_ops_webhook(log, settings, text: str, run_id: str) -> None:
    """One delivery of ``text`` to ``VOC_OPS_WEBHOOK_URL`` with alert delivery's rules (a chat
    robot is not posted twice when the outcome is unknown; a JSON webhook gets the run id as
    ``Idempotency-Key``); a failure is logged by host, status and exception type only."""
    from orchestration.alerts.senders import ROBOT_FORMATS, Poster

    message_format = settings.ops_webhook_format
    poster = Poster(settings.alert_delivery)
    key = None if message_format in ROBOT_FORMATS else f"voc-run-failed-{run_id}"
    result = poster.deliver(settings.ops_webhook_url, ops_payload(message_format, text), message_format, key)
    if not result.ok:
        log.error(f"could not post the failure to VOC_OPS_WEBHOOK_URL ({result.outcome}): {result.error}")


def ops_payload(message_format: str, text: str) -> dict:
    """The failed-run message in the ops webhook's format."""
    title = text.splitlines()[0]
    if message_format == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": text}}
    if message_format == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": title[:64], "text": text}}
    return {"event": "voc.run_failed", "text": text}
