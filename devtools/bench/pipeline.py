"""``python -m devtools.bench.pipeline --rows N``: the whole pipeline, timed per stage, full and incremental.

In a fresh work folder (a temp dir unless ``--workdir``): generate N demo feedback rows into a new
landing folder, print the NLP benchmark on those texts (``devtools.bench.nlp``), then run the
pipeline stage by stage into a new warehouse and print, per stage, wall time, rows, rows/s and the
peak memory of the stage's whole process tree:

* ``generate``       devtools.demo.api.generate
* ``dlt load``       loaders.pipeline.load_all, with the stage process's start-up (interpreter and
                     imports), dlt's extract / normalize / load steps (summed over the six family
                     pipelines, from each pipeline's ``last_trace``) and the rest: pipeline set-up
* ``nlp enrichment`` the enrichment models (text analysis, tags, terms, the int_feedback__enriched
                     view; ``devtools.bench.retag.ENRICHMENT_MODELS``) inside the one ``dbt
                     build``: the wall time their spans in dbt's run_results.json cover
* ``dbt models``     the rest of that ``dbt build``: start-up, seeds, every other model and the
                     dbt data tests (the build's wall time minus the enrichment's); unit
                     tests are left to CI, as in the Dagster job
* ``checks``         every great-expectations suite against the warehouse, read only (steps: the
                     process's start-up, then each check group)
* ``publish``        the publication of the marts (orchestration.publish: DuckDB file, Parquet
                     per mart, manifest, atomic swap) from the warehouse into ``published/``;
                     its share of the full run (generate excluded) is printed after the table

then plain single-core ``jieba.lcut`` over all customer texts of the same landing, and the ratio
pipeline time (generate excluded) / plain jieba time. Then ``add_increment`` writes about 1% new
and changed records as new landing files and the load, dbt and check stages run again (no full
refresh); their table, total and the ratio incremental / full follow. A second increment of the
same size is then run as the schedule runs a night: the Dagster job in one process
(``run_everything``, what ``voc run`` calls), so start-up, dbt's parse and great-expectations'
import are paid once, not once per stage; its table splits the run's wall time into start-up, the
job's steps summed by stage (load, dbt build, checks, publish, other steps) and Dagster's time
between steps. This night, like ``voc run``, writes dbt's target under ``dbt_project/target``.
Then the re-tag stage
(``devtools.bench.retag``): a taxonomy edit on a copy of the dbt project, and the enrichment's time
in that build against the full run's. With ``--postgres`` (a throwaway server,
``devtools.postgres_server``) or ``VOC_SERVE_POSTGRES_URL`` set, the current publication
(``published/current`` beside the warehouse folder) is last served to PostgreSQL
(``orchestration.serving.postgres``), timed as its own stage ``postgres serve``, in this process.
The last line is all figures as one JSON object.

``--engine spark`` (``make bench ENGINE=spark``, issue 19) runs the same stages on both engines from
the one generated landing, DuckDB first, then Spark (``VOC_SPARK_MASTER``, default ``local[2]``):
``dlt load`` into the Parquet lake, the ``dbt build`` through the Spark wrapper
(``voc-spark-dbt``, with the NLP UDFs on the executors), the checks through GX's Spark data source,
and the publication from a Spark marts reader; then both tables and one table of the two side by
side. The NLP section, plain jieba, the increment and the re-tag stage are left out there.

dbt runs once per pipeline run, with the Dagster job's arguments (one ``dbt build``), so its start-up
is paid once. Every stage runs in its own subprocess: its memory is the summed resident set of that
process and all its descendants (dbt's Python, the NLP worker processes), polled from /proc every
0.15 s; the two dbt stages take the peak of the samples inside and outside the enrichment's span.
A sum of RSS counts pages shared between processes more than once, so it is an upper bound. Rows
are what the stage covered: records generated or loaded, rows of the model the stage builds, or
in the incremental run the records of the increment (new + changed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from loaders.families import FEEDBACK_FAMILIES
from orchestration.settings import DBT_PROJECT_DIR, REPO_ROOT, VocSettings

ENRICHED_MODEL = "int_feedback__enriched"
DBT_STAGES = ("nlp enrichment", "dbt models")  # both measured from one ``dbt build``
FULL_STAGES = ("generate", "dlt load", *DBT_STAGES, "checks", "publish")
INCREMENTAL_STAGES = ("dlt load", *DBT_STAGES, "checks", "publish")
POLL_SECONDS = 0.15
NLP_BENCH_MAX_TEXTS = 200_000
MIB = 1024 * 1024


# --- memory of a process tree ---------------------------------------------------------------------


def _children_by_parent() -> dict[int, list[int]]:
    """Parent pid -> child pids of every process, from /proc/<pid>/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue  # the process ended while we looked
        # the command name (field 2) may hold spaces and parentheses: the ppid follows the last ")"
        parent = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def tree_rss_bytes(root: int) -> int:
    """Summed resident memory of ``root`` and all its descendants (0 once it is gone)."""
    children = _children_by_parent()
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        total += _rss_bytes(pid)
        pending.extend(children.get(pid, ()))
    return total


