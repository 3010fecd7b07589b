"""What the leadership scorecard shows, read from the marts through a reader
(``orchestration.marts_reader``: the DuckDB file read-only, or the Spark warehouse).

Every number on the page comes from a mart row (the KPIs from ``marts.kpi_scorecard`` and
``marts.kpi_weekly``, which render the one definition of each KPI, docs/metrics.md); the page
itself computes nothing but formatting. The headline period is the last complete ISO week
of ``marts.kpi_scorecard``; the trends are the 13 weeks ending with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from orchestration.marts_reader import MartsReader

TREND_WEEKS = 13
EXAMPLES_PER_TAG = 2
MAX_ALERTS_LISTED = 25
TOP_DRIVERS = 5
# "What to fix first": the survey metrics of marts.driver_impact, in this order.
DRIVER_METRICS = ("nps", "csat_top2_rate")
# marts.alerts has no priority column: the critical and high severities are the P1 alerts.
P1_SEVERITIES = ("critical", "high")
HEADLINE_METRICS = (
    "nps",
    "csat_top2_rate",
    "ces_avg",
    "negative_rate",
    "complaint_volume",
    "sla_first_response_attainment",
    "median_first_response_minutes",
)
# Used only when the kpi_targets seed is missing: the scorecard mart's own direction per metric.
DEFAULT_DIRECTIONS = {
    "nps": "higher_is_better",
    "csat_top2_rate": "higher_is_better",
    "ces_avg": "higher_is_better",
    "negative_rate": "lower_is_better",
    "complaint_volume": "lower_is_better",
    "sla_first_response_attainment": "higher_is_better",
    "median_first_response_minutes": "lower_is_better",
}


@dataclass
class ScorecardData:
    """Everything the template renders, as plain rows (lists of dicts)."""

    as_of_date: date
    week_start: date
    week_end: date
    headline: list[dict[str, Any]]
    periods: list[dict[str, Any]]
    weekly_trend: list[dict[str, Any]]
    rising_tags: list[dict[str, Any]]
    p1_alerts: list[dict[str, Any]]
    p1_alert_count: int
    sla_by_team: list[dict[str, Any]]
    sla_week_start: date | None
    improvements: list[dict[str, Any]]
    top_drivers: list[dict[str, Any]] = field(default_factory=list)
    driver_period: dict[str, Any] | None = None
    loop_by_team: list[dict[str, Any]] = field(default_factory=list)
    loop_week_start: date | None = None
    counts: dict[str, int] = field(default_factory=dict)


def fetch_rows(reader: MartsReader, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Run a query and return its rows as dicts keyed by column name."""
    return reader.rows(sql, params or [])


def metric_directions(reader: MartsReader) -> dict[str, str]:
    """Which way is good per metric, from the kpi_targets seed (wherever dbt put it)."""
    schemas = reader.schemas_of("kpi_targets")
    if not schemas:
        return dict(DEFAULT_DIRECTIONS)
    rows = reader.rows(f"select metric, direction from {reader.dialect.relation(schemas[0], 'kpi_targets')}")
    return {**DEFAULT_DIRECTIONS, **{row["metric"]: row["direction"] for row in rows}}


def change_arrow(delta: float | None) -> str:
    """▲ up, ▼ down, ▬ unchanged, empty when there is nothing to compare with."""
    if delta is None:
        return ""
    if delta > 0:
        return "▲"
    if delta < 0:
        return "▼"
    return "▬"


def change_is_good(delta: float | None, direction: str | None) -> bool | None:
    """Whether the change went the good way for the metric (None when flat or unknown)."""
    if delta is None or delta == 0 or direction is None:
        return None
    return (delta > 0) == (direction == "higher_is_better")


def scorecard_rows(reader: MartsReader, period_type: str) -> list[dict[str, Any]]:
    """kpi_scorecard rows of one period type, headline metrics first, then rising tags."""
    return fetch_rows(
        reader,
        """
        select period_type, period_start, metric, detail, value, previous_value, delta, target,
               status, sample_size, margin_of_error, unit
        from marts.kpi_scorecard
        where period_type = ?
        order by metric
        """,
        [period_type],
    )


def metric_order(metric: str) -> int:
    """Position of a metric on the page (headline order; anything else last)."""
    return HEADLINE_METRICS.index(metric) if metric in HEADLINE_METRICS else len(HEADLINE_METRICS)


