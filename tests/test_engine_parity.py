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

Two nights: the generated landing, then a demo increment (``devtools.demo.increment``: new
feedback and new versions of existing records, some with a changed text) on top of it, each built
by ``voc run`` on both engines. The second night is incremental on both: its marts must be equal
too, and on Spark the text models must have enriched only the texts the first night had not
(the rows computed that the Spark incremental materialization reports in the run's log).
"""

from __future__ import annotations

import json
import math
import os
import re
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
INCREMENT_SHARE = 0.05  # of each family's records: half new, half new versions of existing ones
NIGHTS = (1, 2)
# one `voc run`: about 400 s for Spark on a quiet 2-core machine, but a first Spark night took over
# 1,800 s with the machine's load average at 28 (2026-12-07)
RUN_TIMEOUT_SECONDS = 3600
TEXT_MODELS = ("int_feedback__text_analysis", "int_feedback__text_tags", "int_feedback__text_terms")
# what the Spark incremental materialization reports (macros/incremental.sql), as the Dagster run's
# log shows it in the dbt step; the dbt child's own echo of the line ("voc_nlp adapter: ...") in the
# same output is not counted, or each build would count twice
COMPUTED = re.compile(r" - voc_dbt_models - voc incremental \w+\.(\w+): (\d+) rows computed(, table built whole)?")
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


def _voc_run(env: dict[str, str], log: Path) -> dict[str, Any]:
    """``voc run`` in its own process; its whole output is kept in ``log`` for a failure's reader."""
    voc = str(Path(sys.executable).with_name("voc"))
    started, began = time.monotonic(), _utc_now()
    done = subprocess.run([voc, "run"], env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS)
    output = done.stdout + done.stderr
    log.write_text(output, encoding="utf-8")
    return {"env": env, "returncode": done.returncode, "seconds": time.monotonic() - started,
            "window": (began, _utc_now()), "tail": output[-4000:], "computed": computed_rows(output)}


def computed_rows(output: str) -> dict[str, list[tuple[int, bool]]]:
    """Per model, the (rows computed, built whole) the Spark incremental builds reported."""
    found: dict[str, list[tuple[int, bool]]] = {}
    for model, rows, whole in COMPUTED.findall(output):
        found.setdefault(model, []).append((int(rows), bool(whole)))
    return found


def _spark_text_hashes(settings: Any) -> dict[str, set[str]]:
    """The text hashes the Spark build's feedback items say, and those each text model holds."""
    from orchestration.engine.readers import engine_reader

    with engine_reader(settings) as reader:
        hashes = {"keys": {row["text_hash"] for row in reader.table("intermediate.int_feedback__text_keys", ["text_hash"]).to_pylist()}}
        for model in TEXT_MODELS:
            hashes[model] = [row["text_hash"] for row in reader.table(f"intermediate.{model}", ["text_hash"]).to_pylist()]
    return hashes


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[str, Any]:
    """Night 1 (the generated landing) and night 2 (a demo increment on top), each built by
    ``voc run`` on DuckDB, then on Spark; the marts of each night are read before the next."""
    _require_spark()
    from devtools.demo.generator import generate
    from devtools.demo.increment import add_increment
    from orchestration.settings import VocSettings

    root = tmp_path_factory.mktemp("engine_parity")
    landing = root / "landing"
    generate(landing, rows=PARITY_ROWS, seed=PARITY_SEED, end_date=PARITY_END_DATE)
    nights: dict[int, dict[str, Any]] = {}
    marts: list = []
    for night in NIGHTS:
        if night > 1:
            add_increment(landing, share=INCREMENT_SHARE, seed=PARITY_SEED)
        runs = {
            engine: _voc_run(_engine_env(root, landing, engine), root / f"voc-run-{engine}-night{night}.log")
            for engine in ("duckdb", "spark")
        }
        marts = marts or _public_marts()
        spark_settings = VocSettings.from_env(runs["spark"]["env"])
        texts = _spark_text_hashes(spark_settings) if runs["spark"]["returncode"] == 0 else None
        nights[night] = {"runs": runs, "rows": _read_all(runs, marts), "spark_texts": texts}
    return {"root": root, "nights": nights, "marts": marts}


def _public_marts() -> list:
    """Every mart of the dbt project (the manifest ``voc run`` parsed), with the primary key its
    contract or tests give."""
    from orchestration.project import voc_dbt_project
    from orchestration.publish.publication import public_marts

    manifest = json.loads(Path(voc_dbt_project.manifest_path).read_text("utf-8"))
    return public_marts(manifest)


@pytest.fixture(scope="module")
def marts(builds) -> list:
    return builds["marts"]


def _read_all(runs, marts) -> dict[str, dict[str, list[dict]]]:
    from orchestration.engine.readers import engine_reader
    from orchestration.settings import VocSettings

    rows: dict[str, dict[str, list[dict]]] = {}
    for engine in ("duckdb", "spark"):
        if runs[engine]["returncode"] != 0:
            rows[engine] = {mart.name: None for mart in marts}
            continue
        settings = VocSettings.from_env(runs[engine]["env"])
        with engine_reader(settings) as reader:
            rows[engine] = {
                mart.name: reader.table(f"marts.{mart.relation}").to_pylist() if reader.exists(f"marts.{mart.relation}") else None
                for mart in marts
            }
    return rows


@pytest.fixture(scope="module")
def mart_rows(builds):
    """The first night's marts per engine."""
    return builds["nights"][1]["rows"]


@pytest.mark.parametrize("night", NIGHTS)
def test_every_mart_is_equal_on_duckdb_and_spark(builds, marts, night):
    runs, mart_rows = builds["nights"][night]["runs"], builds["nights"][night]["rows"]
    first = builds["nights"][NIGHTS[0]]["runs"]
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
        for column in clock:  # a row keeps the clock of the night that first wrote it
            for engine, rows in (("duckdb", left), ("spark", right)):
                window = (first[engine]["window"][0], runs[engine]["window"][1])
                found += clock_differences(mart.name, column, rows, engine, window)
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


def test_the_second_spark_night_enriches_only_the_new_texts(builds):
    """Night 1 builds the text models whole; night 2 computes exactly the texts night 1 had not
    enriched (new feedback and changed texts), far fewer than all. Afterwards each Spark text model
    holds every text the feedback says once and nothing else (the texts no item says any more are
    gone), and the same texts with the same versions as DuckDB's."""
    first, second = builds["nights"][1], builds["nights"][2]
    assert first["runs"]["spark"]["returncode"] == 0 and second["runs"]["spark"]["returncode"] == 0, second["runs"]["spark"]["tail"]
    before, after = first["spark_texts"], second["spark_texts"]
    new_texts = after["keys"] - set(before["int_feedback__text_analysis"])
    print(f"texts: {len(before['keys'])} on night 1, {len(after['keys'])} on night 2, {len(new_texts)} of them new")
    assert 0 < len(new_texts) < len(after["keys"]) / 4, "the increment brings a few new texts"
    for model in TEXT_MODELS:
        assert first["runs"]["spark"]["computed"].get(model) == [(len(before["keys"]), True)], (model, first["runs"]["spark"]["computed"])
        assert second["runs"]["spark"]["computed"].get(model) == [(len(new_texts), False)], (model, second["runs"]["spark"]["computed"])
        held = after[model]
        assert len(held) == len(set(held)) and set(held) == after["keys"], model
    # the same texts and versions as DuckDB's incremental tables
    from orchestration.engine.readers import engine_reader
    from orchestration.settings import VocSettings

    versions = {"int_feedback__text_analysis": "analysis_version", "int_feedback__text_tags": "enrichment_version",
                "int_feedback__text_terms": "terms_version"}
    held_by: dict[str, dict[str, set]] = {}
    for engine in ("duckdb", "spark"):
        with engine_reader(VocSettings.from_env(second["runs"][engine]["env"])) as reader:
            held_by[engine] = {
                model: {(row["text_hash"], row[column]) for row in reader.table(f"intermediate.{model}", ["text_hash", column]).to_pylist()}
                for model, column in versions.items()
            }
    assert held_by["duckdb"] == held_by["spark"]


def test_alerts_keep_the_time_they_were_first_raised(builds):
    """An alert of night 1 that night 2 raises again keeps its first_raised_at on each engine
    (Spark's incremental alerts replace the row instead of appending a second one)."""
    for engine in ("duckdb", "spark"):
        first = {row["alert_id"]: row["first_raised_at"] for row in builds["nights"][1]["rows"][engine]["alerts"]}
        second = builds["nights"][2]["rows"][engine]["alerts"]
        again = [row for row in second if row["alert_id"] in first]
        assert again, engine
        assert all(row["first_raised_at"] == first[row["alert_id"]] for row in again), engine
        assert len({row["alert_id"] for row in second}) == len(second), engine


def test_the_computed_rows_are_read_from_the_run_log():
    output = (
        "voc_nlp adapter: voc incremental intermediate.int_feedback__text_analysis: 400 rows computed, table built whole\n"
        "2026-12-07 13:58:20 +0000 - dagster - INFO - voc_everything - d44a - voc_dbt_models - voc incremental "
        "intermediate.int_feedback__text_analysis: 400 rows computed, table built whole\n"
        "voc_nlp adapter: voc incremental marts.alerts: 12 rows computed, replacing 9, table rewritten\n"
        "2026-12-07 13:59:34 +0000 - dagster - INFO - voc_everything - d44a - voc_dbt_models - voc incremental "
        "marts.alerts: 12 rows computed, replacing 9, table rewritten\n"
        "2026-12-07 13:59:35 +0000 - dagster - INFO - voc_everything - d44a - voc_dbt_models - voc incremental "
        "intermediate.int_feedback__text_tags: 3 rows of texts no feedback item says any more removed\n"
    )
    assert computed_rows(output) == {"int_feedback__text_analysis": [(400, True)], "alerts": [(12, False)]}
