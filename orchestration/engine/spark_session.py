"""The Spark session factory, and the one place that knows where the Spark engine keeps tables.

Two kinds of session, built from ``SparkSettings`` (``orchestration.settings``), never from the
environment:

- **the dbt session** (``catalog="hive"``): a Hive catalog whose metastore remembers the
  relations dbt builds (views, incremental tables) from one run to the next. Locally it is
  embedded Derby in ``<spark warehouse>/metastore_db``, which one JVM at a time may open, so only
  the dbt wrapper (``orchestration.engine.spark_dbt``) uses it; on a cluster,
  ``spark.hadoop.hive.metastore.uris`` in ``VOC_SPARK_CONF`` points at a shared metastore.
- **reader sessions** (``catalog="in-memory"``, the default): checks, reports, metadata and
  publishing read tables by path (``table_path``: ``<spark warehouse>/<schema>.db/<table>``,
  Parquet), so they never hold Derby and may run while another process builds.

Both: the settings' master, ``spark.sql.warehouse.dir``, UTC session time, Arrow for Python
UDFs and ``toPandas``, ANSI mode off (as dbt-spark sets it: the models rely on the lenient
semantics DuckDB has), few shuffle partitions on a local master, no Spark UI on a local master
(eight processes on one machine would fight over port 4040), and this interpreter for the Python
workers (they import ``nlp_udfs``). ``VOC_SPARK_CONF`` comes last and wins.

A process has one JVM and one active session; ``spark_session`` returns the active one when its
catalog is the one asked for, and refuses to hand a reader the dbt session's catalog silently.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from nlp_udfs.config import NlpConfig
from nlp_udfs.pseudonyms import DEMO_KEY
from orchestration.settings import SparkSettings

HIVE, IN_MEMORY = "hive", "in-memory"
CATALOGS = (HIVE, IN_MEMORY)
# dlt's dataset of the raw layer in the lake, and the Spark database its tables are registered in
RAW_DATASET = "raw"
METASTORE_FOLDER = "metastore_db"
TAXONOMY_STORE_FOLDER = "_voc_taxonomies"
METASTORE_URI_KEY = "spark.hadoop.hive.metastore.uris"
PYTHON_KEY = "spark.pyspark.python"
DERBY_URL_KEY = "spark.hadoop.javax.jdo.option.ConnectionURL"
# spark.sql.* keys fixed when the server starts: a Connect client may not set them
_STATIC_SQL_KEYS = frozenset({"spark.sql.warehouse.dir", "spark.sql.catalogImplementation"})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://")


class SparkEngineError(RuntimeError):
    """The Spark engine cannot start as configured (no pyspark, no Java, a catalog clash)."""


def is_url(location: str) -> bool:
    return bool(_URL.match(location))


def _join(location: str, *parts: str) -> str:
    return "/".join([location.rstrip("/"), *parts])


def table_path(warehouse_dir: str, schema: str, table: str) -> str:
    """Where Spark keeps the Parquet files of ``<schema>.<table>``: ``<warehouse>/<schema>.db/<table>``
    (a database's default location under ``spark.sql.warehouse.dir``, a managed table's under it)."""
    for name in (schema, table):
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"not a table or schema name: {name!r}")
    return _join(warehouse_dir, f"{schema}.db", table)


def lake_table_path(lake_dir: str, table: str, dataset: str = RAW_DATASET) -> str:
    """Where dlt's filesystem destination writes a raw table: ``<lake>/<dataset>/<table>/``."""
    for name in (dataset, table):
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"not a table or dataset name: {name!r}")
    return _join(lake_dir, dataset, table)


def taxonomy_store(settings: SparkSettings) -> str:
    """The folder of taxonomy documents every executor reads (``nlp_udfs.spark_functions``)."""
    return _join(settings.warehouse_dir, TAXONOMY_STORE_FOLDER)


