"""The message for one alert in its webhook's format: a WeCom or DingTalk robot's markdown or plain JSON."""

from datetime import date, datetime
from typing import Any, Mapping

FORMATS = ("wecom", "dingtalk", "json")

ALERT_TYPE_TITLES = {
    "vip_negative": "VIP 客户负面反馈",
    "safety_risk": "安全风险",
    "defect_burst": "产品缺陷集中爆发",
    "tag_spike": "话题量激增",
}


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "-"
    return str(value)


def render_markdown(alert: Mapping[str, Any]) -> tuple[str, str]:
    """``(title, markdown body)`` of one alert, in Chinese for the receiving teams.

    Only the columns of the mart are used; the alert summary is already masked in the mart.
    """
    kind = alert.get("alert_type")
    title = f"[{_text(alert.get('severity')).upper()}] {ALERT_TYPE_TITLES.get(kind, kind)}"
    lines = [f"### {title}"]
    labels = (
        ("route_to", "负责团队"),
        ("tag", "标签"),
        ("product_sku", "商品"),
        ("store_id", "门店"),
        ("one_id", "客户"),
        ("raised_at", "时间"),
        ("summary", "摘要"),
        ("detail", "详情"),
        ("evidence_feedback_ids", "证据反馈"),
    )
    for column, label in labels:
        if alert.get(column) not in (None, "", []):
            lines.append(f"> {label}: {_text(alert.get(column))}")
    lines.append(f"> 告警编号: {alert.get('alert_id')}")
    return title, "\n".join(lines)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def webhook_payload(message_format: str, alert: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body for one alert in the webhook's format (WeCom / DingTalk robot or plain)."""
    title, body = render_markdown(alert)
    if message_format == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": body}}
    if message_format == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": title, "text": body}}
    if message_format == "json":
        return {"event": "voc.alert", "alert": {k: _jsonable(v) for k, v in alert.items()}}
    raise ValueError(f"unknown webhook format {message_format!r}")
