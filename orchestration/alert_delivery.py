"""Deliver new rows of ``marts.alerts`` to each team's webhook, once each, and log every delivery.

Routing: the ``alert_webhooks`` seed maps an alert's ``route_to`` team to a webhook name and a
message format (``wecom``, ``dingtalk`` or ``json``; route ``*`` catches every other team). The
webhook URL itself is a secret and comes from the environment: ``VOC_ALERT_WEBHOOK_<NAME>``
(``VOC_ALERT_WEBHOOK_VIP_SERVICE`` for webhook ``vip_service``). A route whose URL is not set
waits: its alerts are delivered by the first run after the URL is configured.

Exactly-once bookkeeping lives in ``ops.alert_deliveries`` (one row per alert and webhook):
a row is written as ``sending`` before the POST and turned into ``delivered`` or ``failed``
right after it, each step committed on its own. So a restart never sends a delivered alert
again and retries the failed ones; a process killed in the middle of a POST leaves ``sending``,
which is not resent automatically (the receiver may have it) but reported until someone sets
it to ``failed``. The table is written from an asset in the ``voc_duckdb_writer`` pool, so
DuckDB keeps its single writer.

Robot webhooks answer HTTP 200 with ``{"errcode": n}``; a non-zero errcode is a failure too.
"""


import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable, Mapping, Sequence

from orchestration.warehouse_sql import table_exists

ALERTS_TABLE = ("marts", "alerts")
ROUTES_TABLE = ("seeds", "alert_webhooks")
DELIVERY_SCHEMA = "ops"
DELIVERY_TABLE = "alert_deliveries"
DEFAULT_ROUTE = "*"
FORMATS = ("wecom", "dingtalk", "json")

DELIVERY_DDL = f"""
create schema if not exists {DELIVERY_SCHEMA};
create table if not exists {DELIVERY_SCHEMA}.{DELIVERY_TABLE} (
    alert_id varchar not null,
    webhook varchar not null,
    route_to varchar,
    format varchar,
    status varchar not null,          -- sending | delivered | failed
    attempts integer not null,
    http_status integer,
    last_error varchar,
    first_attempt_at timestamp with time zone,
    last_attempt_at timestamp with time zone,
    delivered_at timestamp with time zone,
    primary key (alert_id, webhook)
)
"""

# columns of marts.alerts the messages use, when the mart has them; the first four are required
REQUIRED_ALERT_COLUMNS = ("alert_id", "alert_type", "severity", "route_to")
OPTIONAL_ALERT_COLUMNS = (
    "raised_at",
    "first_raised_at",
    "first_raised_date",
    "one_id",
    "tag",
    "store_id",
    "product_sku",
    "evidence_feedback_ids",
    "status",
    "summary",
    "detail",
)
ALERT_TYPE_TITLES = {
    "vip_negative": "VIP 客户负面反馈",
    "safety_risk": "安全风险",
    "defect_burst": "产品缺陷集中爆发",
    "tag_spike": "话题量激增",
}


@dataclass(frozen=True)
class Webhook:
    """Where one route's alerts go. ``url`` is None while its environment variable is unset."""

    name: str
    format: str
    url: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"webhook {self.name!r}: format must be one of {FORMATS}, got {self.format!r}")


def webhook_url_variable(webhook: str) -> str:
    """``VOC_ALERT_WEBHOOK_VIP_SERVICE`` for webhook ``vip_service``."""
    return "VOC_ALERT_WEBHOOK_" + re.sub(r"[^A-Za-z0-9]+", "_", webhook).strip("_").upper()


def routes_from_rows(rows: Sequence[tuple[str, str, str]], environ: Mapping[str, str]) -> dict[str, Webhook]:
    """``route_to -> Webhook`` from seed rows ``(route_to, webhook, format)``, URLs from
    ``environ`` (the settings' ``alert_webhook_urls``: ``VOC_ALERT_WEBHOOK_<NAME> -> URL``)."""
    routes: dict[str, Webhook] = {}
    for route_to, webhook, message_format in rows:
        url = environ.get(webhook_url_variable(webhook), "").strip() or None
        routes[route_to.strip()] = Webhook(webhook.strip(), message_format.strip().lower(), url)
    return routes


def webhook_for(route_to: str | None, routes: Mapping[str, Webhook]) -> Webhook | None:
    """The route's own webhook, else the ``*`` catch-all, else None."""
    return routes.get(route_to or "") or routes.get(DEFAULT_ROUTE)


# --- messages ----------------------------------------------------------------------------------


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


# --- sending -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    ok: bool
    http_status: int | None = None
    error: str | None = None