class PeakMemory:
    """Polls a process tree's memory in a background thread; ``peak`` is the highest sum seen and
    ``samples`` every (epoch seconds, bytes) reading, so a part of the run can be looked at."""

    def __init__(self, pid: int, interval: float = POLL_SECONDS):
        self.pid, self.interval, self.peak = pid, interval, 0
        self.samples: list[tuple[float, int]] = []
        self.started_at = time.time()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            reading = tree_rss_bytes(self.pid)
            self.samples.append((time.time(), reading))
            self.peak = max(self.peak, reading)
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


# --- stages -----------------------------------------------------------------------------------------


@dataclass
class StageResult:
    """One timed stage: wall seconds, rows covered, peak MiB of its process tree, extra figures."""

    stage: str
    seconds: float
    rows: int
    peak_mib: float
    steps: dict[str, float] = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Workspace:
    """The folders of one benchmark run (all under ``root``; the landing may be shared)."""

    root: Path
    engine: str = "duckdb"
    landing_dir: Path | None = None

    @property
    def landing(self) -> Path:
        return self.landing_dir or self.root / "landing"

    @property
    def spark(self) -> bool:
        return self.engine == "spark"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse" / "voc.duckdb"

    @property
    def dbt_target(self) -> Path:
        return self.root / "dbt_target"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def env(self) -> dict[str, str]:
        """The environment every stage runs in: this workspace's paths, as ``voc`` hands them to its children."""
        base = dict(os.environ)
        paths = {"VOC_LANDING_DIR": str(self.landing), "VOC_DUCKDB_PATH": str(self.warehouse), "VOC_ENGINE": self.engine}
        if self.spark:
            paths.update(VOC_LAKE_DIR=str(self.root / "lake"), VOC_SPARK_WAREHOUSE_DIR=str(self.root / "spark-warehouse"))
        settings = VocSettings.from_env({**base, **paths})
        env = settings.child_env(base)
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env


def run_measured(name: str, command: list[str], workspace: Workspace) -> tuple[float, float]:
    """Run ``command`` as a subprocess; (wall seconds, peak MiB of its tree). Output goes to a log."""
    seconds, memory = run_sampled(name, command, workspace)
    return seconds, memory.peak / MIB


def run_sampled(name: str, command: list[str], workspace: Workspace) -> tuple[float, PeakMemory]:
    """``run_measured`` that also hands back the memory samples of the run."""
    workspace.logs.mkdir(parents=True, exist_ok=True)
    log_path = workspace.logs / f"{name.replace(' ', '_')}.log"
    with open(log_path, "ab") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=workspace.env(), cwd=REPO_ROOT)
        with PeakMemory(process.pid) as memory:
            code = process.wait()
        seconds = time.perf_counter() - started
    if code != 0:
        tail = log_path.read_text("utf-8", errors="replace").splitlines()[-40:]
        raise RuntimeError(f"stage {name!r} failed (exit {code}); last lines of {log_path}:\n" + "\n".join(tail))
    return seconds, memory


def python_stage(name: str, workspace: Workspace, **arguments) -> tuple[float, float, dict]:
    """Run one in-Python stage (``stage_main``) in a subprocess; returns (seconds, peak MiB, payload)."""
    payload_path = workspace.logs / f"{name.replace(' ', '_')}.json"
    workspace.logs.mkdir(parents=True, exist_ok=True)
    payload_path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "devtools.bench.pipeline", "--stage", name, "--workdir", str(workspace.root),
               "--engine", workspace.engine, "--landing", str(workspace.landing),
               "--stage-args", json.dumps(arguments), "--stage-output", str(payload_path),
               "--stage-launched-at", repr(time.time())]
    seconds, peak = run_measured(name, command, workspace)
    return seconds, peak, json.loads(payload_path.read_text("utf-8"))


