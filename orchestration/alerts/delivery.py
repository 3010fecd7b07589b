"""Deliver new rows of ``marts.alerts`` to each team's webhook, once each, and log every delivery.

Routing is in ``routes``, the message formats in ``messages``, the POST in ``senders``.

Exactly-once bookkeeping lives in ``ops.alert_deliveries`` (one row per alert and webhook):
a row is written as ``sending`` before the POST and turned into ``delivered`` or ``failed``
right after it, each step committed on its own. So a restart never sends a delivered alert
again and retries the failed ones; a process killed in the middle of a POST leaves ``sending``,
which is not resent automatically (the receiver may have it) but reported until someone sets
it to ``failed``. The table is written from an asset in the ``voc_duckdb_writer`` pool, so
DuckDB keeps its single writer.
"""

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from orchestration.alerts.messages import webhook_payload
from orchestration.alerts.routes import Webhook, webhook_for
from orchestration.alerts.senders import SendResult
from orchestration.warehouse_sql import table_exists

ALERTS_TABLE = ("marts", "alerts")
DELIVERY_SCHEMA = "ops"
DELIVERY_TABLE = "alert_deliveries"

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
