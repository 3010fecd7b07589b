"""``python -m devtools.bench.loader --rows N``: the landing load alone, former dict path vs Arrow path.

Generates N demo feedback rows once into a temp landing folder, then loads the whole landing
folder into a new warehouse ``--repeats`` times per path, alternating (dict, arrow, parallel,
dict ...) so that a noisy neighbour on a shared machine hurts all alike. ``arrow`` classifies
every line in the loading process, ``parallel`` (the default load) hands the lines of large
files to one worker process per core (``loaders.files.parallel``); ``--paths`` picks some. Prints per run the
wall time and rows/s (rows = records read, from the load log), then the medians and the ratio;
the last line is the figures as one JSON object. Both paths run in this one process, after one
warm-up load of a small landing folder (imports, dlt start-up).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from loaders.families import FAMILIES
from loaders.pipeline import load_family
from loaders.privacy import RecordGuard, keyed_pseudonymizer

BENCH_KEY = b"bench key: not for real data"
PATHS = {"dict": (False, 1), "arrow": (True, 1), "parallel": (True, None)}
"""path -> (columnar, workers): the former dict path, the Arrow path on one core, on every core."""


def _records_read(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return sum(
            con.execute(f"select coalesce(sum(records_read), 0) from raw.{family}_files").fetchone()[0]
            for family in FAMILIES
        )


DLT_STEPS = ("extract", "normalize", "load")


def _dlt_steps(info: Any) -> dict[str, float]:
    """Seconds of dlt's extract / normalize / load steps of one pipeline run, from its trace."""
    steps = dict.fromkeys(DLT_STEPS, 0.0)
    for step in info.pipeline.last_trace.steps:
        if step.step in steps and step.finished_at is not None:
            steps[step.step] += (step.finished_at - step.started_at).total_seconds()
    return steps


def _load(
    landing: Path, warehouse: Path, guard: RecordGuard, columnar: bool, workers: int | None = None
) -> tuple[float, int, dict[str, float], dict[str, dict[str, float]]]:
    """Seconds of a whole load (every family, as ``load_all``), records read, seconds per family
    and dlt's step seconds per family (the rest of a family's time is the pipeline's set-up)."""
    shutil.rmtree(warehouse.parent, ignore_errors=True)
    per_family, steps = {}, {}
    for family in FAMILIES:
        started = time.perf_counter()
        info = load_family(family, landing, warehouse, guard, columnar=columnar, workers=workers)
        per_family[family] = time.perf_counter() - started
        steps[family] = _dlt_steps(info)
    rows = _records_read(warehouse)
    shutil.rmtree(warehouse.parent, ignore_errors=True)
    return sum(per_family.values()), rows, per_family, steps


def run(rows: int, repeats: int, workdir: Path, seed: int = 7, paths: tuple[str, ...] = tuple(PATHS)) -> dict:
    from devtools.demo.api import generate

    guard = RecordGuard(keyed_pseudonymizer(BENCH_KEY))
    warm = workdir / "warm"
    generate(warm / "landing", rows=500, seed=seed)
    for name in paths:
        _load(warm / "landing", warm / "warehouse" / "voc.duckdb", guard, *PATHS[name])
    landing = workdir / "landing"
    generate(landing, rows=rows, seed=seed)
    times: dict[str, list[float]] = {name: [] for name in paths}
    family_times: dict[str, list[dict[str, float]]] = {name: [] for name in paths}
    step_times: dict[str, list[dict[str, dict[str, float]]]] = {name: [] for name in paths}
    records = 0
    for repeat in range(repeats):
        for name in paths:
            seconds, records, per_family, steps = _load(landing, workdir / name / "voc.duckdb", guard, *PATHS[name])
            times[name].append(seconds)
            family_times[name].append(per_family)
            step_times[name].append(steps)
            families = " ".join(f"{family} {value:.1f}" for family, value in per_family.items())
            print(f"run {repeat + 1} {name:5}: {seconds:8.1f} s  {records / seconds:10,.0f} rows/s  ({families})", flush=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    family_medians = {
        name: {family: statistics.median(run[family] for run in runs) for family in FAMILIES}
        for name, runs in family_times.items()
    }
    step_medians = {
        name: {
            family: {step: statistics.median(run[family][step] for run in runs) for step in DLT_STEPS}
            for family in FAMILIES
        }
        for name, runs in step_times.items()
    }
    result = {
        "rows": rows,
        "records_read": records,
        "repeats": repeats,
        "seconds": times,
        "seconds_per_family": family_times,
        "dlt_steps_per_family": step_times,
        "median_seconds": medians,
        "median_seconds_per_family": family_medians,
        "median_dlt_steps_per_family": step_medians,
        "median_rows_per_second": {name: records / value for name, value in medians.items()},
        "speedup": {f"{name} over {base}": medians[base] / medians[name]
                    for base in paths for name in paths if base != name and paths.index(base) < paths.index(name)},
    }
    for name, value in medians.items():
        print(f"median {name:5}: {value:8.1f} s  {records / value:10,.0f} rows/s")
        for family in FAMILIES:
            steps = step_medians[name][family]
            rest = family_medians[name][family] - sum(steps.values())
            print(
                f"  {family:9} {family_medians[name][family]:7.1f} s = "
                + " + ".join(f"{step} {steps[step]:.1f}" for step in DLT_STEPS)
                + f" + set-up {rest:.1f}"
            )
    for label, speedup in result["speedup"].items():
        print(f"{label}: {speedup:.2f}x faster ({records:,} records read)")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--paths", default=",".join(PATHS), help=f"comma-separated, of {', '.join(PATHS)}")
    args = parser.parse_args(argv)
    paths = tuple(args.paths.split(","))
    if not paths or set(paths) - set(PATHS):
        parser.error(f"--paths: choose among {', '.join(PATHS)}")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.workdir is None:
        with tempfile.TemporaryDirectory(prefix="voc_bench_loader_") as tmp:
            result = run(args.rows, args.repeats, Path(tmp), paths=paths)
    else:
        args.workdir.mkdir(parents=True, exist_ok=True)
        result = run(args.rows, args.repeats, args.workdir, paths=paths)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