def session_conf(settings: SparkSettings, catalog: str = IN_MEMORY, app_name: str = "voc") -> dict[str, str]:
    """The configuration a session of ``settings`` starts with (``VOC_SPARK_CONF`` last)."""
    if catalog not in CATALOGS:
        raise ValueError(f"catalog must be one of {CATALOGS}, not {catalog!r}")
    conf = {
        "spark.app.name": app_name,
        "spark.master": settings.master,
        "spark.sql.warehouse.dir": settings.warehouse_dir,
        "spark.sql.catalogImplementation": catalog,
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "false",
        "spark.sql.sources.default": "parquet",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.pythonUDF.arrow.enabled": "true",
        "spark.ui.showConsoleProgress": "false",
        # the JVM's own clock and default zone in UTC too (dates of timestamps without a zone)
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
    }
    if settings.is_local:
        cores = _local_cores(settings.master)
        conf["spark.sql.shuffle.partitions"] = str(max(2, 2 * cores))
        conf["spark.default.parallelism"] = str(max(2, cores))
        conf["spark.ui.enabled"] = "false"
        # the Python workers are this interpreter (its venv has nlp_udfs); on a cluster,
        # spark.pyspark.python in VOC_SPARK_CONF names the executors' one (docs/spark.md)
        conf[PYTHON_KEY] = sys.executable
    if catalog == HIVE and METASTORE_URI_KEY not in settings.conf and DERBY_URL_KEY not in settings.conf:
        if is_url(settings.warehouse_dir):
            raise SparkEngineError(
                f"the Spark warehouse {settings.warehouse_dir} is not a local folder, so embedded Derby cannot hold "
                f"the metastore there: set {METASTORE_URI_KEY} in VOC_SPARK_CONF (docs/spark.md)"
            )
        metastore = os.path.join(settings.warehouse_dir, METASTORE_FOLDER)
        conf[DERBY_URL_KEY] = f"jdbc:derby:;databaseName={metastore};create=true"
        # derby.log beside the metastore, not in whatever folder the process started in
        conf["spark.driver.extraJavaOptions"] += f" -Dderby.system.home={settings.warehouse_dir}"
    conf.update(settings.conf)
    return conf


def _local_cores(master: str) -> int:
    match = re.fullmatch(r"local(?:\[(\*|\d+)(?:,\d+)?\])?", master)
    if not match or match.group(1) is None:
        return 1
    return os.cpu_count() or 1 if match.group(1) == "*" else int(match.group(1))