def robot_error(body: bytes) -> str | None:
    """The robot's own error (``errcode`` non-zero) in a 200 answer, else None."""
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if isinstance(answer, dict) and answer.get("errcode") not in (None, 0, "0"):
        return f"errcode {answer.get('errcode')}: {answer.get('errmsg')}"
    return None


def make_http_sender(
    timeout_seconds: float = 10.0, max_attempts: int = 4, backoff_seconds: float = 1.0
) -> Callable[[str, dict[str, Any]], SendResult]:
    """A POST function retrying 429 / 5xx / connection errors with backoff (dlt's requests client)."""
    from dlt.sources.helpers.requests.retry import Client
    from requests import RequestException

    client = Client(
        request_timeout=timeout_seconds,
        raise_for_status=False,
        request_max_attempts=max_attempts,
        request_backoff_factor=backoff_seconds,
        request_max_retry_delay=60,
    )

    def send(url: str, payload: dict[str, Any]) -> SendResult:
        try:
            response = client.session.post(url, json=payload)
        except RequestException as exc:
            return SendResult(False, None, f"{type(exc).__name__}: {exc}"[:500])
        if response.status_code >= 300:
            return SendResult(False, response.status_code, f"HTTP {response.status_code}: {response.text[:200]}")
        error = robot_error(response.content)
        return SendResult(error is None, response.status_code, error)

    return send


# --- the warehouse side ------------------------------------------------------------------------


def alert_columns(con) -> list[str]:
    """The columns of ``marts.alerts`` this module uses, in a fixed order; raises if one required is missing."""
    present = {
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            list(ALERTS_TABLE),
        ).fetchall()
    }
    missing = [c for c in REQUIRED_ALERT_COLUMNS if c not in present]
    if missing:
        raise ValueError(f"marts.alerts lacks the columns {missing}")
    return [*REQUIRED_ALERT_COLUMNS, *(c for c in OPTIONAL_ALERT_COLUMNS if c in present)]


def load_routes(con, environ: Mapping[str, str]) -> dict[str, Webhook]:
    """Routes from ``seeds.alert_webhooks`` (empty when the seed is not loaded yet)."""
    if not table_exists(con, *ROUTES_TABLE):
        return {}
    rows = con.execute(
        f"select route_to, webhook, format from {'.'.join(ROUTES_TABLE)} where webhook is not null"
    ).fetchall()
    return routes_from_rows(rows, environ)


def undelivered_alerts(con) -> list[dict[str, Any]]:
    """Alerts without a ``delivered`` or ``sending`` row, oldest first."""
    columns = alert_columns(con)
    order = "raised_at, alert_id" if "raised_at" in columns else "alert_id"
    rows = con.execute(
        f"""
        select {', '.join(f'a."{c}"' for c in columns)}
        from marts.alerts as a
        where not exists (
            select 1 from {DELIVERY_SCHEMA}.{DELIVERY_TABLE} as d
            where d.alert_id = a.alert_id and d.status in ('delivered', 'sending')
        )
        order by {order}
        """
    ).fetchall()
    return [dict(zip(columns, row)) for row in rows]


def _mark(con, alert: Mapping[str, Any], webhook: Webhook, status: str, result: SendResult | None, now: datetime) -> None:
    if status == "sending":
        con.execute(
            f"""
            insert into {DELIVERY_SCHEMA}.{DELIVERY_TABLE}
                (alert_id, webhook, route_to, format, status, attempts, first_attempt_at, last_attempt_at)
            values (?, ?, ?, ?, 'sending', 1, ?, ?)
            on conflict (alert_id, webhook) do update set
                status = 'sending', attempts = attempts + 1, last_attempt_at = excluded.last_attempt_at,
                route_to = excluded.route_to, format = excluded.format
            """,
            [alert["alert_id"], webhook.name, alert.get("route_to"), webhook.format, now, now],
        )
        return
    con.execute(
        f"""
        update {DELIVERY_SCHEMA}.{DELIVERY_TABLE}
        set status = ?, http_status = ?, last_error = ?, delivered_at = ?
        where alert_id = ? and webhook = ?
        """,
        [status, result.http_status, result.error, now if status == "delivered" else None, alert["alert_id"], webhook.name],
    )


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    skipped_reason: str | None = None
    delivered: list[str] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # alert_id, webhook, error
    waiting: dict[str, int] = field(default_factory=dict)  # route_to -> alerts without a URL
    interrupted: int = 0

    def metadata(self) -> dict[str, Any]:
        return {
            "delivered": len(self.delivered),
            "failed": len(self.failed),
            "waiting_for_webhook_url": sum(self.waiting.values()),
            "interrupted_mid_send": self.interrupted,
            "skipped": self.skipped_reason or "",
        }


