"""dlt loads of every source family into the `raw` schema, one Dagster asset per dlt resource."""


import tempfile
from pathlib import Path

import dagster as dg
import dlt
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from loaders.api import describe_source_choice, find_api_page_error, source_for_family, step_retry_budget
from loaders.pipeline import ensure_child_tables, make_pipeline
from loaders.sources import SOURCES
from orchestration.resources import VocWarehouse

# DuckDB allows one writer per file: every asset that writes the warehouse runs in this pool.
DUCKDB_WRITER_POOL = "voc_duckdb_writer"


def raw_asset_key(resource_name: str) -> dg.AssetKey:
    """The asset key of a dlt resource; dbt sources are mapped onto the same keys."""
    return dg.AssetKey(["raw", resource_name])


class VocDltTranslator(DagsterDltTranslator):
    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        return spec.replace_attributes(
            key=raw_asset_key(data.resource.name),
            deps=[],
            group_name="raw",
            description=(
                f"`raw.{data.resource.name}` loaded by dlt from the landing folder "
                "(newest version of each record wins; contract breakers go to the quarantine table)."
            ),
            kinds={"dlt", "duckdb"},
            owners=["team:data-engineering"],
        )


def _asset_spec_pipeline(family: str) -> dlt.Pipeline:
    """Describes the destination to Dagster only; each run builds the warehouse's own pipeline."""
    return dlt.pipeline(
        pipeline_name=f"voc_{family}_asset_spec",
        destination="duckdb",
        dataset_name="raw",
        pipelines_dir=str(Path(tempfile.gettempdir()) / "voc_dlt_asset_specs"),
    )


def _build_family_assets(family: str) -> dg.AssetsDefinition:
    source_factory = SOURCES[family]

    @dlt_assets(
        dlt_source=source_factory(landing_dir="."),
        dlt_pipeline=_asset_spec_pipeline(family),
        name=f"load_{family}",
        dagster_dlt_translator=VocDltTranslator(),
        pool=DUCKDB_WRITER_POOL,
    )
    def _load(context: dg.AssetExecutionContext, dlt: DagsterDltResource, warehouse: VocWarehouse):
        # A fresh source and pipeline per run: dagster-dlt edits the pipeline schema in place.
        pipeline = make_pipeline(family, warehouse.warehouse_path, warehouse.landing_path)
        # landing folder or vendor API, as VOC_<SOURCE>_MODE says when the run starts
        context.log.info(describe_source_choice(family, warehouse.landing_path))
        try:
            yield from dlt.run(
                context=context,
                dlt_source=source_for_family(family, warehouse.landing_path),
                dlt_pipeline=pipeline,
                dagster_dlt_translator=VocDltTranslator(),
            )
        except Exception as exc:
            # a vendor API page that kept failing: retry the step later, nothing was committed
            if find_api_page_error(exc) is None:
                raise
            retries, wait = step_retry_budget()
            raise dg.RetryRequested(max_retries=retries, seconds_to_wait=wait) from exc
        # dlt creates child tables only once a record has a list; staging reads them regardless.
        ensure_child_tables(pipeline, family)

    return _load


ingestion_assets = [_build_family_assets(family) for family in SOURCES]

# Which dlt resource writes each raw table: dbt sources point at these asset keys.
RESOURCES_BY_FAMILY = {
    family: sorted(resource.name for resource in factory(landing_dir=".").resources.values())
    for family, factory in SOURCES.items()
}


def resource_for_raw_table(table_name: str) -> str:
    """Map a raw table (main, dlt child `x__y`, `<family>_quarantine`, `_files`, `_history`) to its dlt resource."""
    parent = table_name.split("__", 1)[0]
    for resources in RESOURCES_BY_FAMILY.values():
        if parent in resources:
            return parent
    for suffix in ("_quarantine", "_files", "_history"):
        family = parent.removesuffix(suffix)
        if family in RESOURCES_BY_FAMILY:
            # A family's quarantine and load log are written by its resources; the first one stands for them.
            return RESOURCES_BY_FAMILY[family][0]
    raise KeyError(f"raw table {table_name!r} is written by no known dlt resource")
