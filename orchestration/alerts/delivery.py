"""Deliver new rows of ``marts.alerts`` to each team's webhook and log every delivery.

Routing is in ``routes``, the message formats in ``messages``, the POSTs in ``senders``.

The bookkeeping is ``ops.alert_deliveries`` (one row per alert and webhook). Its ``status``:

* no row: never tried yet (``voc alerts list`` shows it as pending);
* ``sending``: recorded and committed just before the POST;
* ``delivered``: the receiver accepted it (never posted again);
* ``pending``: not delivered, provably (no connection, 429, a robot's rate limit), or not tried
  because the host's circuit breaker opened or the pass deadline was reached; the next run
  tries again;
* ``failed``: the receiver refused it (4xx, a robot's error code), or a JSON webhook's retries
  ran out; the next run tries again (a JSON webhook with the same ``Idempotency-Key``);
* ``unknown``: a chat robot may have it (read timeout, connection dropped after sending, 5xx,
  or a ``sending`` row older than ``DeliveryPolicy.sending_stale_seconds``: the process died
  between the two commits). Never resent automatically; reported on every run until an operator
  runs ``voc alerts resend`` or ``voc alerts mark-delivered``.

The table is written from an asset in the ``voc_duckdb_writer`` pool, so DuckDB keeps its single
writer; a pass takes at most ``DeliveryPolicy.deadline_seconds`` of POSTs.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

from loaders.api.safe_errors import redact_urls
from orchestration.alerts.messages import webhook_payload
from orchestration.alerts.routes import Webhook, webhook_for
from orchestration.alerts.senders import DELIVERED, NOT_DELIVERED, REJECTED, ROBOT_FORMATS, Poster, SendResult
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
    status varchar not null,          -- sending | delivered | pending | failed | unknown
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
    """Alerts without a ``delivered``, ``sending`` or ``unknown`` row, oldest first."""
    columns = alert_columns(con)
    order = "raised_at, alert_id" if "raised_at" in columns else "alert_id"
    rows = con.execute(
        f"""
        select {', '.join(f'a."{c}"' for c in columns)}
        from marts.alerts as a
        where not exists (
            select 1 from {DELIVERY_SCHEMA}.{DELIVERY_TABLE} as d
            where d.alert_id = a.alert_id and d.status in ('delivered', 'sending', 'unknown')
        )
        order by {order}
        """
    ).fetchall()
    return [dict(zip(columns, row)) for row in rows]


def alert_by_id(con, alert_id: str) -> dict[str, Any] | None:
    columns = alert_columns(con)
    selected = ", ".join(f'a."{c}"' for c in columns)
    row = con.execute(f"select {selected} from marts.alerts as a where a.alert_id = ?", [alert_id]).fetchone()
    return dict(zip(columns, row)) if row else None


INTERRUPTED_ERROR = "interrupted between recording 'sending' and recording the answer"


def settle_stale_sending(con, now: datetime, stale_seconds: float) -> list[tuple[str, str]]:
    """``sending`` rows older than ``stale_seconds``: a chat robot's become ``unknown`` (it may
    have the message), a JSON webhook's ``failed`` (resent with the same Idempotency-Key).
    Returns ``(alert_id, webhook)`` of the rows turned ``unknown``."""
    cutoff = now - timedelta(seconds=stale_seconds)
    robots = ", ".join(f"'{f}'" for f in ROBOT_FORMATS)
    turned = con.execute(
        f"""
        update {DELIVERY_SCHEMA}.{DELIVERY_TABLE}
        set status = case when format in ({robots}) then 'unknown' else 'failed' end,
            last_error = ?
        where status = 'sending' and last_attempt_at < ?
        returning alert_id, webhook, status
        """,
        [f"{INTERRUPTED_ERROR}; the receiver may have it", cutoff],
    ).fetchall()
    return sorted((alert_id, hook) for alert_id, hook, status in turned if status == "unknown")


def _mark_sending(con, alert: Mapping[str, Any], webhook: Webhook, now: datetime) -> None:
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


def status_for(result: SendResult, message_format: str) -> str:
    """The row's status after a delivery: see the module doc."""
    if result.outcome == DELIVERED:
        return "delivered"
    if result.outcome == NOT_DELIVERED:
        return "pending"
    if result.outcome == REJECTED or message_format not in ROBOT_FORMATS:
        return "failed"
    return "unknown"