def dbt_command(workspace: Workspace, *arguments: str) -> list[str]:
    """``dbt <arguments>`` on the project, with target and logs in the work folder; on Spark the
    wrapper ``voc-spark-dbt`` (the profile's target follows ``VOC_ENGINE`` of the stage's environment)."""
    from orchestration.project import DBT_EXECUTABLE, SPARK_DBT_EXECUTABLE

    return [SPARK_DBT_EXECUTABLE if workspace.spark else DBT_EXECUTABLE, *arguments, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
            str(DBT_PROJECT_DIR), "--target-path", str(workspace.dbt_target), "--log-path", str(workspace.logs)]


def warehouse_count(workspace: Workspace, table: str) -> int:
    """Rows of a model, wherever dbt put it (read only, closed before the next stage starts)."""
    if workspace.spark:
        return spark_table_count(workspace, table)
    import duckdb

    with duckdb.connect(str(workspace.warehouse), read_only=True) as con:
        (schema,) = con.execute(
            "select table_schema from information_schema.tables where table_name = ? order by 1 limit 1", [table]
        ).fetchone()
        return con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]


def spark_table_count(workspace: Workspace, table: str) -> int:
    """Rows of a table dbt built on Spark, from its Parquet files (``<dir>/<schema>.db/<table>``)
    without a JVM. A view (only in dbt's metastore) has no files: it counts as fct_feedback's rows."""
    import pyarrow.dataset as ds

    folders = sorted((workspace.root / "spark-warehouse").glob(f"*.db/{table}"))
    if not folders:
        if table == "fct_feedback":
            raise RuntimeError(f"no Spark table {table} under {workspace.root / 'spark-warehouse'}")
        return spark_table_count(workspace, "fct_feedback")
    return ds.dataset(str(folders[0]), format="parquet", partitioning="hive").count_rows()


def node_span(run_results: dict, unique_id: str) -> tuple[float, float]:
    """(start, end) in epoch seconds of one node of a dbt run, compile and execute together."""
    from datetime import datetime, timezone

    def epoch(stamp: str) -> float:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()

    (result,) = [result for result in run_results["results"] if result["unique_id"] == unique_id]
    timings = [timing for timing in result["timing"] if timing.get("started_at") and timing.get("completed_at")]
    if not timings:
        raise RuntimeError(f"dbt recorded no timing for {unique_id}")
    return min(epoch(t["started_at"]) for t in timings), max(epoch(t["completed_at"]) for t in timings)


def split_peak(samples: list[tuple[float, int]], spans: list[tuple[float, float]]) -> tuple[float, float]:
    """Peak MiB of the samples inside any of ``spans`` and of those outside all (0 where there are none)."""

    def inside(moment: float) -> bool:
        return any(start <= moment <= end for start, end in spans)

    within = [reading for moment, reading in samples if inside(moment)]
    outside = [reading for moment, reading in samples if not inside(moment)]
    return max(within, default=0) / MIB, max(outside, default=0) / MIB


def dbt_stages(workspace: Workspace, rows: int | None = None) -> list[StageResult]:
    """One ``dbt build`` of the whole project, reported as the NLP enrichment (the wall time the
    enrichment models' spans cover) and the dbt models (the rest of the build's wall time). Rows
    are ``rows`` if given, else the rows of the enrichment view and of fct_feedback."""
    from devtools.bench.retag import enrichment_spans, union_seconds
    from orchestration.project import DBT_PIPELINE_BUILD_ARGS

    seconds, memory = run_sampled("dbt build", dbt_command(workspace, *DBT_PIPELINE_BUILD_ARGS), workspace)
    run_results = json.loads((workspace.dbt_target / "run_results.json").read_text("utf-8"))
    spans = list(enrichment_spans(run_results).values())
    nlp_peak, models_peak = split_peak(memory.samples, spans)
    first_node = min(node_span(run_results, result["unique_id"])[0] for result in run_results["results"]
                     if any(timing.get("started_at") for timing in result["timing"]))
    nlp_seconds = union_seconds(spans)
    # an enrichment shorter than one poll has no sample of its own: the build's peak bounds it
    return [
        StageResult("nlp enrichment", nlp_seconds,
                    rows if rows is not None else warehouse_count(workspace, ENRICHED_MODEL), nlp_peak or memory.peak / MIB),
        StageResult("dbt models", seconds - nlp_seconds,
                    rows if rows is not None else warehouse_count(workspace, "fct_feedback"), models_peak,
                    {"start-up": max(0.0, first_node - memory.started_at)}),
    ]