def headline_kpis(week_rows: list[dict[str, Any]], directions: dict[str, str]) -> list[dict[str, Any]]:
    """The week's headline metrics in display order, each with its arrow and good/bad change."""
    by_metric = {row["metric"]: row for row in week_rows}
    headline = []
    for metric in HEADLINE_METRICS:
        if metric not in by_metric:
            continue
        row = dict(by_metric[metric])
        row["direction"] = directions.get(metric)
        row["arrow"] = change_arrow(row["delta"])
        row["change_is_good"] = change_is_good(row["delta"], row["direction"])
        headline.append(row)
    return headline


def weekly_trend(reader: MartsReader, last_week_start: date, weeks: int = TREND_WEEKS) -> list[dict[str, Any]]:
    """NPS, CSAT top-2 rate, negative rate and complaint volume per ISO week, as
    ``marts.kpi_weekly`` computes them from the KPIs' one definition (docs/metrics.md)."""
    first_week_start = last_week_start - timedelta(weeks=weeks - 1)
    return fetch_rows(
        reader,
        """
        select week_start, nps, csat_top2_rate, negative_rate, complaint_volume, n_feedback
        from marts.kpi_weekly
        where week_start >= ? and week_start <= ?
        order by week_start
        """,
        [first_week_start, last_week_start],
    )


def tag_examples(reader: MartsReader, tag: str, start: date, end: date, limit: int = EXAMPLES_PER_TAG) -> list[dict[str, Any]]:
    """Masked comments carrying the tag in the period, negative ones first, newest first."""
    return fetch_rows(
        reader,
        f"""
        select feedback_id, created_date, source, sentiment_label, text_masked
        from marts.fct_feedback
        where {reader.dialect.list_contains("tags", "?")} and created_date between ? and ?
            and coalesce(trim(text_masked), '') <> ''
        order by (sentiment_label = 'negative') desc, created_date desc, feedback_id
        limit {int(limit)}
        """,
        [tag, start, end],
    )


def rising_tags(reader: MartsReader, week_rows: list[dict[str, Any]], start: date, end: date) -> list[dict[str, Any]]:
    """The week's rising_tag_1..3 rows with example masked comments."""
    rising = sorted((row for row in week_rows if row["metric"].startswith("rising_tag_")), key=lambda row: row["metric"])
    return [
        {**row, "tag": row["detail"], "rank": int(row["metric"].rsplit("_", 1)[1]),
         "examples": tag_examples(reader, row["detail"], start, end)}
        for row in rising
    ]


def open_p1_alerts(reader: MartsReader, limit: int = MAX_ALERTS_LISTED) -> tuple[list[dict[str, Any]], int]:
    """Open critical/high alerts, critical first then newest; and how many there are in all."""
    placeholders = ", ".join("?" for _ in P1_SEVERITIES)
    where = f"status = 'open' and severity in ({placeholders})"
    total = reader.scalar(f"select count(*) from marts.alerts where {where}", list(P1_SEVERITIES))
    rows = fetch_rows(
        reader,
        f"""
        select alert_id, alert_type, severity, raised_at, first_raised_at, tag, store_id, product_sku,
               route_to, detail, {reader.dialect.list_length("evidence_feedback_ids")} as n_evidence
        from marts.alerts
        where {where}
        order by severity = 'critical' desc, raised_at desc, alert_id
        limit {int(limit)}
        """,
        list(P1_SEVERITIES),
    )
    return rows, int(total)


def sla_by_team(reader: MartsReader, week_start: date) -> tuple[list[dict[str, Any]], date | None]:
    """Ticket SLA per team for the headline week (or the latest week the mart has before it)."""
    latest = reader.scalar("select max(week_start) from marts.ticket_sla_by_team where week_start <= ?", [week_start])
    if latest is None:
        return [], None
    rows = fetch_rows(
        reader,
        """
        select coalesce(assignee_team, '未分配') as assignee_team, week_start, n_tickets, first_response_attainment, resolution_attainment,
               median_first_response_minutes, median_resolution_hours, backlog_open
        from marts.ticket_sla_by_team
        where week_start = ?
        order by assignee_team
        """,
        [latest],
    )
    return rows, latest


