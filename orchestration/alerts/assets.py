"""The Dagster asset that delivers new alerts (``ops.alert_deliveries``)."""

import dagster as dg

from loaders.writer_lock import explain_lock_conflicts
from orchestration.alerts.delivery import ALERTS_TABLE, DELIVERY_SCHEMA, DELIVERY_TABLE, deliver_new_alerts
from orchestration.alerts.routes import ROUTES_TABLE, load_routes
from orchestration.alerts.senders import make_http_sender
from orchestration.resources import DUCKDB_WRITER_POOL, SettingsResource, VocWarehouse

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

    with explain_lock_conflicts(warehouse.warehouse_path), duckdb.connect(str(warehouse.warehouse_path)) as con:
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
