"""Render the scorecard to one self-contained HTML file (Jinja2 template, inline SVG charts)
and, when WeasyPrint and its system libraries are present, a PDF of the same page."""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import jinja2

from orchestration.marts_reader import MartsReader, reader_from
from orchestration.reports.charts import sla_chart_svg, trend_chart_svg
from orchestration.reports.scorecard_data import P1_SEVERITIES, ScorecardData, load_scorecard

TEMPLATES_DIR = Path(__file__).parent / "templates"
LATEST_NAME = "latest.html"

METRIC_LABELS = {
    "nps": "NPS 净推荐值",
    "csat_top2_rate": "CSAT 满意率（4-5 分）",
    "ces_avg": "CES 省力度（7 = 很省力）",
    "negative_rate": "负面反馈占比",
    "complaint_volume": "投诉量",
    "sla_first_response_attainment": "首次响应 SLA 达成率",
    "median_first_response_minutes": "首次响应时长中位数",
}
STATUS_LABELS = {"on_track": "达标", "at_risk": "预警", "off_track": "未达标"}
PERIOD_LABELS = {"day": "日", "week": "周", "month": "月"}
SEVERITY_LABELS = {"critical": "严重", "high": "高", "medium": "中"}
ALERT_TYPE_LABELS = {
    "safety_risk": "安全风险",
    "vip_negative": "VIP 负面",
    "defect_burst": "缺陷集中爆发",
    "tag_spike": "标签异常激增",
}
IMPROVEMENT_METRIC_LABELS = {"negative_rate": "负面占比", "avg_sentiment": "平均情感分"}


@dataclass(frozen=True)
class ScorecardFiles:
    """The files one render wrote."""

    dated_html: Path
    latest_html: Path
    pdf: Path | None
    pdf_skipped_reason: str | None


def format_value(value: float | None, unit: str | None) -> str:
    """A metric value as people read it: shares in percent, points and scores with decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "share":
        return f"{value * 100:.1f}%"
    if unit == "points":
        return f"{value:.1f}"
    if unit == "minutes":
        return f"{value:.0f} 分钟"
    if unit == "items":
        return f"{value:.0f}"
    return f"{value:.2f}"


def format_delta(delta: float | None, unit: str | None) -> str:
    """A change with its sign, in the metric's unit (shares in percentage points)."""
    if delta is None or (isinstance(delta, float) and math.isnan(delta)):
        return "—"
    if unit == "share":
        return f"{delta * 100:+.1f} pp"
    if unit == "minutes":
        return f"{delta:+.0f} 分钟"
    if unit == "items":
        return f"{delta:+.0f}"
    if unit == "points":
        return f"{delta:+.1f}"
    return f"{delta:+.2f}"


def format_number(value: float | None, pattern: str = "{:.2f}") -> str:
    """Any other number, with a dash for missing values."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return pattern.format(value)


def change_is_good_label(change_is_good: bool | None) -> str:
    """CSS class of a change: good (green), bad (red) or flat (grey)."""
    if change_is_good is None:
        return "flat"
    return "good" if change_is_good else "bad"


def machine_value(value) -> str:
    """The exact value for the page's data-value attributes (tests compare them with the marts)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return repr(float(value)) if isinstance(value, (int, float)) else str(value)


def template_environment() -> jinja2.Environment:
    """Jinja2 with autoescaping (comments are customer text) and the scorecard's filters."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        value=format_value,
        delta=format_delta,
        number=format_number,
        machine=machine_value,
        chinese_date=chinese_date,
        tone=change_is_good_label,
    )
    return environment


def render_html(data: ScorecardData, generated_at: datetime) -> str:
    """The whole scorecard page as one HTML string."""
    sla_target = next((row["target"] for row in data.headline if row["metric"] == "sla_first_response_attainment"), None)
    return template_environment().get_template("scorecard.html.j2").render(
        data=data,
        generated_at=generated_at,
        trend_svg=trend_chart_svg(data.weekly_trend),
        sla_svg=sla_chart_svg(data.sla_by_team, sla_target),
        metric_labels=METRIC_LABELS,
        status_labels=STATUS_LABELS,
        period_labels=PERIOD_LABELS,
        severity_labels=SEVERITY_LABELS,
        alert_type_labels=ALERT_TYPE_LABELS,
        improvement_metric_labels=IMPROVEMENT_METRIC_LABELS,
        p1_severities=P1_SEVERITIES,
    )


def write_pdf(html: str, pdf_path: Path) -> str | None:
    """Print the page to PDF with WeasyPrint; the reason when that is not possible here."""
    try:
        import weasyprint
    except (ImportError, OSError) as error:  # OSError: the package is there but Pango is not
        return f"no PDF: WeasyPrint is not usable here ({error.__class__.__name__}: {error})"
    weasyprint.HTML(string=html).write_pdf(pdf_path)
    return None


def write_scorecard(warehouse: Path | MartsReader, reports_dir: Path, generated_at: datetime | None = None,
                    with_pdf: bool = True) -> tuple[ScorecardFiles, ScorecardData]:
    """Read the marts (a DuckDB warehouse file read-only, or a reader of either engine), write
    scorecard_<as-of date>.html, latest.html and the PDF."""
    generated_at = generated_at or datetime.now().astimezone()
    if isinstance(warehouse, (str, Path)):
        with reader_from(warehouse) as reader:
            data = load_scorecard(reader)
    else:
        data = load_scorecard(warehouse)
    html = render_html(data, generated_at)
    reports_dir.mkdir(parents=True, exist_ok=True)
    dated = reports_dir / f"scorecard_{data.as_of_date.isoformat()}.html"
    dated.write_text(html, encoding="utf-8")
    latest = reports_dir / LATEST_NAME
    shutil.copyfile(dated, latest)
    pdf_path, reason = None, "PDF not requested"
    if with_pdf:
        candidate = reports_dir / f"scorecard_{data.as_of_date.isoformat()}.pdf"
        reason = write_pdf(html, candidate)
        pdf_path = None if reason else candidate
    return ScorecardFiles(dated, latest, pdf_path, reason), data


def chinese_date(day: date) -> str:
    """2026-11-16 -> 2026年11月16日."""
    return f"{day.year}年{day.month}月{day.day}日"