def deliver_new_alerts(
    con,
    routes: Mapping[str, Webhook],
    send: Callable[[str, dict[str, Any]], SendResult],
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> DeliveryReport:
    """Post every undelivered alert to its route's webhook and record each outcome at once.

    ``con`` is a read-write DuckDB connection; returns a ``DeliveryReport`` (skipped with a
    reason when ``marts.alerts`` does not exist yet).
    """
    report = DeliveryReport()
    if not table_exists(con, *ALERTS_TABLE):
        report.skipped_reason = "marts.alerts does not exist yet (run dbt first); nothing to deliver"
        return report
    con.execute(DELIVERY_DDL)
    report.interrupted = con.execute(
        f"select count(*) from {DELIVERY_SCHEMA}.{DELIVERY_TABLE} where status = 'sending'"
    ).fetchall()[0][0]
    for alert in undelivered_alerts(con):
        webhook = webhook_for(alert.get("route_to"), routes)
        if webhook is None or webhook.url is None:
            route = alert.get("route_to") or ""
            report.waiting[route] = report.waiting.get(route, 0) + 1
            continue
        _mark(con, alert, webhook, "sending", None, clock())
        result = send(webhook.url, webhook_payload(webhook.format, alert))
        _mark(con, alert, webhook, "delivered" if result.ok else "failed", result, clock())
        if result.ok:
            report.delivered.append(alert["alert_id"])
        else:
            report.failed.append((alert["alert_id"], webhook.name, result.error or "failed"))
    return report


# --- the Dagster asset -------------------------------------------------------------------------

import dagster as dg  # noqa: E402  (the pure functions above stay importable without Dagster in mind)

from orchestration.resources import DUCKDB_WRITER_POOL  # noqa: E402
from orchestration.resources import SettingsResource, VocWarehouse  # noqa: E402

DELIVERY_RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=15, backoff=dg.Backoff.EXPONENTIAL)
"""A failed delivery fails the step; Dagster retries it (delivered alerts are not sent again)."""


@dg.asset(
    key=dg.AssetKey([DELIVERY_SCHEMA, DELIVERY_TABLE]),
    deps=[dg.AssetKey(list(ALERTS_TABLE)), dg.AssetKey(list(ROUTES_TABLE))],
    group_name="delivery",
    kinds={"python", "duckdb", "webhook"},
    # the data team runs the delivery; the receiving teams own the routes (alert_webhooks seed)
    owners=["team:data-engineering"],
    pool=DUCKDB_WRITER_POOL,
    retry_policy=DELIVERY_RETRY_POLICY,
    description=(
        "Posts every new row of marts.alerts once to its team's webhook (WeCom / DingTalk robot "
        "or plain JSON, routes in the alert_webhooks seed, URLs in VOC_ALERT_WEBHOOK_<NAME>) and "
        "records each delivery in ops.alert_deliveries."
    ),
)
def alert_deliveries(
    context: dg.AssetExecutionContext, warehouse: VocWarehouse, settings: SettingsResource
) -> dg.MaterializeResult:
    import duckdb

    with duckdb.connect(str(warehouse.warehouse_path)) as con:
        routes = load_routes(con, settings.alert_webhook_urls)
        report = deliver_new_alerts(con, routes, make_http_sender())
    if report.skipped_reason:
        context.log.warning(f"Alert delivery skipped: {report.skipped_reason}")
    if report.waiting:
        waiting = ", ".join(f"{route or '(no route)'}: {n}" for route, n in sorted(report.waiting.items()))
        context.log.warning(
            f"Alerts waiting for a webhook URL ({waiting}); set the VOC_ALERT_WEBHOOK_<NAME> "
            "variable of their route (see the alert_webhooks seed)"
        )
    if report.interrupted:
        context.log.warning(
            f"{report.interrupted} deliveries were interrupted mid-send earlier and are not resent "
            f"automatically: check the receiver, then set their status to 'failed' in "
            f"{DELIVERY_SCHEMA}.{DELIVERY_TABLE} to resend"
        )
    context.log.info(f"Delivered {len(report.delivered)} alerts")
    if report.failed:
        details = "; ".join(f"{alert_id} -> {hook}: {error}" for alert_id, hook, error in report.failed[:10])
        raise dg.Failure(
            description=f"{len(report.failed)} alert deliveries failed (they are retried): {details}",
            metadata=report.metadata(),
        )
    return dg.MaterializeResult(metadata=report.metadata())
