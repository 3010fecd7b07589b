"""Write-audit-publish in the real job (docs/publishing.md), on one small demo warehouse:

1. a first night publishes; a reader process then holds the published file open and re-opens it
   in a loop while a second whole night runs and publishes: every answer comes whole from the
   first or the second publication (run id in ``_publication``, row counts as in its manifest);
   With a PostgreSQL server at hand, every publication is also served to it, and a reader thread
   queries schema ``voc_marts`` in a loop through the second night the same way;
2. a third night whose blocking raw check fails publishes nothing, leaves the current
   publication byte for byte as it was, and says why in the run log and on the asset;
3. ``voc publish --rollback`` makes the first publication current again, and refuses a second
   time because no earlier one is kept.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time

import dagster as dg
import duckdb
import pytest
from click.testing import CliRunner

from orchestration.publish.publication import (
    CURRENT_LINK,
    DATABASE_NAME,
    MANIFEST_NAME,
    current_publication,
    list_publications,
)
from orchestration.settings import VocSettings

pytestmark = pytest.mark.e2e

DEMO_ROWS = 400
DEMO_SEED = 8
PUBLISHED = dg.AssetKey(["published_marts"])
# what the PostgreSQL reader of the second night saw (filled by the ``nights`` fixture)
POSTGRES_READS: dict = {}

# A BI tool: one connection opened before the night and kept, plus a new connection per loop.
# Each answer: the publication's run id and the row count of every mart, read in one query.
READER = textwrap.dedent("""
    import json, os, sys, time, duckdb
    path, out, ready, stop = sys.argv[1:5]

    def answer(con):
        tables = [row[0] for row in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'main' and table_name <> '_publication' "
            "order by 1").fetchall()]
        counts = ", ".join(f'(select count(*) from "{table}")' for table in tables)
        row = con.execute(f"select (select run_id from _publication), {counts}").fetchone()
        return {"run_id": row[0], "rows": dict(zip(tables, row[1:]))}

    held = duckdb.connect(path, read_only=True)
    answers, stopping = [], False
    while True:
        stopping = stopping or os.path.exists(stop)
        for kind in ("held", "fresh"):
            try:
                if kind == "held":
                    answers.append({"kind": kind, **answer(held)})
                else:
                    with duckdb.connect(path, read_only=True) as con:
                        answers.append({"kind": kind, **answer(con)})
            except Exception as exc:
                answers.append({"kind": kind, "error": repr(exc)})
        if not os.path.exists(ready):
            open(ready, "w").close()
        if stopping:
            break
        time.sleep(0.2)
    held.close()
    with open(out, "w") as handle:
        json.dump(answers, handle)
""")


def _postgres_reader(url: str, answers: list, stop: threading.Event) -> None:
    """A BI tool on PostgreSQL: the served run id and every mart's row count, in one statement
    (one snapshot), in a loop; one last read after ``stop``."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            stopping = stop.is_set()
            try:
                tables = [row[0] for row in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'voc_marts' "
                    "AND table_name <> '_publication' ORDER BY 1").fetchall()]
                counts = ", ".join(f'(SELECT count(*) FROM voc_marts."{table}")' for table in tables)
                row = conn.execute(f"SELECT (SELECT run_id FROM voc_marts._publication), {counts}").fetchone()
                answers.append({"run_id": row[0], "rows": dict(zip(tables, row[1:]))})
            except Exception as exc:  # noqa: BLE001 - every failure is an answer the test rejects
                answers.append({"error": repr(exc)})
            if stopping:
                return
            time.sleep(0.2)


def _postgres_url_or_none(request) -> str | None:
    try:
        return request.getfixturevalue("postgres_server").url()
    except pytest.skip.Exception:
        return None


