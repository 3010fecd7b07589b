"""The Spark engine through a Spark Connect endpoint (``VOC_SPARK_REMOTE=sc://host:port``), the
way a cluster is reached without a driver in this process (docs/spark.md "A real cluster").

The end-to-end test starts a real Connect server from pyspark's own jars (``SparkConnectServer``,
``local[2]``, a Hive catalog with embedded Derby in a temporary folder), runs ``voc run`` against
it on a small demo landing and once on DuckDB, and compares every mart as the engine parity test
does (``tests/test_engine_parity.py``). The unit tests cover the setting: its validation, that a
token in the URL never shows, and which settings a Connect session may set on itself.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestration.settings import EngineConfigError, SparkSettings, VocSettings, remote_host
from tests.test_engine_parity import CLOCK_COLUMNS, SHOWN, clock_differences, mart_differences

CONNECT_ROWS = 150
CONNECT_SEED = 19
TOKEN = "s3cr3t-t0ken-value"


# --- the setting ----------------------------------------------------------------------------------


def _settings(**environ: str) -> VocSettings:
    return VocSettings.from_env({"VOC_ENGINE": "spark", **environ})


def test_a_connect_url_is_read_and_its_token_never_shows():
    url = f"sc://spark.example.com:443/;use_ssl=true;token={TOKEN}"
    settings = _settings(VOC_SPARK_REMOTE=url)
    assert settings.spark.remote == url
    assert settings.spark.remote_host == "spark.example.com:443"
    assert not settings.spark.is_local  # the master of a Connect session is the server's
    assert TOKEN not in repr(settings) and TOKEN not in repr(settings.spark)
    assert settings.child_env({})["VOC_SPARK_REMOTE"] == url  # dbt and voc children reach the same server
    assert not any(TOKEN in str(value) for value in settings.dbt_vars().values())  # vars land in artifacts
    assert remote_host("sc://localhost") == "localhost:15002"


@pytest.mark.parametrize("url", ["spark://head:7077", "sc://", f"http://host:1/;token={TOKEN}", f"sc://host:1/ ;token={TOKEN}"])
def test_a_url_that_is_not_spark_connect_is_refused_without_repeating_it(url):
    with pytest.raises(EngineConfigError) as caught:
        _settings(VOC_SPARK_REMOTE=url)
    assert "VOC_SPARK_REMOTE" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_a_connect_session_sets_only_its_own_sql_settings():
    from orchestration.engine.spark_session import remote_session_conf

    conf = remote_session_conf(
        SparkSettings(
            warehouse_dir="/w",
            remote="sc://h:1",
            conf={"spark.sql.shuffle.partitions": "64", "spark.executor.memory": "8g"},
        )
    )
    assert conf["spark.sql.session.timeZone"] == "UTC" and conf["spark.sql.ansi.enabled"] == "false"
    assert conf["spark.sql.shuffle.partitions"] == "64"
    # fixed when the server starts, or not SQL settings: the server's, never the client's
    for key in ("spark.sql.warehouse.dir", "spark.sql.catalogImplementation", "spark.master", "spark.executor.memory"):
        assert key not in conf


# --- the whole graph through a Connect server -----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _require_spark() -> None:
    pytest.importorskip("pyspark.sql.connect.session", reason="the spark extra with Spark Connect is not installed")
    pytest.importorskip("dbt.adapters.spark", reason="dbt-spark is not installed (the spark extra)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime for Spark (apt-get install openjdk-17-jre-headless)")


def _wait_for_port(port: int, server: subprocess.Popen, log: Path, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the Connect server stopped: {log.read_text('utf-8')[-3000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(1)
    raise AssertionError(f"no Connect server on port {port} after {timeout:.0f}s: {log.read_text('utf-8')[-3000:]}")


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory):
    """A Spark Connect server of pyspark's jars on a free port: (URL, its warehouse folder)."""
    _require_spark()
    import pyspark

    root = tmp_path_factory.mktemp("connect_server")
    warehouse = root / "spark-warehouse"
    port = _free_port()
    submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    command = [
        str(submit),
        "--master", "local[2]",
        "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
        "--conf", f"spark.connect.grpc.binding.port={port}",
        "--conf", "spark.sql.catalogImplementation=hive",
        "--conf", f"spark.sql.warehouse.dir={warehouse}",
        "--conf", f"spark.hadoop.javax.jdo.option.ConnectionURL=jdbc:derby:;databaseName={warehouse}/metastore_db;create=true",
        "--conf", f"spark.driver.extraJavaOptions=-Duser.timezone=UTC -Dderby.system.home={root}",
        "--conf", "spark.executor.extraJavaOptions=-Duser.timezone=UTC",
        "--conf", "spark.sql.shuffle.partitions=4",
        "--conf", "spark.ui.enabled=false",
        # the server's Python workers run the UDFs the clients send: they need nlp_udfs
        "--conf", f"spark.pyspark.python={sys.executable}",
        "spark-internal",
    ]
    log = root / "server.log"
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "SPARK_HOME": str(submit.parent.parent)}
    with log.open("w") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root)
    try:
        _wait_for_port(port, server, log)
        yield f"sc://localhost:{port}", warehouse
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()


