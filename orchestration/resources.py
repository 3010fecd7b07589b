"""Dagster resources, built from the deployment's settings (``orchestration.settings``)."""


from pathlib import Path

import dagster as dg
from dagster_dlt import DagsterDltResource

from orchestration.project import dbt_cli_resource
from orchestration.settings import VocSettings

# DuckDB allows one writer per file: every asset that writes the warehouse runs in this pool.
DUCKDB_WRITER_POOL = "voc_duckdb_writer"

# Assets and sensors that need more than the two paths take the whole settings object.
SettingsResource = dg.ResourceParam[VocSettings]


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

    @classmethod
    def from_settings(cls, settings: VocSettings) -> "VocWarehouse":
        return cls(landing_dir=str(settings.landing_dir), duckdb_path=str(settings.warehouse_path))

    def connect_read_only(self):
        """Readers never take the single DuckDB write lock."""
        import duckdb

        return duckdb.connect(str(self.warehouse_path), read_only=True)


def build_resources(settings: VocSettings) -> dict[str, object]:
    return {
        "settings": settings,
        "warehouse": VocWarehouse.from_settings(settings),
        "dlt": DagsterDltResource(),
        "dbt": dbt_cli_resource(settings),
    }