def _mark_result(con, alert_id: str, webhook: str, status: str, result: SendResult, now: datetime) -> None:
    con.execute(
        f"""
        update {DELIVERY_SCHEMA}.{DELIVERY_TABLE}
        set status = ?, http_status = ?, last_error = ?, delivered_at = ?,
            attempts = attempts + ?, last_attempt_at = ?
        where alert_id = ? and webhook = ?
        """,
        [status, result.http_status, result.error, now if status == "delivered" else None,
         max(result.attempts - 1, 0), now, alert_id, webhook],
    )


def _mark_deferred(con, deferred: list[tuple[str, str, str]]) -> None:
    """Record why alerts were not tried in this pass (breaker open, deadline), on the rows they
    have (an alert never tried has none); one statement per reason, however many alerts."""
    by_reason: dict[str, list[str]] = {}
    for alert_id, webhook, reason in deferred:
        by_reason.setdefault(reason, []).append(f"{alert_id}\x1f{webhook}")
    for reason, keys in by_reason.items():
        con.execute(
            f"""
            update {DELIVERY_SCHEMA}.{DELIVERY_TABLE} set status = 'pending', last_error = ?
            where status in ('pending', 'failed') and list_contains(?, alert_id || chr(31) || webhook)
            """,
            [reason, keys],
        )


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    skipped_reason: str | None = None
    delivered: list[str] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # refused: alert_id, webhook, error
    pending: list[tuple[str, str, str]] = field(default_factory=list)  # not delivered, retried next run
    unknown_now: list[tuple[str, str, str]] = field(default_factory=list)  # became unknown in this pass
    unknown_open: list[tuple[str, str, str]] = field(default_factory=list)  # every unknown row after the pass
    in_flight: int = 0  # young 'sending' rows (another pass may be posting them)
    waiting: dict[str, int] = field(default_factory=dict)  # route_to -> alerts without a URL
    skipped_hosts: list[str] = field(default_factory=list)
    deferred: int = 0  # alerts not tried: breaker open or deadline reached
    deadline_reached: bool = False
    seconds: float = 0.0

    @property
    def trouble(self) -> bool:
        """Did anything tried in this pass stay undelivered?"""
        return bool(self.failed or self.pending or self.unknown_now or self.deferred)

    def summary(self) -> str:
        """One paragraph for the run log and a failure description: counts, skipped hosts,
        deadline; errors come from ``safe_errors`` (host, status, type only)."""
        parts = [f"{len(self.delivered)} delivered"]
        if self.failed:
            parts.append(f"{len(self.failed)} refused (tried again next run)")
        if self.pending:
            parts.append(f"{len(self.pending)} not delivered (tried again next run)")
        if self.deferred:
            parts.append(f"{self.deferred} not tried in this run (left pending)")
        if self.unknown_now:
            parts.append(f"{len(self.unknown_now)} with an unknown outcome (not resent automatically)")
        text = "Alert delivery: " + ", ".join(parts) + f" in {self.seconds:.1f} s."
        if self.skipped_hosts:
            text += f" Hosts skipped for this run after repeated failures: {', '.join(self.skipped_hosts)}."
        if self.deadline_reached:
            text += " The delivery deadline was reached; the remaining alerts stay pending for the next run."
        problems = [*self.failed, *self.pending, *self.unknown_now][:10]
        if problems:
            text += " " + "; ".join(f"{alert_id} -> {hook}: {error}" for alert_id, hook, error in problems)
        return text

    def metadata(self) -> dict[str, Any]:
        return {
            "delivered": len(self.delivered),
            "failed": len(self.failed),
            "pending_not_delivered": len(self.pending),
            "deferred_to_next_run": self.deferred,
            "unknown_outcome_new": len(self.unknown_now),
            "unknown_outcome_open": len(self.unknown_open),
            "unknown_outcome_alerts": ", ".join(f"{a} -> {h}" for a, h, _ in self.unknown_open[:20]),
            "sending_in_flight": self.in_flight,
            "skipped_hosts": ", ".join(self.skipped_hosts),
            "deadline_reached": self.deadline_reached,
            "delivery_seconds": round(self.seconds, 2),
            "waiting_for_webhook_url": sum(self.waiting.values()),
            "skipped": self.skipped_reason or "",
        }