def _run_env(root: Path, landing: Path, engine: str, remote: str | None, warehouse: Path | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VOC_", "DAGSTER_", "SPARK_"))}
    data = root / engine
    env.update(
        VOC_ENGINE="spark" if remote else "duckdb",
        VOC_LANDING_DIR=str(landing),
        VOC_DUCKDB_PATH=str(data / "warehouse" / "voc.duckdb"),
        VOC_LAKE_DIR=str(data / "lake"),
        # the server's warehouse folder: readers find dbt's tables there by path
        VOC_SPARK_WAREHOUSE_DIR=str(warehouse or data / "spark-warehouse"),
    )
    if remote:
        env["VOC_SPARK_REMOTE"] = remote
    return env


@pytest.mark.spark
@pytest.mark.e2e
def test_the_whole_graph_through_spark_connect_gives_the_duckdb_marts(connect_server, tmp_path):
    from datetime import datetime, timezone

    from devtools.demo.generator import generate
    from orchestration.marts_reader import DuckDBMartsReader
    from orchestration.project import voc_dbt_project
    from orchestration.publish.publication import DATABASE_NAME, public_marts

    remote, warehouse = connect_server
    landing = tmp_path / "landing"
    generate(landing, rows=CONNECT_ROWS, seed=CONNECT_SEED)
    voc = str(Path(sys.executable).with_name("voc"))
    runs = {}
    for engine, url in (("duckdb", None), ("connect", remote)):
        env = _run_env(tmp_path, landing, engine, url, warehouse if url else None)
        began = datetime.now(timezone.utc).replace(tzinfo=None)
        done = subprocess.run([voc, "run"], env=env, capture_output=True, text=True, timeout=1800)
        runs[engine] = {"env": env, "window": (began, datetime.now(timezone.utc).replace(tzinfo=None))}
        assert done.returncode == 0, f"{engine}: {(done.stdout + done.stderr)[-4000:]}"
        assert "Published" in done.stdout, done.stdout[-2000:]
    marts = public_marts(json.loads(Path(voc_dbt_project.manifest_path).read_text("utf-8")))
    rows = {}
    for engine in runs:
        # the publication each run made (a DuckDB file on both engines): reading the Connect run's
        # tables here would switch this test process, and the Spark tests after it, to Connect
        published = VocSettings.from_env(runs[engine]["env"]).publish_dir / DATABASE_NAME
        with DuckDBMartsReader(published) as reader:
            rows[engine] = {m.name: reader.table(f"main.{m.name}").to_pylist() for m in marts}
    problems = []
    for mart in marts:
        clock = tuple(column for name, column in CLOCK_COLUMNS if name == mart.name)
        found = mart_differences(mart.name, mart.primary_key, rows["duckdb"][mart.name], rows["connect"][mart.name], clock)
        for column in clock:
            found += clock_differences(mart.name, column, rows["connect"][mart.name], "connect", runs["connect"]["window"])
        if found:
            problems.append(f"{mart.name} ({len(found)} differences): " + "; ".join(found[:SHOWN]))
    assert not problems, "\n".join(problems)
    assert sum(len(rows["connect"][m.name]) for m in marts) > 0