def _run(settings: VocSettings, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    from orchestration.pipeline_run import run_everything

    return run_everything(settings, instance=instance, log_level="WARNING")


def _corrupt_surveys(settings: VocSettings) -> None:
    """One NPS answer out of range: the blocking raw check gx_errors of raw/surveys fails."""
    with duckdb.connect(str(settings.warehouse_path)) as con:
        (first,) = con.execute("select response_id from raw.surveys order by response_id limit 1").fetchone()
        con.execute("update raw.surveys set answers__nps = 42 where response_id = ?", [first])


@pytest.fixture(scope="module")
def nights(tmp_path_factory, dbt_manifest, restore_environ, request):
    from devtools.demo.api import generate

    root = tmp_path_factory.mktemp("voc_publish")
    postgres_url = _postgres_url_or_none(request)
    settings = VocSettings(
        landing_dir=root / "landing", warehouse_path=root / "warehouse" / "voc.duckdb", serve_postgres_url=postgres_url
    )
    generate(settings.landing_dir, rows=DEMO_ROWS, seed=DEMO_SEED)
    instance = dg.DagsterInstance.ephemeral()
    first = _run(settings, instance)
    assert first.success, [e.message for e in first.all_events if e.is_step_failure]

    out, ready, stop = root / "answers.json", root / "reader.ready", root / "reader.stop"
    postgres_answers: list = []
    postgres_stop = threading.Event()
    postgres_reader = threading.Thread(target=_postgres_reader, args=(postgres_url, postgres_answers, postgres_stop))
    if postgres_url:
        postgres_reader.start()
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(settings.publish_dir / DATABASE_NAME), str(out), str(ready), str(stop)]
    )
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert reader.poll() is None and time.monotonic() < deadline, "the reader did not start"
            time.sleep(0.1)
        second = _run(settings, instance)
    finally:
        stop.touch()
        postgres_stop.set()
        reader_exit = reader.wait(timeout=300)
        if postgres_url:
            postgres_reader.join(timeout=300)
    answers = json.loads(out.read_text("utf-8")) if out.exists() else []

    current = current_publication(settings.publish_dir)
    before_failure = {
        "current": current.path,
        "manifest": (current.path / MANIFEST_NAME).read_bytes(),
        "database": (current.path / DATABASE_NAME).read_bytes(),
        "kept": [p.name for p in list_publications(settings.publish_dir)],
    }
    _corrupt_surveys(settings)
    third = _run(settings, instance)
    POSTGRES_READS.update(url=postgres_url, answers=postgres_answers)
    return settings, instance, first, second, third, reader_exit, answers, before_failure


def _publication_of(settings: VocSettings, run_id: str):
    (publication,) = [p for p in list_publications(settings.publish_dir) if p.run_id == run_id]
    return publication


def test_readers_see_the_previous_or_the_new_publication_whole_during_a_night(nights):
    settings, _, first, second, _, reader_exit, answers, _ = nights
    assert second.success, [e.message for e in second.all_events if e.is_step_failure]
    assert reader_exit == 0
    assert answers and [a for a in answers if "error" in a] == []
    manifests = {run.run_id: _publication_of(settings, run.run_id).manifest for run in (first, second)}
    for answer in answers:
        assert answer["run_id"] in manifests
        expected = {name: mart["rows"] for name, mart in manifests[answer["run_id"]]["marts"].items()}
        assert answer["rows"] == expected
    # the connection kept open reads the first publication throughout; a new one ends on the second
    assert {a["run_id"] for a in answers if a["kind"] == "held"} == {first.run_id}
    assert [a for a in answers if a["kind"] == "fresh"][-1]["run_id"] == second.run_id
    assert len(answers) >= 4


def test_postgres_readers_see_the_previous_or_the_new_publication_whole_during_a_night(nights):
    settings, _, first, second, *_ = nights
    postgres_url, answers = POSTGRES_READS["url"], POSTGRES_READS["answers"]
    if postgres_url is None:
        pytest.skip("no PostgreSQL server here (see the postgres_server fixture)")
    assert answers and [a for a in answers if "error" in a] == []
    manifests = {run.run_id: _publication_of(settings, run.run_id).manifest for run in (first, second)}
    for answer in answers:
        assert answer["run_id"] in manifests
        assert answer["rows"] == {name: mart["rows"] for name, mart in manifests[answer["run_id"]]["marts"].items()}
    assert answers[0]["run_id"] == first.run_id and answers[-1]["run_id"] == second.run_id