def load_stage(workspace: Workspace, rows: int | None = None) -> StageResult:
    """The load; its steps: the process's start-up, dlt's extract / normalize / load summed over
    the family pipelines, and the rest (pipeline set-up, state, child tables: fixed per family)."""
    seconds, peak, payload = python_stage("dlt load", workspace)
    steps = {"start-up": payload["startup_s"], **payload["steps"]}
    steps["pipeline set-up"] = max(0.0, seconds - sum(steps.values()))
    return StageResult("dlt load", seconds, payload["rows"] if rows is None else rows, peak, steps)


def checks_stage(workspace: Workspace, rows: int | None = None) -> StageResult:
    seconds, peak, payload = python_stage("checks", workspace)
    return StageResult("checks", seconds, payload["rows"] if rows is None else rows, peak,
                       {"start-up": payload["startup_s"], **payload["groups"]})


def publish_stage(workspace: Workspace) -> StageResult:
    """The marts' publication; rows are the rows published, summed over every mart."""
    seconds, peak, payload = python_stage("publish", workspace)
    return StageResult("publish", seconds, payload["rows"], peak, {"start-up": payload["startup_s"]})


# the Dagster job's steps, by stage (orchestration/assets, orchestration/checks.py, orchestration/publish)
JOB_STEP_STAGES = (("load_", "dlt load"), ("voc_dbt_models", "dbt build"), ("gx_", "checks"), ("published_marts", "publish"))


def night_job_stage(workspace: Workspace, rows: int) -> StageResult:
    """A night run as one Dagster run (``_stage_night_job``); its steps: the process's start-up
    (interpreter, imports, dbt's parse, the definitions), the job's steps summed by stage, and
    what Dagster spends between them."""
    seconds, peak, payload = python_stage("night job", workspace)
    steps = {"start-up": payload["startup_s"] + payload["before_first_step_s"]}
    for step_key, step_seconds in payload["steps"].items():
        stage = next((name for prefix, name in JOB_STEP_STAGES if step_key.startswith(prefix)), "other steps")
        steps[stage] = steps.get(stage, 0.0) + step_seconds
    steps["between steps"] = max(0.0, seconds - sum(steps.values()))
    return StageResult("night (one Dagster run)", seconds, rows, peak, steps)


def pipeline_stages(workspace: Workspace, increment_rows: int | None = None) -> list[StageResult]:
    """Load, the dbt build (as its two stages), the checks and the publication, in order.
    ``increment_rows`` labels an incremental run."""
    return [load_stage(workspace, increment_rows), *dbt_stages(workspace, increment_rows),
            checks_stage(workspace, increment_rows), publish_stage(workspace)]


# --- what runs inside a stage subprocess -----------------------------------------------------------


def _stage_generate(workspace: Workspace, rows: int, seed: int) -> dict:
    from devtools.demo.api import generate

    summary = generate(workspace.landing, rows=rows, seed=seed)
    families = FEEDBACK_FAMILIES
    return {"rows": sum(summary[family]["feedback_items"] for family in families)}


_work_began: float | None = None


def _work_begins() -> None:
    """Called by a stage once its imports are done: what came before is the stage's start-up."""
    global _work_began
    _work_began = time.time()


def _stage_load(workspace: Workspace) -> dict:
    """load_all, then dlt's own step times and row counts from each family pipeline's last trace."""
    from loaders.contracts import FAMILY_SPECS
    from loaders.pipeline import load_all

    _work_begins()
    # the key dbt is told too (VOC_HASH_SALT of this environment, else the demo key)
    settings = VocSettings.from_env(workspace.env())
    infos = load_all(workspace.landing, workspace.warehouse, settings.record_guard(),
                     lake_dir=settings.lake_dir if workspace.spark else None)
    steps = {"extract": 0.0, "normalize": 0.0, "load": 0.0}
    rows = 0
    for family, info in infos.items():
        trace = info.pipeline.last_trace
        for step in trace.steps:
            if step.step in steps and step.finished_at is not None:
                steps[step.step] += (step.finished_at - step.started_at).total_seconds()
        row_counts = trace.last_normalize_info.row_counts if trace.last_normalize_info else {}
        rows += sum(row_counts.get(spec.table, 0) for spec in FAMILY_SPECS[family])
    return {"rows": rows, "steps": steps}


