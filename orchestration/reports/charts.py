"""Scorecard charts: Altair (Vega-Lite) specs rendered offline to inline SVG by vl-convert.

SVG text stays text, so the browser draws the Chinese labels with its own fonts; the font list
below names the Noto CJK family first (Debian package fonts-noto-cjk) and falls back to the
common Chinese system fonts.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import vl_convert

CHINESE_FONTS = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif"
TREND_SERIES = (
    # (column, Chinese title, axis format)
    ("nps", "NPS（净推荐值）", ".0f"),
    ("csat_top2_rate", "CSAT 满意率（4-5 分占比）", ".0%"),
    ("negative_rate", "负面反馈占比", ".0%"),
    ("complaint_volume", "投诉量（条）", "d"),
)


def chart_config(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Chinese fonts and a quiet style shared by every scorecard chart."""
    return (
        chart.configure(font=CHINESE_FONTS)
        .configure_view(stroke=None)
        .configure_axis(labelFontSize=11, titleFontSize=11, gridColor="#e5e7eb")
        .configure_title(fontSize=13, anchor="start")
    )


def to_svg(chart: alt.TopLevelMixin) -> str:
    """Render a chart to an SVG string offline (no browser, no network)."""
    return vl_convert.vegalite_to_svg(chart.to_dict())


def trend_line(weekly: pd.DataFrame, column: str, title: str, axis_format: str) -> alt.Chart:
    """One metric over the ISO weeks, as a line with points."""
    return (
        alt.Chart(weekly, title=title, width=250, height=140)
        .mark_line(point=True, color="#2563eb")
        .encode(
            x=alt.X("week_start:T", title="周（周一）", axis=alt.Axis(format="%m-%d", labelAngle=-45)),
            y=alt.Y(f"{column}:Q", title=None, axis=alt.Axis(format=axis_format), scale=alt.Scale(zero=False)),
            tooltip=[alt.Tooltip("week_start:T", title="周"), alt.Tooltip(f"{column}:Q", title=title, format=axis_format)],
        )
    )


def trend_chart_svg(weekly_rows: list[dict[str, Any]]) -> str:
    """The 13-week trends of NPS, CSAT, negative rate and complaint volume, 2 x 2, as SVG."""
    weekly = pd.DataFrame(weekly_rows)
    if weekly.empty:
        return ""
    weekly["week_start"] = pd.to_datetime(weekly["week_start"])
    charts = [trend_line(weekly, column, title, axis_format) for column, title, axis_format in TREND_SERIES]
    grid = alt.vconcat(alt.hconcat(*charts[:2], spacing=40), alt.hconcat(*charts[2:], spacing=40), spacing=30)
    return to_svg(chart_config(grid))


def sla_chart_svg(team_rows: list[dict[str, Any]], target: float | None) -> str:
    """First-response SLA attainment per team as bars, with the target as a rule."""
    teams = pd.DataFrame(team_rows, columns=["assignee_team", "first_response_attainment"])
    if teams["first_response_attainment"].isna().all():
        return ""
    bars = (
        alt.Chart(teams)
        .mark_bar(color="#0f766e")
        .encode(
            x=alt.X("first_response_attainment:Q", title="达成率", axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("assignee_team:N", title=None, sort="-x"),
            tooltip=[alt.Tooltip("assignee_team:N", title="团队"),
                     alt.Tooltip("first_response_attainment:Q", title="达成率", format=".1%")],
        )
    )
    layers = [bars]
    if target is not None:
        layers.append(
            alt.Chart(pd.DataFrame({"target": [target]}))
            .mark_rule(color="#dc2626", strokeDash=[4, 3])
            .encode(x="target:Q")
        )
    layered = alt.layer(*layers).properties(title="首次响应 SLA 达成率（按团队）", width=520, height=24 * len(teams))
    return to_svg(chart_config(layered))