def test_the_publication_holds_every_mart_with_the_nights_metadata(nights):
    settings, _, _, second, *_ = nights
    publication = _publication_of(settings, second.run_id)
    manifest = publication.manifest
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as working:
        marts = {row[0] for row in working.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()}
        working_rows = {mart: working.execute(f'select count(*) from marts."{mart}"').fetchone()[0] for mart in marts}
    assert set(manifest["marts"]) == marts and "fct_feedback" in marts
    assert {name: mart["rows"] for name, mart in manifest["marts"].items()} == working_rows
    assert manifest["marts"]["fct_feedback"]["primary_key"] == ["feedback_id"]
    assert {"created_date", "source", "store_id"} <= set(manifest["marts"]["fct_feedback"]["filter_columns"])
    assert "marts/fct_feedback:gx_errors" in manifest["checks_passed"]
    with duckdb.connect(str(settings.publish_dir / DATABASE_NAME), read_only=True) as con:
        undocumented = con.execute(
            "select table_name, column_name from duckdb_columns() where table_name = 'fct_feedback' "
            "and coalesce(comment, '') = ''").fetchall()
        assert undocumented == []
    (event,) = [e for e in second.get_asset_materialization_events() if e.asset_key == PUBLISHED]
    metadata = event.materialization.metadata
    assert metadata["run_id"].value == second.run_id
    assert metadata["path"].value == str(publication.path)
    assert metadata["rows/fct_feedback"].value == manifest["marts"]["fct_feedback"]["rows"]
    assert metadata["git_revision"].value == manifest["git_revision"] != ""


def test_a_failed_blocking_check_publishes_nothing_and_says_why(nights):
    settings, instance, _, second, third, _, _, before = nights
    assert not third.success
    started = {e.step_key for e in third.all_events if e.event_type == dg.DagsterEventType.STEP_START}
    assert "gx_raw_surveys" in started and "published_marts" not in started
    current = current_publication(settings.publish_dir)
    assert current.path == before["current"] and current.run_id == second.run_id
    assert (current.path / MANIFEST_NAME).read_bytes() == before["manifest"]
    assert (current.path / DATABASE_NAME).read_bytes() == before["database"]
    assert [p.name for p in list_publications(settings.publish_dir)] == before["kept"]
    messages = [entry.user_message for entry in instance.all_logs(third.run_id)]
    (why,) = [m for m in messages if "publishes nothing" in m]
    assert "gx_raw_surveys" in why and "raw/surveys:gx_errors" in why and second.run_id in why
    observations = instance.fetch_observations(PUBLISHED, limit=5).records
    withheld = [r.asset_observation.metadata for r in observations
                if r.asset_observation.metadata["withheld_by_run"].value == third.run_id]
    assert withheld and withheld[0]["published"].value is False
    assert withheld[0]["current_run_id"].value == second.run_id


def test_rollback_restores_the_previous_publication(nights, monkeypatch):
    from orchestration.cli import main

    settings, _, first, second, *_ = nights
    env = {"VOC_DUCKDB_PATH": str(settings.warehouse_path), "VOC_LANDING_DIR": str(settings.landing_dir)}
    for name in ("VOC_PUBLISH_DIR", "VOC_PUBLISH_KEEP"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    result = runner.invoke(main, ["publish", "--rollback"], env=env)
    assert result.exit_code == 0, result.output
    assert f"(run {second.run_id}) to" in result.output and first.run_id in result.output
    assert current_publication(settings.publish_dir).run_id == first.run_id
    with duckdb.connect(str(settings.publish_dir / DATABASE_NAME), read_only=True) as con:
        assert con.execute("select run_id from _publication").fetchone() == (first.run_id,)
    assert (settings.publish_dir / CURRENT_LINK).is_symlink()

    refused = runner.invoke(main, ["publish", "--rollback"], env=env)
    assert refused.exit_code == 2 and "no earlier publication" in refused.output
    assert current_publication(settings.publish_dir).run_id == first.run_id
    status = runner.invoke(main, ["publish", "--status"], env=env)
    assert status.exit_code == 0 and f"run {first.run_id}" in status.output and "(rolled back)" in status.output


def test_the_publish_step_waits_for_the_dbt_build_and_the_blocking_mart_checks(dbt_manifest):
    from dagster._core.execution.api import create_execution_plan

    from orchestration.definitions import defs

    plan = create_execution_plan(defs.resolve_job_def("voc_everything"))
    assert plan.get_executable_step_deps()["published_marts"] == {"voc_dbt_models", "gx_marts"}