def _stage_checks(workspace: Workspace) -> dict:
    """Every suite the Dagster checks run (raw per family, staging, marts), back to back, read only."""
    from devtools.bench.checks import time_checks, time_checks_spark

    _work_begins()
    if workspace.spark:
        from orchestration.engine.readers import engine_reader

        with engine_reader(VocSettings.from_env(workspace.env())) as reader:  # the reader session's JVM start counts
            groups = time_checks_spark(reader)
    else:
        groups = time_checks(workspace.warehouse)
    return {"rows": warehouse_count(workspace, "fct_feedback"), "groups": groups}


def _stage_publish(workspace: Workspace) -> dict:
    """What the night's published_marts asset does, outside Dagster: every mart of the dbt
    manifest the build wrote into a new publication beside the warehouse, made current."""
    from orchestration.engine.readers import warehouse_source
    from orchestration.publish.publication import git_revision, public_marts, publish

    _work_begins()
    settings = VocSettings.from_env(workspace.env())
    manifest = json.loads((workspace.dbt_target / "manifest.json").read_text("utf-8"))
    with warehouse_source(settings, workspace.warehouse) as source:  # the file, or a Spark marts reader
        publication = publish(source, settings.publish_dir, public_marts(manifest),
                              run_id=f"bench-{time.time_ns()}", git_revision=git_revision(REPO_ROOT),
                              checks_passed=[], keep=settings.publish_keep)
    return {"rows": sum(publication.rows.values()), "marts": len(publication.rows)}


def _stage_plain_jieba(workspace: Workspace) -> dict:
    """Plain jieba.lcut per text, one core, over every customer text of the landing."""
    from devtools.bench.nlp import plain_jieba, time_per_row
    from devtools.bench.nlp_data import landing_texts

    texts = landing_texts(workspace.landing)
    lcut = plain_jieba()
    rate = time_per_row(lcut, texts)
    return {"rows": len(texts), "seconds": len(texts) / rate}


def _stage_increment(workspace: Workspace, share: float) -> dict:
    from devtools.demo.api import add_increment

    result = add_increment(workspace.landing, share=share)
    counts = {family: {key: value for key, value in c.items() if key != "changed_ids"} for family, c in result.items()}
    return {"rows": sum(c["new"] + c["changed"] for c in result.values()), "families": counts}


def _stage_night_job(workspace: Workspace) -> dict:
    """One night as the schedule runs it: the Dagster job ``voc_everything`` in this one process
    (``orchestration.pipeline_run.run_everything``, what ``voc run`` calls), so its start-up,
    dbt's parse and great-expectations' import are paid once. Per step, the wall seconds between
    the step's start and its end in the run's event log."""
    import dagster as dg

    from orchestration.pipeline_run import run_everything

    _work_begins()
    settings = VocSettings.from_env(workspace.env())
    instance = dg.DagsterInstance.ephemeral()
    result = run_everything(settings, instance=instance)
    if not result.success:
        failed = sorted({event.step_key for event in result.all_events if event.is_step_failure})
        raise RuntimeError(f"the night's Dagster run failed in steps: {', '.join(failed)}")
    started: dict[str, float] = {}
    steps: dict[str, float] = {}
    for record in instance.all_logs(result.run_id):
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.is_step_start:
            started[event.step_key] = record.timestamp
        elif event.is_step_success and event.step_key in started:
            steps[event.step_key] = record.timestamp - started[event.step_key]
    first_step = min(started.values(), default=time.time())
    return {"steps": steps, "before_first_step_s": max(0.0, first_step - _work_began)}


STAGE_FUNCTIONS = {
    "generate": _stage_generate,
    "dlt load": _stage_load,
    "checks": _stage_checks,
    "publish": _stage_publish,
    "plain jieba": _stage_plain_jieba,
    "increment": _stage_increment,
    "night job": _stage_night_job,
}


def stage_main(name: str, workspace: Workspace, arguments: dict, output: Path, launched_at: float | None = None) -> int:
    payload = STAGE_FUNCTIONS[name](workspace, **arguments)
    if launched_at is not None and _work_began is not None:
        # interpreter start, imports: paid by every stage process, once per run in `voc run`
        payload["startup_s"] = round(max(0.0, _work_began - launched_at), 3)
    output.write_text(json.dumps(payload), "utf-8")
    return 0


# --- report ------------------------------------------------------------------------------------------


