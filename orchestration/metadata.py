"""Materialization metadata the Dagster UI shows for the loads and the marts.

Pure functions over a marts reader (``orchestration.marts_reader``, either engine) or an open
DuckDB connection, which they wrap in one: each returns a dict of Dagster metadata values
that the asset functions merge into their materialization events. Everything here is an
aggregate query or a ``LIMIT`` preview, so it stays cheap on a warehouse with millions of rows.

Personal data never reaches the metadata: preview cells go through the same masking as the
expectation samples (``expectations.masking``: phones, e-mails, ID and bank cards, UnionIDs), and
columns that identify a person by themselves (name, nickname, phone, open id ...) are blanked
whatever they hold.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.parquet as pq

from expectations.masking import mask_value
from orchestration.marts_reader import as_reader

Source = Any
"""A :class:`~orchestration.marts_reader.MartsReader` or an open DuckDB connection."""

ROW_COUNT_KEY = "dagster/row_count"
"""The key Dagster's asset page plots as the table's row count (TableMetadataSet.row_count)."""
PREVIEW_ROWS = 5
TOP_TAGS = 10
MAX_PREVIEW_CELL = 60
"""Characters per preview cell: the preview shows what a row looks like, not the whole text."""
REDACTED = "[masked]"
ALERT_SEVERITIES = ("critical", "high", "medium")
FEEDBACK_KEY_COLUMNS = ("feedback_id", "updated_at")
"""What identifies a fct_feedback row and tells whether its source record changed."""
FEEDBACK_PREVIEW_COLUMNS = (
    "feedback_id",
    "source",
    "channel",
    "created_date",
    "sentiment_label",
    "primary_tag",
    "priority",
    "text_masked",
)
"""fct_feedback has no raw text; the preview still lists its columns explicitly so a column added
to the mart later does not show up in the UI unreviewed."""

# The last part of a column name (after dlt's `__` nesting) that identifies a person on its own.
_PERSONAL_COLUMN = re.compile(
    r"(?:^|_)(?:name|nick|nickname|phone|mobile|tel|email|unionid|openid|open_id|uid|"
    r"id_card|id_number|address|account_id)$"
)
# Names of things, not people: store_name, product_name, survey_name.
_NON_PERSONAL_NAME = re.compile(r"^(?:store|product|survey|shop|brand|category|platform)_name$")


# --- small helpers ------------------------------------------------------------------------------


def count_rows(con: Source, schema: str, table: str) -> int:
    """Rows in ``schema.table``; 0 when the table does not exist yet (first load)."""
    reader = as_reader(con)
    if not reader.exists(f"{schema}.{table}"):
        return 0
    return int(reader.scalar(f"select count(*) from {reader.dialect.relation(schema, table)}"))


def count_rows_of_loads(con: Source, schema: str, table: str, load_ids: Sequence[str]) -> int:
    """Rows of ``schema.table`` written by the given dlt loads (their ``_dlt_load_id``)."""
    reader = as_reader(con)
    if not load_ids or not reader.exists(f"{schema}.{table}"):
        return 0
    placeholders = ", ".join("?" for _ in load_ids)
    sql = f"select count(*) from {reader.dialect.relation(schema, table)} where _dlt_load_id in ({placeholders})"
    return int(reader.scalar(sql, list(load_ids)))


def is_personal_column(column: str) -> bool:
    """True for a column whose value identifies a person by itself (``requester__phone``, ``name``)."""
    leaf = column.rsplit("__", 1)[-1].lower()
    return bool(_PERSONAL_COLUMN.search(leaf)) and not _NON_PERSONAL_NAME.match(leaf)


def mask_cell(column: str, value: Any) -> str:
    """One preview cell as markdown-safe text: blanked for personal columns, masked otherwise."""
    if value is None:
        return ""
    if is_personal_column(column):
        return REDACTED
    masked = mask_value(value)
    text = masked if isinstance(masked, str) else str(masked)
    text = " ".join(text.split())  # a newline would end the markdown table row
    if len(text) > MAX_PREVIEW_CELL:
        text = text[: MAX_PREVIEW_CELL - 1] + "…"
    return text.replace("|", "\\|")


def markdown_table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A markdown table of already formatted cells."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def masked_preview(
    con: Source,
    schema: str,
    table: str,
    columns: Sequence[str] | None = None,
    order_by: str | None = None,
    limit: int = PREVIEW_ROWS,
) -> str:
    """The first ``limit`` rows of a table as a markdown table with personal data masked.

    Without ``columns`` every column except bookkeeping ones (``_dlt_*``, ``_voc_*``) is shown.
    """
    reader = as_reader(con)
    if not reader.exists(f"{schema}.{table}"):
        return "_table does not exist yet_"
    if columns is None:
        columns = [name for name, _ in reader.columns(f"{schema}.{table}") if not name.startswith("_")]
    select = ", ".join(reader.dialect.quote(column) for column in columns)
    order = f" order by {order_by}" if order_by else ""
    sql = f"select {select} from {reader.dialect.relation(schema, table)}{order} limit {int(limit)}"
    rows = [tuple(row.values()) for row in reader.rows(sql)]
    if not rows:
        return "_no rows_"
    return markdown_table(columns, ([mask_cell(c, v) for c, v in zip(columns, row)] for row in rows))


# --- dlt loads ----------------------------------------------------------------------------------


def quarantine_table(family: str) -> str:
    return f"{family}_quarantine"


def raw_counts_before_load(
    con: Source, tables: Iterable[str], schema: str = "raw"
) -> dict[str, int]:
    """Row counts of the raw tables a load is about to write, taken before it runs."""
    return {table: count_rows(con, schema, table) for table in tables}


def dlt_resource_metadata(
    con: Source,
    *,
    table: str,
    family: str,
    rows_before: int | None,
    load_ids: Sequence[str],
    schema: str = "raw",
) -> dict[str, Any]:
    """Metadata of one dlt resource after its load.

    The merge replaces a record whose primary key is already in the table, so the table grows by
    exactly the records that are new; everything else this run loaded replaced an existing key.
    Without ``rows_before`` (not readable before the load) the new / updated split is left out.
    Quarantine counts are per source family: its resources share one quarantine table.
    """
    rows_after = count_rows(con, schema, table)
    loaded = count_rows_of_loads(con, schema, table, load_ids)
    quarantine = quarantine_table(family)
    split: dict[str, Any] = {}
    if rows_before is not None:
        new_rows = min(max(rows_after - rows_before, 0), loaded)
        split = {
            "new_rows_this_run": dg.MetadataValue.int(new_rows),
            "updated_rows_this_run": dg.MetadataValue.int(loaded - new_rows),
        }
    return {
        ROW_COUNT_KEY: dg.MetadataValue.int(rows_after),
        "rows_loaded_this_run": dg.MetadataValue.int(loaded),
        **split,
        "quarantined_rows_this_run": dg.MetadataValue.int(count_rows_of_loads(con, schema, quarantine, load_ids)),
        "quarantined_rows_total": dg.MetadataValue.int(count_rows(con, schema, quarantine)),
        "quarantine_table": dg.MetadataValue.text(f"{schema}.{quarantine} (all resources of {family})"),
        "preview": dg.MetadataValue.md(masked_preview(con, schema, table)),
    }


# --- dbt models ---------------------------------------------------------------------------------


def model_row_count_metadata(con: Source, schema: str, table: str) -> dict[str, Any]:
    """``dagster/row_count`` of a built table."""
    return {ROW_COUNT_KEY: dg.MetadataValue.int(count_rows(con, schema, table))}


def save_feedback_keys(con: Source, path: Path, schema: str = "marts") -> bool:
    """Write fct_feedback's keys and source versions to a parquet file before dbt rebuilds it.

    Returns False when the mart does not exist yet (every row of the first build is new).
    """
    reader = as_reader(con)
    if not reader.exists(f"{schema}.fct_feedback"):
        return False
    pq.write_table(reader.table(f"{schema}.fct_feedback", FEEDBACK_KEY_COLUMNS), path)
    return True


def feedback_change_counts(con: Source, previous_keys: Path | None, schema: str = "marts") -> dict[str, int]:
    """New feedback (id not in the previous build) and updated feedback (its source record's
    ``updated_at`` moved) since the keys saved by :func:`save_feedback_keys`."""
    reader = as_reader(con)
    mart = reader.dialect.relation(schema, "fct_feedback")
    if previous_keys is None:
        total = count_rows(reader, schema, "fct_feedback")
        return {"new": total, "updated": 0}
    previous = reader.dialect.parquet(previous_keys)
    counts = reader.rows(
        f"""
        select
            count(case when previous.feedback_id is null then 1 end) as new_rows,
            count(case when previous.feedback_id is not null
                       and current.updated_at is distinct from previous.updated_at then 1 end) as updated_rows
        from {mart} as current
        left join {previous} as previous on current.feedback_id = previous.feedback_id
        """
    )[0]
    return {"new": int(counts["new_rows"]), "updated": int(counts["updated_rows"])}


def top_tags(con: Source, limit: int = TOP_TAGS, schema: str = "marts") -> list[tuple[str, int]]:
    """The most frequent taxonomy tags over all feedback, ties by name."""
    reader = as_reader(con)
    rows = reader.rows(
        f"""
        select tag, count(*) as n
        from (select {reader.dialect.unnest("tags")} as tag from {reader.dialect.relation(schema, 'fct_feedback')}) as tags
        group by tag
        order by n desc, tag
        limit {int(limit)}
        """
    )
    return [(row["tag"], int(row["n"])) for row in rows]


def overall_nps(con: Source, schema: str = "marts") -> tuple[float | None, int]:
    """NPS over every rated feedback (100 x (promoters 9-10 - detractors 0-6) / responses), and the
    number of responses; None without responses."""
    reader = as_reader(con)
    row = reader.rows(
        f"""
        select
            100.0 * (count(case when rating_nps >= 9 then 1 end) - count(case when rating_nps <= 6 then 1 end))
                / nullif(count(*), 0) as nps,
            count(*) as responses
        from {reader.dialect.relation(schema, 'fct_feedback')}
        where rating_nps is not null
        """
    )[0]
    nps = row["nps"]
    return (None if nps is None else round(float(nps), 1)), int(row["responses"])


def fct_feedback_metadata(
    con: Source, previous_keys: Path | None, schema: str = "marts"
) -> dict[str, Any]:
    """Row count, new / updated feedback, top tags, overall NPS and a masked preview."""
    changes = feedback_change_counts(con, previous_keys, schema)
    tags = top_tags(con, schema=schema)
    nps, responses = overall_nps(con, schema)
    metadata: dict[str, Any] = {
        **model_row_count_metadata(con, schema, "fct_feedback"),
        "new_rows_this_run": dg.MetadataValue.int(changes["new"]),
        "updated_rows_this_run": dg.MetadataValue.int(changes["updated"]),
        "top_tags": dg.MetadataValue.md(markdown_table(["tag", "feedback"], tags)),
        "nps_responses": dg.MetadataValue.int(responses),
        "preview": dg.MetadataValue.md(
            masked_preview(
                con, schema, "fct_feedback", FEEDBACK_PREVIEW_COLUMNS, order_by="created_at desc, feedback_id"
            )
        ),
    }
    if nps is not None:
        metadata["nps_overall"] = dg.MetadataValue.float(nps)
    return metadata


def open_alerts_by_severity(con: Source, schema: str = "marts") -> dict[str, int]:
    """Open alerts per severity (critical, high, medium; 0 when none)."""
    reader = as_reader(con)
    rows = reader.rows(
        f"select severity, count(*) as n from {reader.dialect.relation(schema, 'alerts')} "
        "where status = 'open' group by severity"
    )
    counts = {row["severity"]: row["n"] for row in rows}
    ordered = {severity: int(counts.pop(severity, 0)) for severity in ALERT_SEVERITIES}
    ordered.update({str(severity): int(n) for severity, n in counts.items()})  # a severity added later
    return ordered


def alerts_metadata(con: Source, schema: str = "marts") -> dict[str, Any]:
    """Row count and open alerts by severity (the alerts' priority)."""
    by_severity = open_alerts_by_severity(con, schema)
    return {
        **model_row_count_metadata(con, schema, "alerts"),
        "open_alerts_total": dg.MetadataValue.int(sum(by_severity.values())),
        **{f"open_alerts_{severity}": dg.MetadataValue.int(n) for severity, n in by_severity.items()},
    }


def dbt_node_metadata(
    con: Source,
    node: Mapping[str, Any],
    previous_feedback_keys: Path | None = None,
) -> dict[str, Any]:
    """Metadata of one built dbt node (manifest entry); views are not counted (running one costs
    as much as its query), tests and ephemeral models have no table."""
    if node.get("resource_type") not in ("model", "seed", "snapshot"):
        return {}
    if node.get("config", {}).get("materialized") in ("view", "ephemeral"):
        return {}
    schema, table = node["schema"], node.get("alias") or node["name"]
    con = as_reader(con)
    if not con.exists(f"{schema}.{table}"):
        return {}
    if (schema, table) == ("marts", "fct_feedback"):
        return fct_feedback_metadata(con, previous_feedback_keys, schema)
    if (schema, table) == ("marts", "alerts"):
        return alerts_metadata(con, schema)
    return model_row_count_metadata(con, schema, table)
