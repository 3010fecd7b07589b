"""The short summary `voc run` prints: where the warehouse is and what the marts hold."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

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


def summarize_warehouse(warehouse_path: Path, top_n: int = 5) -> WarehouseSummary:
    """Read the marts (read-only connection, so a running writer is never blocked)."""
    with duckdb.connect(str(warehouse_path), read_only=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "select table_name from information_schema.tables where table_schema = ? order by 1", [MART_SCHEMA]
            ).fetchall()
        ]
        mart_rows = {t: conn.execute(f'select count(*) from {MART_SCHEMA}."{t}"').fetchone()[0] for t in tables}
        nps_row = conn.execute(
            f"""select 100.0 * (sum(n_promoters) - sum(n_detractors)) / nullif(sum(n_nps_responses), 0),
                       coalesce(sum(n_nps_responses), 0)
                from {MART_SCHEMA}.kpi_daily"""
        ).fetchone()
        top_tags = conn.execute(
            f"""select tag, count(*) as n from (select unnest(tags) as tag from {MART_SCHEMA}.fct_feedback)
                group by tag order by n desc, tag limit ?""",
            [top_n],
        ).fetchall()
        quarantined = dict(
            conn.execute(
                "select source_family, count(*) from staging.stg_loader__quarantine group by 1"
            ).fetchall()
        )
    return WarehouseSummary(
        warehouse_path=warehouse_path,
        mart_rows=mart_rows,
        nps=None if nps_row[0] is None else float(nps_row[0]),
        nps_responses=int(nps_row[1]),
        top_tags=[(t, int(n)) for t, n in top_tags],
        quarantined={k: int(v) for k, v in quarantined.items()},
    )
