"""Serving publications to a real PostgreSQL server (started by the ``postgres_server`` fixture).

The loop test is the issue's "readers never see a mart missing or half loaded": reader
connections query ``voc_marts`` without pause while publications A, B, A', B', ... are served
one after another, and every answer must match the manifest of the run id it read.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import errors
from serving_publications import write_publication

from orchestration.cli import main
from orchestration.serving.postgres import ServingError, grant_readonly, serve_publication, serving_status

pytestmark = pytest.mark.postgres

READER_PASSWORD = "reader-pw-5521"
MARTS = ("fct_feedback", "kpi_daily", "tag_trends")


@pytest.fixture(scope="module")
def publications(tmp_path_factory):
    """Four publications of different sizes: run id -> (folder, rows per mart)."""
    root = tmp_path_factory.mktemp("publications")
    made = {}
    for run_id, rows in (("run-A", 3000), ("run-B", 2000), ("run-A2", 3600), ("run-B2", 1500)):
        manifest = write_publication(root / run_id, run_id, rows=rows)
        made[run_id] = (root / run_id, {name: mart["rows"] for name, mart in manifest["marts"].items()})
    return made


@pytest.fixture(scope="module")
def served(postgres_server, publications):
    """A database where bi_reader is registered (before anything is served) and run-A is served."""
    url = postgres_server.url()
    grant_readonly(url, "bi_reader", READER_PASSWORD)
    serve_publication(publications["run-A"][0], url)
    return url


def test_readers_never_see_a_mart_missing_or_half_loaded(postgres_server, publications, served):
    expected = {run_id: rows for run_id, (_, rows) in publications.items()}
    valid_counts = {mart: {rows[mart] for rows in expected.values()} for mart in MARTS}
    stop = threading.Event()
    problems: list[str] = []
    seen: dict[str, set[str]] = {}
    iterations: dict[str, int] = {}

    def transaction_reader(name: str, url: str) -> None:
        """Each iteration one READ COMMITTED transaction: run id first, then every mart's count."""
        try:
            with psycopg.connect(url) as conn:
                while not stop.is_set():
                    with conn.transaction():
                        run_id = conn.execute("SELECT run_id FROM voc_marts._publication").fetchone()[0]
                        counts = {m: conn.execute(f"SELECT count(*) FROM voc_marts.{m}").fetchone()[0] for m in MARTS}
                    if counts != expected[run_id]:
                        problems.append(f"{name}: {run_id} read {counts}, manifest {expected[run_id]}")
                    seen.setdefault(name, set()).add(run_id)
                    iterations[name] = iterations.get(name, 0) + 1
        except Exception as exc:  # a missing table, a permission error: the test fails with it
            problems.append(f"{name}: {type(exc).__name__}: {exc}")

    def autocommit_reader(name: str, url: str) -> None:
        """Plain autocommit statements: one statement reading everything, then one per mart."""
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                while not stop.is_set():
                    counts_sql = ", ".join(f"(SELECT count(*) FROM voc_marts.{m})" for m in MARTS)
                    run_id, *counts = conn.execute(f"SELECT (SELECT run_id FROM voc_marts._publication), {counts_sql}").fetchone()
                    if dict(zip(MARTS, counts)) != expected[run_id]:
                        problems.append(f"{name}: one statement read {run_id} {counts}")
                    for mart in MARTS:
                        count = conn.execute(f"SELECT count(*) FROM voc_marts.{mart}").fetchone()[0]
                        if count not in valid_counts[mart]:
                            problems.append(f"{name}: {mart} has {count} rows, no publication has that many")
                    seen.setdefault(name, set()).add(run_id)
                    iterations[name] = iterations.get(name, 0) + 1
        except Exception as exc:
            problems.append(f"{name}: {type(exc).__name__}: {exc}")

    reader_url = postgres_server.url(user="bi_reader", password=READER_PASSWORD)
    threads = [
        threading.Thread(target=transaction_reader, args=("tx-admin", served)),
        threading.Thread(target=transaction_reader, args=("tx-bi_reader", reader_url)),
        threading.Thread(target=autocommit_reader, args=("autocommit-bi_reader", reader_url)),
    ]
    for thread in threads:
        thread.start()
    results = []
    try:
        time.sleep(0.5)
        for run_id in ("run-B", "run-A2", "run-B2", "run-A", "run-B", "run-A2"):
            results.append(serve_publication(publications[run_id][0], served))
            time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not problems, problems[:10]
    assert [result.run_id for result in results] == ["run-B", "run-A2", "run-B2", "run-A", "run-B", "run-A2"]
    for name in ("tx-admin", "tx-bi_reader", "autocommit-bi_reader"):
        assert iterations.get(name, 0) >= 10, iterations
        assert len(seen[name]) >= 3, seen  # the readers really read across the swaps
    assert serving_status(served).run_id == "run-A2"


