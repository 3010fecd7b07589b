"""Engine parity (issue 19): the same generated landing, built once with ``VOC_ENGINE=duckdb`` and
once with ``VOC_ENGINE=spark`` (local[2]) through the whole Dagster graph (``voc run``: loads,
checks, dbt build with the NLP, reports, alert delivery, publication), gives equal marts.

EVERY mart of ``dbt_project/models/marts`` is compared, row for row on its primary key (the
publication's ``public_marts`` reads it from the dbt contracts and tests; a mart without one is
compared as a sorted multiset of rows): the same columns, numbers within 1e-9 relative, text,
tags, sentiment labels and dates identical. A mart that differs fails the test with the first
differences; ``test_the_comparison_catches_a_changed_value`` shows that a change is caught.
Three columns are the build's own clock, not data: ``alerts.first_raised_at`` is
``current_timestamp`` for an alert raised for the first time, and ``quarantine_summary``'s
``first_quarantined_at`` / ``last_quarantined_at`` are when the loader quarantined a record. Two
builds never agree on them; each engine's value must instead lie within that engine's own run
(``CLOCK_COLUMNS``).

Each build runs ``voc`` in its own process (as ``make run`` does), so the Spark build's JVMs (the
dbt wrapper's and the reader session's) end with it; the marts are then read here through the
product's readers: the DuckDB file read-only, the Spark tables by path through a reader session.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.spark, pytest.mark.e2e]

PARITY_ROWS = 400
PARITY_SEED = 19
PARITY_END_DATE = date(2026, 11, 15)
REL_TOL = 1e-9
ABS_TOL = 1e-12  # a difference of two equal sums, e.g. 0.1 + 0.2 - 0.3, is not a real one
SHOWN = 8
# (mart, column) whose value is the time of the build that raised the row
CLOCK_COLUMNS = {
    ("alerts", "first_raised_at"),
    ("quarantine_summary", "first_quarantined_at"),
    ("quarantine_summary", "last_quarantined_at"),
}
MARTS_DIR = Path(__file__).resolve().parents[1] / "dbt_project" / "models" / "marts"


# --- the comparison (pure; tested below on the real marts with a planted change) -----------------


def normal(value: Any) -> Any:
    """A value as both engines should agree on it: decimals as floats, instants in naive UTC."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    if isinstance(value, (list, tuple)):
        return [normal(item) for item in value]
    if isinstance(value, dict):
        return {key: normal(item) for key, item in value.items()}
    return value


def same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, float) or isinstance(b, float):
            if math.isnan(a) or math.isnan(b):
                return math.isnan(a) and math.isnan(b)
            return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, datetime) and isinstance(b, date) and not isinstance(b, datetime):
        return False
    return a == b


def _sort_key(row: dict[str, Any], columns: list[str]) -> str:
    def rounded(value: Any) -> Any:
        if isinstance(value, float) and math.isfinite(value):
            return float(f"{value:.9g}")
        if isinstance(value, list):
            return [rounded(item) for item in value]
        return value

    return repr([rounded(row[column]) for column in columns])


