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


def _load(
    landing: Path, warehouse: Path, guard: RecordGuard, columnar: bool, workers: int | None = None
) -> tuple[float, int, dict[str, float]]:
    """Seconds of a whole load (every family, as ``load_all``), records read, seconds per family."""
    shutil.rmtree(warehouse.parent, ignore_errors=True)
    per_family = {}
    for family in FAMILIES:
        started = time.perf_counter()
        load_family(family, landing, warehouse, guard, columnar=columnar, workers=workers)
        per_family[family] = time.perf_counter() - started
    rows = _records_read(warehouse)
    shutil.rmtree(warehouse.parent, ignore_errors=True)
    return sum(per_family.values()), rows, per_family


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
    records = 0
    for repeat in range(repeats):
        for name in paths:
            seconds, records, per_family = _load(landing, workdir / name / "voc.duckdb", guard, *PATHS[name])
            times[name].append(seconds)
            family_times[name].append(per_family)
            families = " ".join(f"{family} {value:.1f}" for family, value in per_family.items())
            print(f"run {repeat + 1} {name:5}: {seconds:8.1f} s  {records / seconds:10,.0f} rows/s  ({families})", flush=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    result = {
        "rows": rows,
        "records_read": records,
        "repeats": repeats,
        "seconds": times,
        "seconds_per_family": family_times,
        "median_seconds": medians,
        "median_rows_per_second": {name: records / value for name, value in medians.items()},
        "speedup": {f"{name} over {base}": medians[base] / medians[name]
                    for base in paths for name in paths if base != name and paths.index(base) < paths.index(name)},
    }
    for name, value in medians.items():
        print(f"median {name:5}: {value:8.1f} s  {records / value:10,.0f} rows/s")
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