def print_table(title: str, stages: list[StageResult], total_label: str) -> tuple[float, float]:
    """Print one run's table; returns (total seconds, peak MiB)."""
    print(f"\n{title}")
    print(f"  {'stage':24} {'wall s':>9} {'rows':>11} {'rows/s':>11} {'peak MiB':>9}")
    for stage in stages:
        print(f"  {stage.stage:24} {stage.seconds:9.2f} {stage.rows:11,} {stage.rows_per_s:11,.0f} {stage.peak_mib:9.0f}")
        for step, seconds in stage.steps.items():
            print(f"    {step:22} {seconds:9.2f}")
    total = sum(stage.seconds for stage in stages)
    peak = max(stage.peak_mib for stage in stages)
    print(f"  {total_label:24} {total:9.2f} {'':11} {'':11} {peak:9.0f}")
    return total, peak


def run_nlp_bench(workspace: Workspace, max_texts: int) -> None:
    """The NLP benchmark (issue 3) on this run's texts, printed as it goes."""
    from devtools.bench.nlp_data import iter_landing_texts

    available = sum(1 for _ in iter_landing_texts(workspace.landing))
    rows = min(max_texts, available)
    print(f"\n== NLP benchmark (python -m devtools.bench.nlp --landing <run landing> --rows {rows}) ==", flush=True)
    subprocess.run([sys.executable, "-m", "devtools.bench.nlp", "--landing", str(workspace.landing), "--rows", str(rows)],
                   check=True, env=workspace.env(), cwd=REPO_ROOT)


def benchmark(args: argparse.Namespace, workspace: Workspace) -> dict:
    print(f"work folder {workspace.root} (landing, warehouse, dbt target, stage logs)", flush=True)
    seconds, peak, payload = python_stage("generate", workspace, rows=args.rows, seed=args.seed)
    full = [StageResult("generate", seconds, payload["rows"], peak)]
    print(f"generated {args.rows:,} rows ({payload['rows']:,} feedback items) in {seconds:.1f}s", flush=True)

    if args.engine == "spark":
        return compare_engines(args, workspace, full)

    if args.nlp_rows > 0:
        run_nlp_bench(workspace, args.nlp_rows)

    started = time.perf_counter()
    subprocess.run(dbt_command(workspace, "parse", "--quiet"), check=True, env=workspace.env(), cwd=REPO_ROOT)
    print(f"\nsetup (not timed below): dbt parse, so full and incremental builds both start from a parsed "
          f"project: {time.perf_counter() - started:.1f}s", flush=True)

    full += pipeline_stages(workspace)
    full_total, full_peak = print_table(f"== full run, {args.rows:,} rows ==", full, "total")
    pipeline_seconds = full_total - full[0].seconds
    print(f"  {'total without generate':24} {pipeline_seconds:9.2f}")
    publish_share = _stage(full, "publish").seconds / pipeline_seconds
    print(f"  publish: {_stage(full, 'publish').seconds:.2f}s = {publish_share:.1%} of the full run without generate "
          "(target <= 15% at 1M rows)", flush=True)

    jieba_seconds, jieba_peak, jieba = python_stage("plain jieba", workspace)
    ratio = pipeline_seconds / jieba["seconds"]
    print(f"\nplain jieba.lcut, one core, over all {jieba['rows']:,} customer texts: {jieba['seconds']:.2f}s "
          f"({jieba['rows'] / jieba['seconds']:,.0f} texts/s; stage with reading the landing {jieba_seconds:.1f}s)")
    print(f"pipeline without generate / plain jieba: {ratio:.2f}x  (target <= 2.0x at 1M rows)", flush=True)

    seconds, peak, increment = python_stage("increment", workspace, share=args.share)
    added = StageResult("add_increment", seconds, increment["rows"], peak)
    print(f"\nincrement ({args.share:.0%}): " + ", ".join(
        f"{family} +{c['new']} new / {c['changed']} changed" for family, c in increment["families"].items()))
    incremental = pipeline_stages(workspace, increment_rows=increment["rows"])
    inc_total, inc_peak = print_table(f"== incremental run, {increment['rows']:,} new + changed records ==",
                                      incremental, "total")
    print(f"  (writing the increment: {added.seconds:.2f}s, not in the total)")
    print(f"incremental / full (both without generate): {inc_total / pipeline_seconds:.1%}; the night: "
          f"{inc_total:.1f}s  (target <= 25 s at 1M rows of history, at most 1.25x the same night at 100k)")
    seconds, peak, second = python_stage("increment", workspace, share=args.share)
    job = night_job_stage(workspace, second["rows"])
    job_total, job_peak = print_table(f"== a second night of {second['rows']:,} new + changed records, as the "
                                      "schedule runs it: one Dagster run ==", [job], "total")
    print(f"the night as one Dagster run: {job_total:.1f}s  (target <= 25 s at 1M rows of history, at most 1.25x "
          "the same night at 100k)", flush=True)
    retag = None
    if args.retag:
        from devtools.bench.retag import retag_stages

        full_enrichment = next(stage.seconds for stage in full if stage.stage == "nlp enrichment")
        retag = retag_stages(workspace, full_enrichment)
    peak_overall = max(full_peak, inc_peak, job_peak, jieba_peak, added.peak_mib,
                       *(retag[variant]["peak_mib"] for variant in ("keyword", "veto") if retag))
    print(f"peak memory of any stage: {peak_overall:,.0f} MiB  (target < 4096 MiB at 1M rows)")

    return {
        "bench": "pipeline", "rows": args.rows, "seed": args.seed,
        "full": {s.stage: _figures(s) for s in full},
        "full_total_s": round(full_total, 3), "full_total_without_generate_s": round(pipeline_seconds, 3),
        "plain_jieba": {"texts": jieba["rows"], "seconds": round(jieba["seconds"], 3)},
        "pipeline_over_plain_jieba": round(ratio, 3),
        "publish_share_of_full": round(publish_share, 4),
        "increment": {"share": args.share, "rows": increment["rows"], "families": increment["families"],
                      "write_s": round(added.seconds, 3)},
        "incremental": {s.stage: _figures(s) for s in incremental},
        "incremental_total_s": round(inc_total, 3),
        "incremental_over_full": round(inc_total / pipeline_seconds, 4),
        "second_increment": {"share": args.share, "rows": second["rows"], "families": second["families"]},
        "night_job": _figures(job),
        "night_job_s": round(job_total, 3),
        "retag": retag,
        "peak_mib": round(peak_overall, 1),
    }


