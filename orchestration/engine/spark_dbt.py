"""dbt on Spark with the project's Python UDFs: ``voc-spark-dbt <dbt arguments>``.

dbt-spark's ``session`` method runs every statement through ``SparkSession.builder...getOrCreate()``
in the dbt process, and has no hook to register Python functions. So this wrapper, which
dagster-dbt and ``voc`` start in place of ``dbt`` (``DbtCliResource(dbt_executable=...)``),
builds that session first, in the same process, and then runs dbt's CLI in process:

1. the Spark session of the settings with the Hive catalog (``spark_session.HIVE``): the
   relations dbt builds (incremental tables, views) are remembered from one run to the next;
2. the NLP functions and ``voc_pseudonym`` registered on it (``nlp_udfs.spark_functions``),
   with the NLP configuration dbt is given in ``--vars`` and the pseudonym key from
   ``DBT_ENV_SECRET_VOC_HASH_KEY`` (never SQL text, a var or an artifact);
3. the lake's raw Parquet tables registered as ``raw.<table>`` (``register_lake``), what the
   project's sources name;
4. ``dbtRunner().invoke(<arguments>)``: getOrCreate() hands dbt this very session.

dbt's output (JSON log lines when dagster-dbt sets ``DBT_LOG_FORMAT=json``) stays on stdout;
Spark's own log goes to stderr. The exit status is dbt's: 0 success, 1 a model or test failed,
2 dbt could not run. Commands that open no connection (``--version``, ``parse``, ``deps``,
``clean``, ``ls``) go straight to dbt without a JVM.

Settings: ``voc_spark_master``, ``voc_lake_dir``, ``voc_spark_warehouse_dir`` and the NLP
vars from ``--vars`` when given (``VocSettings.dbt_vars`` of the run), else the ``VOC_*``
environment (``VocSettings.from_env``: dbt started by hand); ``VOC_SPARK_CONF`` from the
environment only (it may hold secrets, and vars land in dbt's artifacts).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# dbt commands that open no connection: no Spark session is started for them
NO_SESSION_COMMANDS = frozenset({"parse", "deps", "clean", "list", "ls", "init", "docs-serve"})
NO_SESSION_FLAGS = frozenset({"--version", "-v", "--help", "-h"})
SPARK_TARGET = "spark"
EXIT_SUCCESS, EXIT_FAILURE, EXIT_ERROR = 0, 1, 2


def dbt_command(args: Sequence[str]) -> str | None:
    """The dbt subcommand of ``args`` (``build``, ``run``...), None when there is none."""
    skip_value = False
    for arg in args:
        if skip_value:
            skip_value = False
            continue
        if arg.startswith("-"):
            # global options that take a value come before the subcommand
            skip_value = "=" not in arg and arg in {"--profiles-dir", "--project-dir", "--log-path", "--target-path"}
            continue
        return arg
    return None


def needs_session(args: Sequence[str]) -> bool:
    if any(arg in NO_SESSION_FLAGS for arg in args):
        return False
    command = dbt_command(args)
    return command is not None and command not in NO_SESSION_COMMANDS


def dbt_vars(args: Sequence[str]) -> dict[str, Any]:
    """The ``--vars`` of ``args`` (JSON or YAML, as dbt reads them); {} without."""
    import yaml

    text = None
    for index, arg in enumerate(args):
        if arg == "--vars" and index + 1 < len(args):
            text = args[index + 1]
        elif arg.startswith("--vars="):
            text = arg.split("=", 1)[1]
    if not text:
        return {}
    document = yaml.safe_load(text)
    return document if isinstance(document, dict) else {}


def spark_settings_for(args: Sequence[str], settings: Any) -> tuple[Any, Any]:
    """(``SparkSettings``, ``NlpConfig``) of this dbt invocation: its ``--vars`` over ``settings``."""
    from nlp_udfs.config import NlpConfig
    from orchestration.settings import NLP_VARIABLES, SparkSettings

    given = dbt_vars(args)
    base = settings.spark

    def pick(name: str, default: str) -> str:
        value = given.get(name)
        return str(value) if value not in (None, "") else default

    spark = SparkSettings(
        master=pick("voc_spark_master", base.master),
        warehouse_dir=pick("voc_spark_warehouse_dir", base.warehouse_dir),
        lake_dir=pick("voc_lake_dir", base.lake_dir),
        conf=base.conf,
        remote=base.remote,
    )
    nlp_strings = settings._nlp_strings()
    nlp = NlpConfig.from_strings({key: pick(name.lower(), nlp_strings[key]) for key, name in NLP_VARIABLES.items()})
    return spark, nlp


# The project's Spark incremental materialization logs what each build did with this prefix
# (dbt_project/macros/incremental.sql, ``voc_spark_incremental_report``), at debug level.
INCREMENTAL_REPORT_PREFIX = "voc incremental "


def forward_incremental_reports(event: Any) -> None:
    """A dbtRunner callback: each incremental build's report (rows computed, rows replaced, how the
    table was written) is logged again as a ``voc_nlp`` adapter message at info level, the channel
    of the enrichment's progress messages, which the Dagster step forwards to the run's log
    (``orchestration.project.forward_nlp_progress``). Spark's executors cannot reach dbt's logger,
    so this is how a Spark night says how many texts it enriched."""
    info = getattr(event, "info", None)
    message = str(getattr(info, "msg", "") or "")
    if getattr(info, "name", "") != "JinjaLogDebug" or not message.startswith(INCREMENTAL_REPORT_PREFIX):
        return
    from dbt.adapters.events.logging import AdapterLogger

    from nlp_udfs.progress import DBT_LOGGER_NAME

    AdapterLogger(DBT_LOGGER_NAME).info(message)


def run_dbt(args: Sequence[str]) -> int:
    """dbt's CLI in this process; its exit status."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner(callbacks=[forward_incremental_reports]).invoke(list(args))
    if result.exception is not None:
        print(f"dbt could not run: {type(result.exception).__name__}: {result.exception}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_SUCCESS if result.success else EXIT_FAILURE


def run_with_session(args: Sequence[str], settings: Any, environ: Mapping[str, str] | None = None) -> int:
    """Steps 1-4 of the module's docstring; the session is stopped when dbt is done."""
    from orchestration.engine.spark_session import HIVE, register_lake, require_pyspark, spark_session
    from orchestration.settings import dbt_child_pseudonym_key, spark_remote_in_environment

    require_pyspark()  # before anything is written
    spark_settings, nlp = spark_settings_for(args, settings)
    if "://" not in spark_settings.warehouse_dir:
        Path(spark_settings.warehouse_dir).mkdir(parents=True, exist_ok=True)
    session = spark_session(
        spark_settings, catalog=HIVE, app_name="voc-dbt", nlp=nlp, pseudonym_key=dbt_child_pseudonym_key(environ)
    )
    try:
        from orchestration.engine.spark_python_models import enable_session_python_models

        enable_session_python_models()  # the project's dbt Python models run in this session
        tables = register_lake(session, spark_settings.lake_dir)
        print(f"voc-spark-dbt: {len(tables)} raw tables from {spark_settings.lake_dir}", file=sys.stderr)
        with spark_remote_in_environment(spark_settings.remote):  # dbt-spark finds the Connect session
            return run_dbt(args)
    finally:
        session.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not needs_session(args):
        dbt = str(Path(sys.executable).with_name("dbt"))
        os.execv(dbt, [dbt, *args])  # no JVM: dbt itself, same arguments, same exit status
    from orchestration.engine.spark_session import SparkEngineError
    from orchestration.settings import VocSettings

    try:
        return run_with_session(args, VocSettings.from_env())
    except SparkEngineError as exc:
        print(f"voc-spark-dbt: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
