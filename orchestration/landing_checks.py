"""Landing hygiene as Dagster asset checks: two per source family, severity WARN, not blocking.

Both read the family's load log ``raw.<family>_files`` and are reported on the asset that stands
for it (the same asset as the family's GX load reconciliation):

* ``landing_field_renames``: a file whose records lack a field of the contract while carrying a
  field the contract does not know, i.e. a vendor renamed a field (``loaders.contracts.drift``).
  A plain check rather than a GX rule: it compares the contract in ``loaders.contracts`` with
  the field paths the loader noted per file, which no column expectation expresses.
* ``landing_refused_files``: landing paths the loader refused to read (a symbolic link whose
  target leaves the landing folder).
"""

from typing import Any

import dagster as dg

from loaders.contracts import FAMILY_SPECS
from loaders.contracts.drift import FieldDrift, family_drift
from orchestration.assets.ingestion import RESOURCES_BY_FAMILY, raw_asset_key, resource_for_raw_table
from orchestration.resources import DUCKDB_WRITER_POOL, SettingsResource, VocWarehouse

RENAME_CHECK = "landing_field_renames"
REFUSED_CHECK = "landing_refused_files"
_SHOWN = 20
"""Files named in a landing check's metadata at most."""


def _load_log_rows(warehouse: VocWarehouse, family: str, columns: list[str], lake_dir: str | None = None) -> list[tuple] | None:
    """Rows of ``raw.<family>_files`` (None when the warehouse or those columns do not exist yet);
    from the lake's Parquet load log when ``lake_dir`` is given (``VOC_ENGINE=spark``)."""
    if lake_dir is not None:
        from loaders.lake import connect_lake

        with connect_lake(lake_dir) as connection:
            return _rows_of(connection, family, columns)
    if not warehouse.warehouse_path.exists():
        return None
    with warehouse.connect_read_only() as connection:
        return _rows_of(connection, family, columns)


def _rows_of(connection: Any, family: str, columns: list[str]) -> list[tuple] | None:
    present = {
        row[0]
        for row in connection.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ?",
            [f"{family}_files"],
        ).fetchall()
    }
    if not set(columns) <= present:
        return None
    selected = ", ".join(f'"{column}"' for column in columns)
    return connection.execute(f'select {selected} from raw."{family}_files" order by file').fetchall()


def rename_check_result(asset_key: dg.AssetKey, family: str, rows: list[tuple] | None) -> dg.AssetCheckResult:
    """WARN when a file of ``family`` lost a known field while carrying an unknown one.

    ``rows`` are ``(file, fields_seen)`` of the load log; each file is judged against the
    family's other files (``loaders.contracts.drift``). Rows without ``fields_seen`` (api pages,
    refused paths, files loaded before it was recorded) are no evidence.
    """
    drifts = family_drift(FAMILY_SPECS[family], rows or [])
    renames: list[FieldDrift] = [drift for drift in drifts if drift.suspected_rename]
    metadata: dict[str, Any] = {
        "files_compared": len(drifts),
        "files_with_suspected_rename": len(renames),
    }
    if renames:
        metadata["suspected_renames"] = dg.MetadataValue.json(
            [
                {"file": d.file, "table": d.table, "missing_known_fields": list(d.missing), "unknown_fields": list(d.unknown)}
                for d in renames[:_SHOWN]
            ]
        )
        more = f" (and {len(renames) - 1} more file(s))" if len(renames) > 1 else ""
        description = f"{family}: suspected field rename in {renames[0].describe()}{more}"
    else:
        description = f"{family}: no file lost a known field while carrying an unknown one"
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=RENAME_CHECK,
        passed=not renames,
        severity=dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=description,
    )


def refused_check_result(asset_key: dg.AssetKey, family: str, rows: list[tuple] | None) -> dg.AssetCheckResult:
    """WARN when the loader refused landing paths of ``family``; ``rows`` are ``(file, refused_reason)``."""
    refused = [(file, reason) for file, reason in rows or [] if reason]
    metadata: dict[str, Any] = {"refused_paths": len(refused)}
    if refused:
        metadata["refused"] = dg.MetadataValue.json([{"path": f, "reason": r} for f, r in refused[:_SHOWN]])
        shown = ", ".join(f"{file} ({reason})" for file, reason in refused[:5])
        description = f"{family}: {len(refused)} landing path(s) not read: {shown}"
    else:
        description = f"{family}: every landing path was read from inside the landing folder"
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=REFUSED_CHECK,
        passed=not refused,
        severity=dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=description,
    )


def _landing_check(family: str) -> dg.AssetChecksDefinition:
    # the family's load log is reported on the asset dbt maps it to (as the reconciliation suite)
    asset_key = raw_asset_key(resource_for_raw_table(f"{family}_files"))

    @dg.multi_asset_check(
        specs=[
            dg.AssetCheckSpec(
                RENAME_CHECK,
                asset=asset_key,
                description=f"WARN when a {family} landing file lacks a contract field while carrying an unknown one (a renamed field).",
            ),
            dg.AssetCheckSpec(
                REFUSED_CHECK,
                asset=asset_key,
                description=f"WARN when {family} landing paths were refused (links leaving the landing folder).",
            ),
        ],
        name=f"landing_{family}",
        description=f"Landing hygiene of the {family} files, from raw.{family}_files.",
        can_subset=True,
        pool=DUCKDB_WRITER_POOL,
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: VocWarehouse, settings: SettingsResource):
        selected = {key.name for key in context.selected_asset_check_keys}
        lake_dir = settings.lake_dir if settings.uses_spark else None
        if RENAME_CHECK in selected:
            result = rename_check_result(asset_key, family, _load_log_rows(warehouse, family, ["file", "fields_seen"], lake_dir))
            if not result.passed:
                context.log.warning(result.description)
            yield result
        if REFUSED_CHECK in selected:
            result = refused_check_result(asset_key, family, _load_log_rows(warehouse, family, ["file", "refused_reason"], lake_dir))
            if not result.passed:
                context.log.warning(result.description)
            yield result

    return _check


def build_landing_checks() -> list[dg.AssetChecksDefinition]:
    """The two landing checks of every source family."""
    return [_landing_check(family) for family in RESOURCES_BY_FAMILY]