def improvements(reader: MartsReader) -> list[dict[str, Any]]:
    """Every intervention x metric of the improvement baseline."""
    return fetch_rows(
        reader,
        """
        select intervention_id, name, tag, scope, effective_date, metric, value_before, value_after,
               delta, test, p_value, significant, effect_size, diff_in_diff, did_estimate, did_std_error,
               did_p_value, did_test, p_value_adjusted, verdict
        from marts.improvement_baseline
        order by effective_date, intervention_id, metric
        """,
    )


def top_drivers(reader: MartsReader, limit: int = TOP_DRIVERS) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The ranked tags that cost the most NPS and CSAT points over the trailing period of
    marts.driver_impact (surveys), and that period."""
    period = fetch_rows(
        reader,
        "select period_start, period_end from marts.driver_impact where period_type = 'trailing' limit 1",
    )
    if not period:
        return [], None
    placeholders = ", ".join("?" for _ in DRIVER_METRICS)
    rows = fetch_rows(
        reader,
        f"""
        select metric, tag, impact_rank, impact_points, impact_ci_low, impact_ci_high, is_significant,
               value_with, value_without, value_overall, n_with, n_total, share_with
        from marts.driver_impact
        where period_type = 'trailing' and source = 'survey' and metric in ({placeholders})
            and impact_rank <= ? and impact_points > 0
        order by metric, impact_rank
        """,
        [*DRIVER_METRICS, limit],
    )
    rows.sort(key=lambda row: (DRIVER_METRICS.index(row["metric"]), row["impact_rank"]))
    return rows, period[0]


def loop_by_team(reader: MartsReader, week_start: date) -> tuple[list[dict[str, Any]], date | None]:
    """The closed loop per team for the headline week (or the latest week before it)."""
    latest = reader.scalar("select max(week_start) from marts.closed_loop_weekly where week_start <= ?", [week_start])
    if latest is None:
        return [], None
    rows = fetch_rows(
        reader,
        """
        select case when team = '' then '未分配' else team end as team, week_start, n_alerts, n_delivered,
               n_with_ticket, n_resolved, n_followed_up, n_open, n_in_progress, ticket_rate, resolved_rate,
               followed_up_rate, resolution_attainment, median_hours_to_ticket, median_resolution_hours
        from marts.closed_loop_weekly
        where week_start = ?
        order by team
        """,
        [latest],
    )
    return rows, latest


def load_scorecard(reader: MartsReader) -> ScorecardData:
    """Read every section of the scorecard from the marts."""
    directions = metric_directions(reader)
    week_rows = scorecard_rows(reader, "week")
    if not week_rows:
        raise ValueError("marts.kpi_scorecard has no week rows: build the marts before the scorecard")
    week_start = week_rows[0]["period_start"]
    week_end = week_start + timedelta(days=6)
    day_rows = scorecard_rows(reader, "day")
    as_of_date = (day_rows[0]["period_start"] + timedelta(days=1)) if day_rows else week_end + timedelta(days=1)
    periods = [
        {**row, "arrow": change_arrow(row["delta"]), "change_is_good": change_is_good(row["delta"], directions.get(row["metric"]))}
        for period_type in ("day", "week", "month")
        for row in sorted(scorecard_rows(reader, period_type), key=lambda row: metric_order(row["metric"]))
        if row["metric"] in HEADLINE_METRICS
    ]
    alerts, alert_count = open_p1_alerts(reader)
    teams, sla_week = sla_by_team(reader, week_start)
    drivers, driver_period = top_drivers(reader)
    loops, loop_week = loop_by_team(reader, week_start)
    return ScorecardData(
        as_of_date=as_of_date,
        week_start=week_start,
        week_end=week_end,
        headline=headline_kpis(week_rows, directions),
        periods=periods,
        weekly_trend=weekly_trend(reader, week_start),
        rising_tags=rising_tags(reader, week_rows, week_start, week_end),
        p1_alerts=alerts,
        p1_alert_count=alert_count,
        sla_by_team=teams,
        sla_week_start=sla_week,
        improvements=improvements(reader),
        top_drivers=drivers,
        driver_period=driver_period,
        loop_by_team=loops,
        loop_week_start=loop_week,
        counts={
            "feedback": reader.scalar("select count(*) from marts.fct_feedback"),
            "alerts_open": reader.scalar("select count(*) from marts.alerts where status = 'open'"),
        },
    )
