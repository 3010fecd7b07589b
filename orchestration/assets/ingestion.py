"""dlt loads of every source family into the `raw` schema, one Dagster asset per dlt resource."""


import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import dagster as dg
import dlt
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from loaders.api import describe_source_choice, find_api_page_error, source_for_family
from loaders.lake import connect_lake, describe_lake, finish_lake_load, lake_source, make_lake_pipeline, quiet_append_fallback
from loaders.pipeline import ensure_child_tables, make_pipeline
from loaders.privacy import RecordGuard
from loaders.sources import SOURCES
from loaders.writer_lock import lock_conflict
from orchestration.metadata import dlt_resource_metadata, raw_counts_before_load
from orchestration.resources import DUCKDB_WRITER_POOL, SettingsResource, VocWarehouse


def _no_pseudonyms_at_definition_time(kind: str, value: str) -> str:
    raise RuntimeError("the asset-spec source is never iterated; a run builds its own with the run's key")


# dagster-dlt reads the resources of a source when the definitions load; it never iterates it
SPEC_ONLY_GUARD = RecordGuard(_no_pseudonyms_at_definition_time)


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
        dlt_source=source_factory(landing_dir=".", guard=SPEC_ONLY_GUARD),
        dlt_pipeline=_asset_spec_pipeline(family),
        name=f"load_{family}",
        dagster_dlt_translator=VocDltTranslator(),
        pool=DUCKDB_WRITER_POOL,
    )
    def _load(
        context: dg.AssetExecutionContext, dlt: DagsterDltResource, warehouse: VocWarehouse, settings: SettingsResource
    ):
        settings.require_pseudonym_key()  # real data without a secret key: stop before writing
        # A fresh source and pipeline per run: dagster-dlt edits the pipeline schema in place.
        # VOC_ENGINE=spark: the raw layer goes to the lake as Parquet (loaders.lake)
        lake_dir = settings.lake_dir if getattr(settings, "engine", "duckdb") == "spark" else None
        if lake_dir is not None:
            yield from _load_into_lake(context, dlt, settings, warehouse, family, lake_dir)
            return
        pipeline = make_pipeline(family, warehouse.warehouse_path, warehouse.landing_path)
        # landing folder or vendor API, as VOC_<SOURCE>_MODE said when the settings were read
        context.log.info(describe_source_choice(family, warehouse.landing_path, settings.api))
        selected = _selected_resources(context)
        rows_before = _raw_counts(context, warehouse, selected)
        try:
            # dagster-dlt yields its events only once the whole load has finished
            events = list(
                dlt.run(
                    context=context,
                    dlt_source=source_for_family(family, warehouse.landing_path, settings.record_guard(), settings.api),
                    dlt_pipeline=pipeline,
                    dagster_dlt_translator=VocDltTranslator(),
                )
            )
        except Exception as exc:
            if (in_use := lock_conflict(exc, warehouse.warehouse_path)) is not None:
                raise in_use from exc  # a reader (BI tool) holds the file: say so
            raise_retry_on_api_page_error(exc, settings)
            raise
        # dlt creates child tables only once a record has a list; staging reads them regardless.
        ensure_child_tables(pipeline, family)
        yield from _with_load_metadata(context, events, family, warehouse, rows_before, _run_load_ids(pipeline))

    return _load


def raise_retry_on_api_page_error(exc: Exception, settings) -> None:
    """A vendor API page that kept failing: retry the step later (nothing was committed)."""
    if find_api_page_error(exc) is not None:
        raise dg.RetryRequested(
            max_retries=settings.api.step_retries, seconds_to_wait=settings.api.step_retry_seconds
        ) from exc