def open_unknown(con) -> list[tuple[str, str, str]]:
    return con.execute(
        f"""
        select alert_id, webhook, coalesce(last_error, '') from {DELIVERY_SCHEMA}.{DELIVERY_TABLE}
        where status = 'unknown' order by last_attempt_at, alert_id
        """
    ).fetchall()


def ensure_delivery_table(con) -> None:
    """Create ``ops.alert_deliveries`` when missing (no column was added since the first version),
    and cut the URLs that earlier versions wrote into ``last_error`` (with their keys) to their host."""
    con.execute(DELIVERY_DDL)
    leaked = con.execute(
        f"select alert_id, webhook, last_error from {DELIVERY_SCHEMA}.{DELIVERY_TABLE} where last_error like '%://%' or last_error like '%/%?%'"
    ).fetchall()
    for alert_id, webhook, error in leaked:
        con.execute(
            f"update {DELIVERY_SCHEMA}.{DELIVERY_TABLE} set last_error = ? where alert_id = ? and webhook = ?",
            [redact_urls(error), alert_id, webhook],
        )


def deliver_new_alerts(
    con,
    routes: Mapping[str, Webhook],
    poster: Poster,
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    before_post: Callable[[Mapping[str, Any]], None] | None = None,
) -> DeliveryReport:
    """Post every undelivered alert to its route's webhook and record each outcome at once.

    ``con`` is a read-write DuckDB connection; returns a ``DeliveryReport`` (skipped with a
    reason when ``marts.alerts`` does not exist yet). ``before_post`` runs after the ``sending``
    row is committed and before the POST (tests inject a crash there).
    """
    import time

    started = time.monotonic()
    report = DeliveryReport()
    if not table_exists(con, *ALERTS_TABLE):
        report.skipped_reason = "marts.alerts does not exist yet (run dbt first); nothing to deliver"
        return report
    ensure_delivery_table(con)
    settle_stale_sending(con, clock(), poster.policy.sending_stale_seconds)
    report.in_flight = con.execute(
        f"select count(*) from {DELIVERY_SCHEMA}.{DELIVERY_TABLE} where status = 'sending'"
    ).fetchall()[0][0]
    deferred: list[tuple[str, str, str]] = []
    for alert in undelivered_alerts(con):
        webhook = webhook_for(alert.get("route_to"), routes)
        if webhook is None or webhook.url is None:
            route = alert.get("route_to") or ""
            report.waiting[route] = report.waiting.get(route, 0) + 1
            continue
        refusal = poster.can_try(webhook.url)
        if refusal is not None:
            deferred.append((alert["alert_id"], webhook.name, refusal))
            continue
        _mark_sending(con, alert, webhook, clock())
        if before_post is not None:
            before_post(alert)
        key = alert["alert_id"] if webhook.format not in ROBOT_FORMATS else None
        result = poster.deliver(webhook.url, webhook_payload(webhook.format, alert), webhook.format, key)
        status = status_for(result, webhook.format)
        _mark_result(con, alert["alert_id"], webhook.name, status, result, clock())
        entry = (alert["alert_id"], webhook.name, result.error or status)
        if status == "delivered":
            report.delivered.append(alert["alert_id"])
        elif status == "pending":
            report.pending.append(entry)
        elif status == "failed":
            report.failed.append(entry)
        else:
            report.unknown_now.append(entry)
    _mark_deferred(con, deferred)
    report.deferred = len(deferred)
    report.skipped_hosts = sorted(poster.skipped_hosts)
    report.deadline_reached = poster.deadline_reached
    report.unknown_open = open_unknown(con)
    report.seconds = time.monotonic() - started
    return report


# --- what the operator does (``voc alerts``) -------------------------------------------------


