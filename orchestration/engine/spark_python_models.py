"""dbt Python models on the dbt wrapper's own Spark session.

dbt-spark submits Python models only to Databricks (``all_purpose_cluster`` / ``job_cluster``,
``SparkAdapter.python_submission_helpers``): with the ``session`` method the build fails with
"Databricks cluster_id is required". The project's two Python models
(``int_improvement__tests``, ``int_root_cause__tests``) need no cluster: their compiled code is
dbt-spark's own (``py_write_table``: ``model(dbt, spark)``, then ``saveAsTable`` in the model's
``file_format``) and only needs a global ``spark``. ``enable_session_python_models`` adds a
``session`` submission method that runs that code in this process with ``spark`` bound to the
process's session (the one with the Hive catalog, the UDFs and the lake's tables), and makes it the
default. Called by ``orchestration.engine.spark_dbt`` before dbt starts; dbt's own process only.
"""

from __future__ import annotations

from typing import Any

SESSION_METHOD = "session"


class SessionPythonJobHelper:
    """A dbt ``PythonJobHelper`` that executes a Python model's compiled code in the active session."""

    def __init__(self, parsed_model: dict, credentials: Any) -> None:
        self.relation = f"{parsed_model['schema']}.{parsed_model['alias']}"

    def submit(self, compiled_code: str) -> None:
        from pyspark.sql import SparkSession

        # dbt runs models in its worker threads, where no session is active yet: getOrCreate()
        # hands back the process's session, as dbt-spark's session method does for SQL
        spark = SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
        code = compile(compiled_code, f"<dbt Python model {self.relation}>", "exec")
        exec(code, {"__name__": f"dbt_python_model_{self.relation.replace('.', '_')}", "spark": spark})  # noqa: S102


def enable_session_python_models() -> None:
    """Make ``session`` a submission method of dbt-spark, and the default one (idempotent)."""
    from dbt.adapters.base import PythonJobHelper
    from dbt.adapters.spark.impl import SparkAdapter

    if getattr(SparkAdapter, "_voc_session_python_models", False):
        return
    helper = type("SessionPythonJobHelper", (SessionPythonJobHelper, PythonJobHelper), {})
    databricks_helpers = SparkAdapter.python_submission_helpers.fget
    SparkAdapter.python_submission_helpers = property(lambda self: {**databricks_helpers(self), SESSION_METHOD: helper})
    SparkAdapter.default_python_submission_method = property(lambda self: SESSION_METHOD)
    SparkAdapter._voc_session_python_models = True