def _load_into_lake(context, dlt: DagsterDltResource, settings, warehouse: VocWarehouse, family: str, lake_dir) -> Iterator:
    """The load of ``family`` into the lake; each raw asset's row count is its compacted table's."""
    pipeline = make_lake_pipeline(family, lake_dir, warehouse.landing_path)
    where = describe_lake(lake_dir)  # never an object-store key
    context.log.info(f"{describe_source_choice(family, warehouse.landing_path, settings.api)} -> lake {where}")
    source = lake_source(source_for_family(family, warehouse.landing_path, settings.record_guard(), settings.api))
    with quiet_append_fallback():
        finish_lake_load(pipeline, family, create_tables=False)  # finish a compaction a crash interrupted
        with connect_lake(lake_dir) as con:
            rows_before = raw_counts_before_load(con, _selected_resources(context))
        try:
            events = list(dlt.run(context=context, dlt_source=source, dlt_pipeline=pipeline,
                                  dagster_dlt_translator=VocDltTranslator()))
        except Exception as exc:
            raise_retry_on_api_page_error(exc, settings)
            raise
        finish_lake_load(pipeline, family)
    with connect_lake(lake_dir) as con:  # the same metadata as from the warehouse, read from the lake
        for event in events:
            table = event.asset_key.path[-1]
            extra = dlt_resource_metadata(con, table=table, family=family, rows_before=rows_before.get(table, 0),
                                          load_ids=_run_load_ids(pipeline))
            yield event._replace(metadata={**(event.metadata or {}), **extra, "lake_table": f"{where}/raw/{table}"})


def _selected_resources(context: dg.AssetExecutionContext) -> list[str]:
    """The dlt resources (= raw tables) this run materializes."""
    return sorted(key.path[-1] for key in context.selected_asset_keys)


def _raw_counts(
    context: dg.AssetExecutionContext, warehouse: VocWarehouse, tables: Iterable[str]
) -> dict[str, int] | None:
    """Row counts before the load (0 before the warehouse file exists); None when they could not
    be read, and then the metadata leaves out the new / updated split rather than guess it."""
    if not warehouse.warehouse_path.exists():
        return dict.fromkeys(tables, 0)
    try:
        with warehouse.connect_read_only() as con:
            return raw_counts_before_load(con, tables)
    except Exception as exc:  # noqa: BLE001  (metadata must never stop a load)
        context.log.warning(f"Row counts before the load not read: {exc}")
        return None


def _run_load_ids(pipeline: dlt.Pipeline) -> list[str]:
    """The dlt load ids of the run that just finished (none when nothing was extracted)."""
    trace = pipeline.last_trace
    load_info = trace.last_load_info if trace else None
    return list(load_info.loads_ids) if load_info else []


def _with_load_metadata(
    context: dg.AssetExecutionContext,
    events: list,
    family: str,
    warehouse: VocWarehouse,
    rows_before: dict[str, int] | None,
    load_ids: list[str],
) -> Iterator:
    """dagster-dlt's events with row counts, new / updated / quarantined rows and a masked preview.

    Read after dlt has closed its connection (DuckDB refuses a read-only connection beside a
    read-write one in the same process). Metadata is a courtesy: if it fails the load still counts.
    """
    try:
        with warehouse.connect_read_only() as con:
            extra = {
                event.asset_key: dlt_resource_metadata(
                    con,
                    table=event.asset_key.path[-1],
                    family=family,
                    rows_before=None if rows_before is None else rows_before.get(event.asset_key.path[-1], 0),
                    load_ids=load_ids,
                )
                for event in events
            }
    except Exception as exc:  # noqa: BLE001
        context.log.warning(f"Load metadata of {family} not computed: {exc}")
        extra = {}
    for event in events:
        yield event._replace(metadata={**(event.metadata or {}), **extra.get(event.asset_key, {})})


ingestion_assets = [_build_family_assets(family) for family in SOURCES]

# Which dlt resource writes each raw table: dbt sources point at these asset keys.
RESOURCES_BY_FAMILY = {
    family: sorted(resource.name for resource in factory(landing_dir=".", guard=SPEC_ONLY_GUARD).resources.values())
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
