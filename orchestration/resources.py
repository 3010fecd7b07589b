"""Dagster resources, configured from the environment when a run starts."""


from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_dlt import DagsterDltResource

from orchestration.project import DBT_EXECUTABLE, voc_dbt_project

# DuckDB allows one writer per file: every asset that writes the warehouse runs in this pool.
DUCKDB_WRITER_POOL = "voc_duckdb_writer"


class VocWarehouse(dg.ConfigurableResource):
    """The landing folder and DuckDB warehouse file of this deployment."""

    landing_dir: str
    duckdb_path: str

    @property
    def landing_path(self) -> Path:
        return Path(self.landing_dir)

    @property
    def warehouse_path(self) -> Path:
        return Path(self.duckdb_path)

    def connect_read_only(self):
        """Readers never take the single DuckDB write lock."""
        import duckdb

        return duckdb.connect(str(self.warehouse_path), read_only=True)


def build_resources() -> dict[str, object]:
    return {
        "warehouse": VocWarehouse(
            landing_dir=dg.EnvVar("VOC_LANDING_DIR"),
            duckdb_path=dg.EnvVar("VOC_DUCKDB_PATH"),
        ),
        "dlt": DagsterDltResource(),
        "dbt": DbtCliResource(project_dir=voc_dbt_project, dbt_executable=DBT_EXECUTABLE),
    }