def parse_once(workspace: Workspace) -> float:
    """dbt parse for the workspace's engine (not timed in the tables); returns its seconds."""
    started = time.perf_counter()
    subprocess.run(dbt_command(workspace, "parse", "--quiet"), check=True, env=workspace.env(), cwd=REPO_ROOT)
    return time.perf_counter() - started


def compare_engines(args: argparse.Namespace, workspace: Workspace, generated: list[StageResult]) -> dict:
    """The full run's stages on DuckDB, then on Spark, from the one landing; both tables, then
    the two side by side (``--engine spark``)."""
    runs: dict[str, list[StageResult]] = {}
    for engine in ("duckdb", "spark"):
        engine_space = Workspace(workspace.root / engine, engine=engine, landing_dir=workspace.landing)
        engine_space.root.mkdir(parents=True, exist_ok=True)
        print(f"\n{engine}: dbt parse (not timed below) {parse_once(engine_space):.1f}s", flush=True)
        runs[engine] = pipeline_stages(engine_space)
        print_table(f"== full run on {engine}, {args.rows:,} rows ==", runs[engine], "total")
    print(f"\n== DuckDB and Spark ({VocSettings.from_env(Workspace(workspace.root / 'spark', 'spark').env()).spark_master}) "
          f"side by side, {args.rows:,} rows ==")
    print(f"  {'stage':24} {'duckdb s':>9} {'spark s':>9} {'spark/duckdb':>12} {'duckdb MiB':>10} {'spark MiB':>10}")
    for duck, spark in zip(runs["duckdb"], runs["spark"]):
        ratio = spark.seconds / duck.seconds if duck.seconds else float("nan")
        print(f"  {duck.stage:24} {duck.seconds:9.2f} {spark.seconds:9.2f} {ratio:12.2f} {duck.peak_mib:10.0f} {spark.peak_mib:10.0f}")
    totals = {engine: sum(stage.seconds for stage in stages) for engine, stages in runs.items()}
    print(f"  {'total without generate':24} {totals['duckdb']:9.2f} {totals['spark']:9.2f} "
          f"{totals['spark'] / totals['duckdb']:12.2f}", flush=True)
    return {
        "bench": "pipeline", "engines": ["duckdb", "spark"], "rows": args.rows, "seed": args.seed,
        "generate": _figures(generated[0]),
        **{f"full_{engine}": {s.stage: _figures(s) for s in stages} for engine, stages in runs.items()},
        **{f"full_total_without_generate_{engine}_s": round(total, 3) for engine, total in totals.items()},
    }