def mart_differences(
    name: str, key: tuple[str, ...], left: list[dict], right: list[dict], clock: tuple[str, ...] = ()
) -> list[str]:
    """What differs between the DuckDB rows (left) and the Spark rows (right) of one mart; the
    ``clock`` columns are only required on both sides (``clock_differences`` checks their values)."""
    left = [{column: normal(value) for column, value in row.items()} for row in left]
    right = [{column: normal(value) for column, value in row.items()} for row in right]
    problems: list[str] = []
    left_columns = list(left[0]) if left else []
    right_columns = list(right[0]) if right else []
    if left and right and set(left_columns) != set(right_columns):
        problems.append(
            f"{name}: columns only on duckdb {sorted(set(left_columns) - set(right_columns))}, "
            f"only on spark {sorted(set(right_columns) - set(left_columns))}"
        )
        return problems
    if len(left) != len(right):
        problems.append(f"{name}: {len(left)} rows on duckdb, {len(right)} on spark")
    columns = sorted(left_columns or right_columns)
    if key:
        left_by = {tuple(repr(row[k]) for k in key): row for row in left}
        right_by = {tuple(repr(row[k]) for k in key): row for row in right}
        if len(left_by) != len(left) or len(right_by) != len(right):
            problems.append(f"{name}: key {key} is not unique (duckdb {len(left) - len(left_by)}, spark {len(right) - len(right_by)} repeats)")
        only_left, only_right = sorted(left_by.keys() - right_by.keys()), sorted(right_by.keys() - left_by.keys())
        if only_left:
            problems.append(f"{name}: {len(only_left)} keys only on duckdb, e.g. {only_left[:3]}")
        if only_right:
            problems.append(f"{name}: {len(only_right)} keys only on spark, e.g. {only_right[:3]}")
        pairs = [(k, left_by[k], right_by[k]) for k in sorted(left_by.keys() & right_by.keys())]
    else:
        left_sorted = sorted(left, key=lambda row: _sort_key(row, columns))
        right_sorted = sorted(right, key=lambda row: _sort_key(row, columns))
        pairs = [(f"row {i}", a, b) for i, (a, b) in enumerate(zip(left_sorted, right_sorted))]
    for where, a, b in pairs:
        for column in columns:
            if column in clock:
                continue
            if not same(a[column], b[column]):
                problems.append(f"{name} {where} {column}: duckdb {a[column]!r} != spark {b[column]!r}")
    return problems


def clock_differences(name: str, column: str, rows: list[dict], engine: str, window: tuple[datetime, datetime]) -> list[str]:
    """Values of a build-clock column outside the run that built them (naive UTC)."""
    start, end = window
    outside = [row[column] for row in rows if not (normal(row[column]) is not None and start <= normal(row[column]) <= end)]
    return [f"{name}.{column} on {engine}: {len(outside)} values outside its run {start}..{end}, e.g. {outside[:2]}"] if outside else []


# --- the two builds ----------------------------------------------------------------------------


def _require_spark() -> None:
    pytest.importorskip("pyspark", reason="pyspark is not installed (the spark extra: make install EXTRAS=spark)")
    pytest.importorskip("dbt.adapters.spark", reason="dbt-spark is not installed (the spark extra)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime for Spark (apt-get install openjdk-17-jre-headless)")


