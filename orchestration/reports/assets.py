"""The nightly scorecard as a Dagster asset downstream of the marts it reads."""

import dagster as dg

from orchestration.engine.readers import engine_reader
from orchestration.reports.render import METRIC_LABELS, format_value, write_scorecard
from orchestration.reports.scorecard_data import ScorecardData
from orchestration.resources import DUCKDB_WRITER_POOL, SettingsResource, VocWarehouse

SCORECARD_SOURCE_MARTS = (
    "kpi_scorecard",
    "kpi_weekly",
    "tag_trends",
    "alerts",
    "ticket_sla_by_team",
    "improvement_baseline",
    "fct_feedback",
)


def headline_markdown(data: ScorecardData) -> str:
    """The headline KPIs as a markdown table for the asset's materialization metadata."""
    lines = ["| 指标 | 本周 | 上周 | 状态 |", "|---|---|---|---|"]
    for kpi in data.headline:
        lines.append(
            f"| {METRIC_LABELS[kpi['metric']]} | {format_value(kpi['value'], kpi['unit'])} "
            f"| {format_value(kpi['previous_value'], kpi['unit'])} | {kpi['status'] or ''} |"
        )
    return "\n".join(lines)


@dg.asset(
    key=dg.AssetKey(["reports", "scorecard_html"]),
    deps=[dg.AssetKey(["marts", name]) for name in SCORECARD_SOURCE_MARTS],
    group_name="reports",
    kinds={"python", "duckdb", "html"},
    owners=["team:voc-analytics"],
    # A read-only DuckDB connection still conflicts with a writer in another process.
    pool=DUCKDB_WRITER_POOL,
    description=(
        "Leadership scorecard: one self-contained HTML page (inline SVG charts, Chinese labels) with "
        "headline KPIs against targets, NPS with its margin of error, 13-week trends, rising tags with "
        "masked example comments, open P1 (critical/high) alerts, ticket SLA by team and the "
        "improvement baselines. Writes <reports>/scorecard_<as-of date>.html and latest.html, where "
        "<reports> is VOC_REPORTS_DIR or data/reports beside the warehouse folder."
    ),
)
def scorecard_html(
    context: dg.AssetExecutionContext, warehouse: VocWarehouse, settings: SettingsResource
) -> dg.MaterializeResult:
    with engine_reader(settings, warehouse.warehouse_path) as reader:
        files, data = write_scorecard(reader, settings.reports_dir)
    if files.pdf_skipped_reason:
        context.log.info(files.pdf_skipped_reason)
    nps = next((kpi for kpi in data.headline if kpi["metric"] == "nps"), None)
    metadata = {
        "scorecard": dg.MetadataValue.path(str(files.dated_html)),
        "latest": dg.MetadataValue.url(files.latest_html.resolve().as_uri()),
        "as_of_date": data.as_of_date.isoformat(),
        "week_start": data.week_start.isoformat(),
        "open_p1_alerts": data.p1_alert_count,
        "rising_tags": ", ".join(tag["tag"] for tag in data.rising_tags),
        "headline": dg.MetadataValue.md(headline_markdown(data)),
    }
    if nps and nps["value"] is not None:
        metadata["nps"] = dg.MetadataValue.float(float(nps["value"]))
    if files.pdf:
        metadata["pdf"] = dg.MetadataValue.path(str(files.pdf))
    return dg.MaterializeResult(metadata=metadata)
