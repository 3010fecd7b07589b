"""dbt Python models on the wrapper's Spark session (orchestration/engine/spark_python_models.py),
without a JVM: the submission method dbt-spark is given, and what the compiled code sees."""

import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed (the spark extra)")
pytest.importorskip("dbt.adapters.spark", reason="dbt-spark is not installed (the spark extra)")

from dbt.adapters.spark.impl import SparkAdapter  # noqa: E402

from orchestration.engine.spark_python_models import SESSION_METHOD, enable_session_python_models  # noqa: E402

MODEL = {"schema": "intermediate", "alias": "int_x__tests", "config": {}}


def test_session_becomes_dbt_sparks_default_python_submission_method():
    enable_session_python_models()
    enable_session_python_models()  # idempotent
    adapter = object.__new__(SparkAdapter)  # the properties need no connection
    assert adapter.default_python_submission_method == SESSION_METHOD
    assert {"all_purpose_cluster", "job_cluster", SESSION_METHOD} <= set(adapter.python_submission_helpers)


def test_the_compiled_code_runs_with_spark_bound_to_the_process_session(monkeypatch):
    from pyspark.sql import SparkSession

    enable_session_python_models()
    helper = object.__new__(SparkAdapter).python_submission_helpers[SESSION_METHOD](MODEL, credentials=None)

    class FakeSession:
        written = None

    session = FakeSession()
    monkeypatch.setattr(SparkSession, "getActiveSession", staticmethod(lambda: session))
    helper.submit("def model(dbt, s):\n    return 42\nspark.written = model(None, spark)\n")
    assert session.written == 42
    # in dbt's worker threads no session is active: the process's session is taken
    monkeypatch.setattr(SparkSession, "getActiveSession", staticmethod(lambda: None))
    other = FakeSession()

    class Builder:
        def getOrCreate(self):
            return other

    monkeypatch.setattr(SparkSession, "builder", Builder())
    helper.submit("spark.written = 'thread'\n")
    assert other.written == "thread"