def _stage(stages: list[StageResult], name: str) -> StageResult:
    (stage,) = [stage for stage in stages if stage.stage == name]
    return stage


def _figures(stage: StageResult) -> dict:
    figures = {"seconds": round(stage.seconds, 3), "rows": stage.rows, "rows_per_s": round(stage.rows_per_s, 1),
               "peak_mib": round(stage.peak_mib, 1)}
    if stage.steps:
        figures["steps"] = {name: round(value, 3) for name, value in stage.steps.items()}
    return figures


def postgres_serve(args: argparse.Namespace, workspace: Workspace, figures: dict) -> dict:
    """The ``postgres serve`` stage: the workspace's current publication into PostgreSQL
    (``--postgres``: a throwaway server; else ``VOC_SERVE_POSTGRES_URL``, whose value is never
    printed). Runs in this process; peak memory is this process's, not the server's."""
    from contextlib import nullcontext

    from devtools.postgres_server import temporary_postgres
    from orchestration.serving.postgres import serve_publication

    url = VocSettings.from_env().serve_postgres_url
    if not (args.postgres or url):
        return {}
    publication = (workspace.root / "published" / "current").resolve()
    if not (publication / "manifest.json").is_file():
        print(f"\npostgres serve: skipped, no publication at {publication} (the publish stage writes it)", flush=True)
        return {"postgres_serve": None}
    with (temporary_postgres() if args.postgres else nullcontext()) as server:
        target = server.url() if server is not None else url
        with PeakMemory(os.getpid()) as memory:
            started = time.perf_counter()
            result = serve_publication(publication, target)
            seconds = time.perf_counter() - started
    stage = StageResult("postgres serve", seconds, sum(result.rows.values()), memory.peak / MIB,
                        {"copy and build": result.load_seconds, "swap": result.swap_seconds})
    print_table(f"== PostgreSQL serving of run {result.run_id} ({result.target}, {len(result.marts)} marts) ==",
                [stage], "total")
    share = seconds / figures["full_total_without_generate_s"]
    print(f"postgres serve / full run without generate: {share:.1%}", flush=True)
    return {"postgres_serve": _figures(stage), "postgres_serve_share_of_full": round(share, 4)}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.pipeline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000, help="demo feedback rows to generate (default 200000)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="work folder (must be empty or missing); default a new temp folder")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (always kept with --workdir)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                        help="spark: the full run's stages on DuckDB and then on Spark, side by side (issue 19)")
    parser.add_argument("--landing", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--share", type=float, default=0.01, help="size of the increment (default 0.01)")
    parser.add_argument("--postgres", action="store_true",
                        help="serve the publication to a throwaway PostgreSQL server as a stage of its own "
                             "(also done when VOC_SERVE_POSTGRES_URL is set)")
    parser.add_argument("--no-retag", dest="retag", action="store_false",
                        help="skip the re-tag stage (taxonomy edits after the runs, devtools.bench.retag)")
    parser.add_argument("--nlp-rows", type=int, default=NLP_BENCH_MAX_TEXTS,
                        help="texts for the NLP benchmark section (at most those available; 0 skips it)")
    # internal: run one stage inside its measured subprocess
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--stage-args", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--stage-output", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--stage-launched-at", type=float, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.stage:
        workspace = Workspace(args.workdir, engine=args.engine, landing_dir=args.landing)
        return stage_main(args.stage, workspace, json.loads(args.stage_args), args.stage_output, args.stage_launched_at)
    if args.rows < 1:
        raise SystemExit("--rows must be positive")
    if args.workdir is not None:
        if args.workdir.exists() and any(args.workdir.iterdir()):
            raise SystemExit(f"{args.workdir} is not empty: the benchmark needs a fresh landing and warehouse")
        root, keep = args.workdir.resolve(), True
    else:
        root, keep = Path(tempfile.mkdtemp(prefix="voc-bench-")), args.keep
    root.mkdir(parents=True, exist_ok=True)
    try:
        figures = benchmark(args, Workspace(root))
        if args.engine == "duckdb":
            figures.update(postgres_serve(args, Workspace(root), figures))
        print(json.dumps(figures, ensure_ascii=False), flush=True)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