def _engine_env(root: Path, landing: Path, engine: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VOC_", "DAGSTER_"))}
    data = root / engine
    env.update(
        VOC_ENGINE=engine,
        VOC_LANDING_DIR=str(landing),
        VOC_DUCKDB_PATH=str(data / "warehouse" / "voc.duckdb"),
        VOC_LAKE_DIR=str(data / "lake"),
        VOC_SPARK_WAREHOUSE_DIR=str(data / "spark-warehouse"),
        VOC_SPARK_MASTER="local[2]",
    )
    return env


def _utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[str, Any]:
    _require_spark()
    from devtools.demo.generator import generate

    root = tmp_path_factory.mktemp("engine_parity")
    landing = root / "landing"
    generate(landing, rows=PARITY_ROWS, seed=PARITY_SEED, end_date=PARITY_END_DATE)
    voc = str(Path(sys.executable).with_name("voc"))
    runs = {}
    for engine in ("duckdb", "spark"):
        env = _engine_env(root, landing, engine)
        started, began = time.monotonic(), _utc_now()
        done = subprocess.run([voc, "run"], env=env, capture_output=True, text=True, timeout=1800)
        runs[engine] = {"env": env, "returncode": done.returncode, "seconds": time.monotonic() - started,
                        "window": (began, _utc_now()), "tail": (done.stdout + done.stderr)[-4000:]}
    return {"root": root, "runs": runs}


@pytest.fixture(scope="module")
def marts(builds) -> list:
    """Every mart of the dbt project, with the primary key its contract or tests give."""
    from orchestration.project import voc_dbt_project
    from orchestration.publish.publication import public_marts

    manifest = json.loads(Path(voc_dbt_project.manifest_path).read_text("utf-8"))
    return public_marts(manifest)


def _read_all(builds, marts) -> dict[str, dict[str, list[dict]]]:
    from orchestration.engine.readers import engine_reader
    from orchestration.settings import VocSettings

    rows: dict[str, dict[str, list[dict]]] = {}
    for engine in ("duckdb", "spark"):
        settings = VocSettings.from_env(builds["runs"][engine]["env"])
        with engine_reader(settings) as reader:
            rows[engine] = {
                mart.name: reader.table(f"marts.{mart.relation}").to_pylist() if reader.exists(f"marts.{mart.relation}") else None
                for mart in marts
            }
    return rows


@pytest.fixture(scope="module")
def mart_rows(builds, marts):
    return _read_all(builds, marts)


def test_every_mart_is_equal_on_duckdb_and_spark(builds, marts, mart_rows):
    runs = builds["runs"]
    print({engine: f"{run['seconds']:.0f}s rc={run['returncode']}" for engine, run in runs.items()})
    assert runs["duckdb"]["returncode"] == 0, runs["duckdb"]["tail"]
    # every model file of the marts folder is compared, none left out
    model_files = {path.stem for path in MARTS_DIR.rglob("*.sql")}
    assert model_files and model_files <= {mart.name for mart in marts}, sorted(model_files - {m.name for m in marts})
    problems: list[str] = []
    for mart in marts:
        left, right = mart_rows["duckdb"][mart.name], mart_rows["spark"][mart.name]
        if left is None or right is None:
            problems.append(f"{mart.name}: not built on {'duckdb' if left is None else 'spark'}")
            continue
        clock = tuple(column for mart_name, column in CLOCK_COLUMNS if mart_name == mart.name)
        found = mart_differences(mart.name, mart.primary_key, left, right, clock)
        for column in clock:
            found += clock_differences(mart.name, column, left, "duckdb", runs["duckdb"]["window"])
            found += clock_differences(mart.name, column, right, "spark", runs["spark"]["window"])
        if found:
            problems.append(f"{mart.name} ({len(found)} differences): " + "; ".join(found[:SHOWN]))
    assert not problems, "\n".join(problems)
    # and the Spark run as a whole (checks, reports, alert delivery, publication) succeeded
    assert runs["spark"]["returncode"] == 0, runs["spark"]["tail"]


def test_the_comparison_catches_a_changed_value(marts, mart_rows):
    """A number off by 1e-6 relative, one changed tag and one missing row are each reported."""
    duck = mart_rows["duckdb"]
    numeric = next(
        (mart, row, column)
        for mart in marts if duck[mart.name]
        for row in duck[mart.name][:1]
        for column, value in row.items()
        if isinstance(value, float) and value and column not in mart.primary_key
    )
    mart, row, column = numeric
    changed = [dict(r) for r in duck[mart.name]]
    changed[0][column] = row[column] * (1 + 1e-6)
    assert mart_differences(mart.name, mart.primary_key, duck[mart.name], changed)
    assert not mart_differences(mart.name, mart.primary_key, duck[mart.name], [dict(r) for r in duck[mart.name]])
    changed[0][column] = row[column] * (1 + 1e-12)  # within the tolerance
    assert not mart_differences(mart.name, mart.primary_key, duck[mart.name], changed)
    assert mart_differences(mart.name, mart.primary_key, duck[mart.name], duck[mart.name][1:])

    tagged = next(
        (mart, i, column)
        for mart in marts if duck[mart.name]
        for i, row in enumerate(duck[mart.name])
        for column, value in row.items()
        if isinstance(value, list) and value and isinstance(value[0], str)
    )
    mart, i, column = tagged
    changed = [dict(r) for r in duck[mart.name]]
    changed[i][column] = [*changed[i][column][:-1], changed[i][column][-1] + "x"]
    assert any(column in problem for problem in mart_differences(mart.name, mart.primary_key, duck[mart.name], changed))
