"""The short summary `voc run` prints: where the warehouse is and what the marts hold."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestration.marts_reader import MartsReader, reader_from

MART_SCHEMA = "marts"


@dataclass
class WarehouseSummary:
    warehouse_path: Path
    mart_rows: dict[str, int]
    nps: float | None
    nps_responses: int
    top_tags: list[tuple[str, int]]
    quarantined: dict[str, int]

    def render(self) -> str:
        lines = [f"Warehouse: {self.warehouse_path}", "Rows per mart:"]
        lines += [f"  {MART_SCHEMA}.{name:<28} {rows:>10,}" for name, rows in sorted(self.mart_rows.items())]
        nps = "n/a" if self.nps is None else f"{self.nps:.1f}"
        lines.append(f"NPS: {nps} ({self.nps_responses:,} responses)")
        lines.append("Top tags:")
        lines += [f"  {tag:<24} {count:>8,}" for tag, count in self.top_tags]
        if self.quarantined:
            lines.append("Quarantined records: " + ", ".join(f"{k} {v:,}" for k, v in sorted(self.quarantined.items())))
        return "\n".join(lines)


def summarize_warehouse(warehouse: Path | MartsReader, top_n: int = 5, label: str | None = None) -> WarehouseSummary:
    """Read the marts: a DuckDB warehouse file (read-only connection, so a running writer is never
    blocked) or a reader of either engine (``orchestration.marts_reader``)."""
    if isinstance(warehouse, (str, Path)):
        with reader_from(warehouse) as reader:
            return summarize(reader, Path(warehouse), top_n)
    return summarize(warehouse, Path(label or "spark warehouse"), top_n)


def summarize(reader: MartsReader, warehouse_path: Path, top_n: int = 5) -> WarehouseSummary:
    """The summary from the marts through one reader."""
    sql = reader.dialect
    tables = reader.tables(MART_SCHEMA)
    mart_rows = {t: int(reader.scalar(f"select count(*) from {sql.relation(MART_SCHEMA, t)}")) for t in tables}
    nps_row = reader.rows(
        f"""select 100.0 * (sum(n_promoters) - sum(n_detractors)) / nullif(sum(n_nps_responses), 0) as nps,
                   coalesce(sum(n_nps_responses), 0) as responses
            from {MART_SCHEMA}.kpi_daily"""
    )[0]
    top_tags = reader.rows(
        f"""select tag, count(*) as n from (select {sql.unnest("tags")} as tag from {MART_SCHEMA}.fct_feedback) as tags
            group by tag order by n desc, tag limit {int(top_n)}"""
    )
    # the quarantine mart, not the staging view it sums: a Spark reader sees tables only
    quarantined = (
        reader.rows(
            f"select source_family, sum(n_quarantined) as n from {MART_SCHEMA}.quarantine_summary group by source_family"
        )
        if "quarantine_summary" in tables
        else []
    )
    return WarehouseSummary(
        warehouse_path=warehouse_path,
        mart_rows=mart_rows,
        nps=None if nps_row["nps"] is None else float(nps_row["nps"]),
        nps_responses=int(nps_row["responses"]),
        top_tags=[(row["tag"], int(row["n"])) for row in top_tags],
        quarantined={row["source_family"]: int(row["n"]) for row in quarantined if row["n"]},
    )