def require_pyspark() -> None:
    """Raise ``SparkEngineError`` saying what to install when pyspark or Java is missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SparkEngineError(
            "VOC_ENGINE=spark needs the spark extra: make install EXTRAS=spark (pyspark, dbt-spark)"
        ) from None
    if not _java_available():
        raise SparkEngineError("VOC_ENGINE=spark needs Java 17 (e.g. apt-get install openjdk-17-jre-headless)")


def _java_available() -> bool:
    import shutil

    from orchestration.settings import java_home

    home = java_home()
    return bool((home and os.path.exists(os.path.join(home, "bin", "java"))) or shutil.which("java"))


def spark_session(
    settings: SparkSettings,
    catalog: str = IN_MEMORY,
    app_name: str = "voc",
    nlp: NlpConfig | None = None,
    pseudonym_key: bytes | None = None,
) -> Any:
    """A ``SparkSession`` of ``settings`` with ``catalog``; with ``nlp`` or ``pseudonym_key``, the
    NLP functions and ``voc_pseudonym`` registered on it (``nlp_udfs.spark_functions``).

    Starts the JVM on first use in this process; afterwards returns the running session, which
    must have the same catalog (a JVM's catalog cannot change)."""
    if settings.remote:
        session = _remote_session(settings)
    else:
        session = _local_session(settings, catalog, app_name)
    if nlp is not None or pseudonym_key is not None:
        from nlp_udfs.spark_functions import register_functions

        register_functions(session, nlp, pseudonym_key or DEMO_KEY, taxonomy_store(settings))
    return session


def _local_session(settings: SparkSettings, catalog: str, app_name: str) -> Any:
    """A driver in this process (its JVM) against ``settings.master``."""
    require_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        running = active.conf.get("spark.sql.catalogImplementation")
        if running != catalog:
            raise SparkEngineError(
                f"this process already runs a Spark session with the {running} catalog; a {catalog} one needs its own process"
            )
        session = active
    else:
        builder = SparkSession.builder
        for key, value in session_conf(settings, catalog, app_name).items():
            builder = builder.config(key, value)
        if catalog == HIVE:
            builder = builder.enableHiveSupport()
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("WARN")
        python = session.conf.get(PYTHON_KEY, None)
        if python:
            # pyspark names the workers' interpreter of each Python UDF after this attribute, which
            # it takes from PYSPARK_PYTHON only; the conf is the one setting this project passes
            session.sparkContext.pythonExec = python
    return session


def _remote_session(settings: SparkSettings) -> Any:
    """A Spark Connect session at ``settings.remote``: no JVM here. The server owns the master,
    the catalog (its metastore, shared by every client) and the warehouse folder, so the
    catalog asked for does not matter; only the session's own SQL settings are set."""
    try:
        import pyspark.sql.connect.session  # noqa: F401  (grpc and the other Connect dependencies)
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkEngineError(
            "VOC_SPARK_REMOTE needs the spark extra with Spark Connect: make install EXTRAS=spark"
        ) from None
    try:
        # pyspark's own builder, not the Connect one: it also switches pyspark.sql.functions to
        # Connect for this process, which great-expectations' Spark metrics call
        session = SparkSession.builder.remote(settings.remote).getOrCreate()
        for key, value in remote_session_conf(settings).items():
            session.conf.set(key, value)
    except Exception as exc:  # grpc's errors may repeat the URL, and with it a token
        raise SparkEngineError(
            f"cannot use the Spark Connect server at {settings.remote_host}: {type(exc).__name__}"
        ) from None
    return session


def remote_session_conf(settings: SparkSettings) -> dict[str, str]:
    """The settings a Connect session applies to itself: the SQL behaviour the models rely on
    (``session_conf``'s session-level keys), then the ``spark.sql.*`` keys of ``VOC_SPARK_CONF``.
    Everything else (master, memory, catalog) is the server's configuration."""
    conf = {
        key: value
        for key, value in session_conf(settings).items()
        if key.startswith("spark.sql.") and key not in _STATIC_SQL_KEYS
    }
    conf.update({key: value for key, value in settings.conf.items() if key.startswith("spark.sql.")})
    return conf


@contextmanager
def spark_session_scope(settings: SparkSettings, **kwargs: Any) -> Iterator[Any]:
    """``spark_session`` that stops the session (and its JVM's context) when the block ends."""
    session = spark_session(settings, **kwargs)
    try:
        yield session
    finally:
        session.stop()


def read_table(spark: Any, settings: SparkSettings, schema: str, table: str) -> Any:
    """A table dbt built, as a DataFrame read by path (no catalog needed)."""
    return spark.read.parquet(table_path(settings.warehouse_dir, schema, table))


def lake_tables(lake_dir: str, dataset: str = RAW_DATASET) -> dict[str, str]:
    """table -> folder of every raw table in the lake that holds Parquet files (dlt's filesystem
    layout ``<lake>/<dataset>/<table>/<load id>.<file id>.parquet``); a local path or an fsspec URL."""
    from fsspec.core import url_to_fs

    root = _join(lake_dir, dataset)
    fs, root_path = url_to_fs(root)
    if not fs.isdir(root_path):
        return {}
    tables = {}
    for entry in sorted(fs.ls(root_path, detail=True), key=lambda item: item["name"]):
        name = entry["name"].rstrip("/").rsplit("/", 1)[-1]
        if entry["type"] != "directory" or not _IDENTIFIER.fullmatch(name):
            continue
        if any(path.endswith(".parquet") for path in fs.find(entry["name"])):
            tables[name] = lake_table_path(lake_dir, name, dataset)
    return tables


def register_lake(spark: Any, lake_dir: str, dataset: str = RAW_DATASET) -> list[str]:
    """Make the lake's raw Parquet tables readable as ``<dataset>.<table>`` (what dbt's sources
    name), as external tables over their folders: nothing is copied, and dropping one never
    deletes the lake. Registered again on every run, so columns dlt added since are seen.
    Returns the registered table names."""
    spark.sql(f"create database if not exists `{dataset}`")
    registered = []
    for table, location in lake_tables(lake_dir, dataset).items():
        spark.sql(f"drop table if exists `{dataset}`.`{table}`")
        escaped = location.replace("\\", "\\\\").replace("'", "\\'")
        spark.sql(
            f"create table `{dataset}`.`{table}` using parquet options (mergeSchema 'true') location '{escaped}'"
        )
        registered.append(table)
    return registered