def open_deliveries(con) -> list[dict[str, Any]]:
    """Every alert not delivered yet: rows that are not ``delivered``, and alerts without a row
    (``never tried``), oldest first."""
    if not table_exists(con, *ALERTS_TABLE):
        return []
    deliveries = (
        f"{DELIVERY_SCHEMA}.{DELIVERY_TABLE}"
        if table_exists(con, DELIVERY_SCHEMA, DELIVERY_TABLE)
        else "(select null::varchar as alert_id, null::varchar as webhook, null::varchar as status, "
        "null::integer as attempts, null::timestamptz as last_attempt_at, null::varchar as last_error where false)"
    )
    rows = con.execute(
        f"""
        select a.alert_id, coalesce(d.webhook, '') as webhook, a.route_to,
               coalesce(d.status, 'pending') as status, coalesce(d.attempts, 0) as attempts,
               d.last_attempt_at, coalesce(d.last_error, case when d.status is null then 'never tried' end) as last_error
        from marts.alerts as a
        left join {deliveries} as d on d.alert_id = a.alert_id
        where not exists (
            select 1 from {deliveries} as ok
            where ok.alert_id = a.alert_id and ok.status = 'delivered'
        )
        order by case coalesce(d.status, 'pending') when 'unknown' then 0 when 'sending' then 1 else 2 end,
                 a.alert_id
        """
    ).fetchall()
    keys = ("alert_id", "webhook", "route_to", "status", "attempts", "last_attempt_at", "last_error")
    return [dict(zip(keys, row)) for row in rows]


class OperatorError(ValueError):
    """A ``voc alerts`` command that cannot do what it was asked."""


def _delivery_row(con, alert_id: str, webhook: str | None) -> tuple[str, str]:
    ensure_delivery_table(con)
    rows = con.execute(
        f"select webhook, status from {DELIVERY_SCHEMA}.{DELIVERY_TABLE} where alert_id = ?"
        + (" and webhook = ?" if webhook else "")
        + " order by webhook",
        [alert_id, webhook] if webhook else [alert_id],
    ).fetchall()
    if not rows:
        raise OperatorError(f"alert {alert_id!r} has no delivery{' to ' + webhook if webhook else ''} on record")
    if len(rows) > 1:
        raise OperatorError(f"alert {alert_id!r} has deliveries to {', '.join(r[0] for r in rows)}: name one with --webhook")
    return rows[0]


def mark_delivered(con, alert_id: str, webhook: str | None, now: datetime | None = None) -> str:
    """Settle a delivery as delivered (the operator saw it arrive). Returns the webhook name."""
    hook, status = _delivery_row(con, alert_id, webhook)
    if status == "delivered":
        raise OperatorError(f"alert {alert_id!r} to {hook} is already delivered")
    con.execute(
        f"""
        update {DELIVERY_SCHEMA}.{DELIVERY_TABLE}
        set status = 'delivered', delivered_at = ?, last_error = ?
        where alert_id = ? and webhook = ?
        """,
        [now or datetime.now(timezone.utc), f"marked delivered by an operator (was {status})", alert_id, hook],
    )
    return hook


def resend(
    con,
    alert_id: str,
    webhook: str | None,
    routes: Mapping[str, Webhook],
    poster: Poster,
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> tuple[str, SendResult]:
    """Post an alert again now (the operator checked the receiver does not have it), with the
    same rules as a run; returns ``(webhook, result)`` and records the outcome."""
    alert = alert_by_id(con, alert_id) if table_exists(con, *ALERTS_TABLE) else None
    if alert is None:
        raise OperatorError(f"alert {alert_id!r} is not in marts.alerts")
    hook_name, status = _delivery_row(con, alert_id, webhook)
    if status == "delivered":
        raise OperatorError(f"alert {alert_id!r} to {hook_name} is already delivered")
    target = webhook_for(alert.get("route_to"), routes)
    if target is None or target.name != hook_name:
        target = next((w for w in routes.values() if w.name == hook_name), None)
    if target is None or target.url is None:
        raise OperatorError(f"webhook {hook_name!r} has no URL set (VOC_ALERT_WEBHOOK_<NAME>)")
    _mark_sending(con, alert, target, clock())
    key = alert_id if target.format not in ROBOT_FORMATS else None
    result = poster.deliver(target.url, webhook_payload(target.format, alert), target.format, key)
    _mark_result(con, alert_id, target.name, status_for(result, target.format), result, clock())
    return target.name, result