def test_types_keys_indexes_and_comments_are_served(served, publications):
    serve_publication(publications["run-B"][0], served)
    with psycopg.connect(served, autocommit=True) as conn:
        types = dict(conn.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "WHERE a.attrelid = 'voc_marts.fct_feedback'::regclass AND a.attnum > 0 AND NOT a.attisdropped").fetchall())
        assert types == {
            "feedback_id": "text", "source": "text", "created_at": "timestamp with time zone", "feedback_date": "date",
            "store_id": "text", "sentiment_score": "double precision", "rating_nps": "integer", "is_vip": "boolean",
            "tags": "text[]", "priority_detail": "jsonb", "order_amount": "numeric(10,2)",
        }
        keys = dict(conn.execute(
            "SELECT c.conrelid::regclass::text, array_agg(a.attname ORDER BY k.ord) FROM pg_constraint c "
            "CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum "
            "WHERE c.contype = 'p' AND c.connamespace = 'voc_marts'::regnamespace GROUP BY 1").fetchall())
        assert keys == {"voc_marts.fct_feedback": ["feedback_id"], "voc_marts.kpi_daily": ["feedback_date", "source", "store_id"]}
        indexes = {row[0]: row[1] for row in conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'voc_marts'").fetchall()}
        for column in ("feedback_date", "source", "store_id"):
            assert f"btree ({column})" in indexes[f"fct_feedback_{column}_idx"]
        assert "gin (tags)" in indexes["fct_feedback_tags_idx"]
        assert {"tag_trends_tag_idx", "tag_trends_period_start_idx", "kpi_daily_source_idx"} <= set(indexes)
        assert conn.execute("SELECT obj_description('voc_marts.fct_feedback'::regclass, 'pg_class')").fetchone()[0] == \
            "One row per piece of customer feedback, every source."
        comments = dict(conn.execute(
            "SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a "
            "WHERE a.attrelid = 'voc_marts.kpi_daily'::regclass AND a.attnum > 0").fetchall())
        assert comments["n_feedback"] == "The n_feedback of the row (kpi_daily)."
        row = conn.execute("SELECT tags, priority_detail, created_at, order_amount, rating_nps FROM voc_marts.fct_feedback "
                           "WHERE feedback_id = 'fb:3:run-B'").fetchone()
        assert row[0] == ["物流体验-时效性", "tag3"] and row[1] == {"kind": "rule", "weight": 3}
        assert row[2].isoformat() == "2026-11-01T00:03:00+00:00" and str(row[3]) == "3.00" and row[4] == 3
        assert conn.execute("SELECT tags FROM voc_marts.fct_feedback WHERE feedback_id = 'fb:5:run-B'").fetchone()[0] == []
        assert conn.execute("SELECT run_id, git_revision FROM voc_marts._publication").fetchall() == [("run-B", "abc1234")]
        schemas = {row[0] for row in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'voc_marts%'")}
        assert schemas == {"voc_marts"}  # no loading or retired schema left behind


def test_a_readonly_role_reads_and_cannot_write_or_create_before_and_after_a_swap(postgres_server, served, publications):
    reader_url = postgres_server.url(user="bi_reader", password=READER_PASSWORD)
    for run_id in ("run-B2", "run-A"):
        serve_publication(publications[run_id][0], served)
        with psycopg.connect(reader_url, autocommit=True) as conn:
            assert conn.execute("SELECT run_id FROM voc_marts._publication").fetchone()[0] == run_id
            assert conn.execute("SELECT count(*) FROM voc_marts.fct_feedback").fetchone()[0] == publications[run_id][1]["fct_feedback"]
            for statement in (
                "INSERT INTO voc_marts.tag_trends VALUES ('x', DATE '2026-01-01', 1)",
                "UPDATE voc_marts.fct_feedback SET source = 'x'",
                "DELETE FROM voc_marts.kpi_daily",
                "TRUNCATE voc_marts.tag_trends",
                "CREATE TABLE voc_marts.mine (a int)",
                "CREATE TABLE public.mine (a int)",
                "CREATE SCHEMA mine",
                "DROP TABLE voc_marts.tag_trends",
                "DELETE FROM voc_serving.readonly_roles",
            ):
                with pytest.raises(errors.InsufficientPrivilege):
                    conn.execute(statement)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(postgres_server.url(user="bi_reader", password="wrong")).close()


def test_grant_readonly_creates_a_nologin_role_without_a_password_and_remembers_it(postgres_server, served):
    runner = CliRunner()
    env = {"VOC_SERVE_POSTGRES_URL": served, "VOC_SERVE_READONLY_PASSWORD": ""}
    result = runner.invoke(main, ["serve", "grant-readonly", "bi_group"], env=env)
    assert result.exit_code == 0, result.output
    assert "bi_group created" in result.output and "cannot log in" in result.output
    assert postgres_server.password not in result.output
    result = runner.invoke(main, ["serve", "grant-readonly", "bi_login", "--login"], env=env, input="pw-typed-1\npw-typed-1\n")
    assert result.exit_code == 0, result.output
    assert "pw-typed-1" not in result.output
    with psycopg.connect(served, autocommit=True) as conn:
        login = dict(conn.execute("SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN ('bi_group', 'bi_login')").fetchall())
        assert login == {"bi_group": False, "bi_login": True}
        registered = {row[0] for row in conn.execute("SELECT role_name FROM voc_serving.readonly_roles")}
        assert {"bi_reader", "bi_group", "bi_login"} <= registered
        assert conn.execute("SELECT has_table_privilege('bi_group', 'voc_marts.fct_feedback', 'SELECT')").fetchone()[0]
    with psycopg.connect(postgres_server.url(user="bi_login", password="pw-typed-1")) as conn:
        assert conn.execute("SELECT count(*) > 0 FROM voc_marts.kpi_daily").fetchone()[0]
    status = runner.invoke(main, ["serve", "status"], env=env)
    assert status.exit_code == 0, status.output
    assert "voc_marts serves run" in status.output and "bi_group" in status.output and "fct_feedback" in status.output
    assert postgres_server.password not in status.output


def test_a_failed_load_leaves_the_served_publication_as_it_was(served, publications, tmp_path):
    serve_publication(publications["run-A"][0], served)
    bad = tmp_path / "bad"
    write_publication(bad, "run-bad", rows=100)
    manifest = (bad / "manifest.json").read_text().replace('"rows": 100,', '"rows": 101,')
    (bad / "manifest.json").write_text(manifest)
    with pytest.raises(ServingError, match="fct_feedback got 100 rows, the manifest says 101"):
        serve_publication(bad, served)
    status = serving_status(served)
    assert status.run_id == "run-A" and status.rows == publications["run-A"][1]
    with psycopg.connect(served, autocommit=True) as conn:
        assert {row[0] for row in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'voc_marts%'")} == {"voc_marts"}


def test_a_long_reader_makes_the_swap_give_way_and_wait_then_fail_cleanly(served, publications):
    serve_publication(publications["run-A"][0], served)
    with psycopg.connect(served) as holder:
        holder.execute("SELECT count(*) FROM voc_marts.fct_feedback").fetchone()  # holds ACCESS SHARE until rollback
        started = time.perf_counter()
        with pytest.raises(ServingError, match="through 3 attempts of 100 ms; the previous publication stays served"):
            serve_publication(publications["run-B"][0], served, lock_timeout_ms=100, swap_attempts=3)
        assert time.perf_counter() - started < 30
        # the long reader was never disturbed and still reads the old publication
        assert holder.execute("SELECT run_id FROM voc_marts._publication").fetchone()[0] == "run-A"
        holder.rollback()
    assert serving_status(served).run_id == "run-A"

    with psycopg.connect(served) as holder:
        holder.execute("SELECT count(*) FROM voc_marts.fct_feedback").fetchone()
        release = threading.Timer(1.0, holder.rollback)
        release.start()
        result = serve_publication(publications["run-B"][0], served, lock_timeout_ms=100, swap_attempts=100)
        release.join()
    assert result.swap_attempts > 1 and serving_status(served).run_id == "run-B"


def test_a_wrong_password_error_does_not_hold_it(postgres_server, publications):
    url = postgres_server.url(password="not-the-password-9931")
    with pytest.raises(ServingError) as failure:
        serve_publication(publications["run-A"][0], url)
    assert "not-the-password-9931" not in str(failure.value)
    assert f"127.0.0.1:{postgres_server.port}/voc" in str(failure.value)


def test_the_bench_serves_the_current_publication_as_a_stage(postgres_server, publications, tmp_path, monkeypatch, capsys):
    import argparse

    from devtools.bench import pipeline as bench

    workspace = bench.Workspace(tmp_path / "work")
    (workspace.root / "published").mkdir(parents=True)
    (workspace.root / "published" / "current").symlink_to(publications["run-B2"][0])
    monkeypatch.setenv("VOC_SERVE_POSTGRES_URL", postgres_server.url())
    figures = bench.postgres_serve(argparse.Namespace(postgres=False), workspace, {"full_total_without_generate_s": 100.0})
    stage = figures["postgres_serve"]
    assert stage["rows"] == sum(publications["run-B2"][1].values()) and stage["seconds"] > 0
    assert figures["postgres_serve_share_of_full"] == pytest.approx(stage["seconds"] / 100.0, rel=0.05)
    output = capsys.readouterr().out
    assert "postgres serve" in output and "run-B2" in output and postgres_server.password not in output
    assert serving_status(postgres_server.url()).run_id == "run-B2"


def test_each_publication_and_rollback_is_served_through_the_publish_hook(postgres_server, tmp_path):
    """The night's publish and ``voc publish --rollback`` both end in ``after_publish``, which
    serves the now-current publication when ``VOC_SERVE_POSTGRES_URL`` is set."""
    from test_publication import T0, _publish, _warehouse

    from orchestration.publish.asset import after_publish
    from orchestration.publish.publication import current_publication
    from orchestration.settings import VocSettings

    url = postgres_server.url()
    (tmp_path / "wh").mkdir()
    warehouse = _warehouse(tmp_path / "wh" / "voc.duckdb", orders=7)
    publish_dir = tmp_path / "published"
    settings = VocSettings.from_env({
        "VOC_DUCKDB_PATH": str(warehouse), "VOC_PUBLISH_DIR": str(publish_dir), "VOC_SERVE_POSTGRES_URL": url,
    })

    class Log:
        def __init__(self):
            self.lines = []

        def info(self, message):
            self.lines.append(message)

        error = info

    def served_run_and_orders():
        with psycopg.connect(url) as conn:
            run_id = conn.execute("SELECT run_id FROM voc_marts._publication").fetchone()[0]
            return run_id, conn.execute("SELECT count(*) FROM voc_marts.fct_orders").fetchone()[0]

    log = Log()
    metadata = after_publish(settings, _publish(warehouse, publish_dir, "night-1"), log)
    assert metadata["postgres/served"] is True and metadata["postgres/served_run_id"] == "night-1"
    assert served_run_and_orders() == ("night-1", 7)
    _warehouse(warehouse, orders=9)
    after_publish(settings, _publish(warehouse, publish_dir, "night-2", at=T0 + timedelta(days=1)), log)
    assert served_run_and_orders() == ("night-2", 9)

    result = CliRunner().invoke(main, ["publish", "--rollback"], env={
        "VOC_DUCKDB_PATH": str(warehouse), "VOC_PUBLISH_DIR": str(publish_dir), "VOC_SERVE_POSTGRES_URL": url,
    })
    assert result.exit_code == 0, result.output
    assert current_publication(publish_dir).run_id == "night-1"
    assert served_run_and_orders() == ("night-1", 7)
    assert url not in result.output and url not in "\n".join(log.lines)

    unreachable = VocSettings.from_env({
        "VOC_DUCKDB_PATH": str(warehouse), "VOC_PUBLISH_DIR": str(publish_dir),
        "VOC_SERVE_POSTGRES_URL": "postgresql://voc:s3cret-pw@127.0.0.1:9/voc",
    })
    failed = after_publish(unreachable, current_publication(publish_dir), log)
    assert failed["postgres/served"] is False and "s3cret-pw" not in failed["postgres/error"]
    assert served_run_and_orders() == ("night-1", 7)
