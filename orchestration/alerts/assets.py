"""The Dagster asset that delivers new alerts (``ops.alert_deliveries``)."""

from contextlib import contextmanager

import dagster as dg

from orchestration.alerts.delivery import ALERTS_TABLE, DELIVERY_SCHEMA, DELIVERY_TABLE, deliver_new_alerts
from orchestration.alerts.ops import delivery_connection
from orchestration.alerts.routes import ROUTES_TABLE, load_routes
from orchestration.alerts.senders import Poster
from orchestration.resources import DUCKDB_WRITER_POOL, SettingsResource, VocWarehouse


# No Dagster retry policy: a delivery pass is bounded by its deadline (VOC_ALERT_DELIVERY_DEADLINE_SECONDS),
# and what it could not deliver is tried by the next run, so a down receiver never lengthens the night.
@dg.asset(
    key=dg.AssetKey([DELIVERY_SCHEMA, DELIVERY_TABLE]),
    deps=[dg.AssetKey(list(ALERTS_TABLE)), dg.AssetKey(list(ROUTES_TABLE))],
    group_name="delivery",
    kinds={"python", "duckdb", "webhook"},
    # the data team runs the delivery; the receiving teams own the routes (alert_webhooks seed)
    owners=["team:data-engineering"],
    pool=DUCKDB_WRITER_POOL,
    description=(
        "Posts every new row of marts.alerts to its team's webhook (WeCom / DingTalk robot or "
        "plain JSON, routes in the alert_webhooks seed, URLs in VOC_ALERT_WEBHOOK_<NAME>) and "
        "records each delivery in ops.alert_deliveries. A chat robot's alert whose outcome is "
        "unknown is never resent automatically: see `voc alerts`."
    ),
)
def alert_deliveries(
    context: dg.AssetExecutionContext, warehouse: VocWarehouse, settings: SettingsResource
) -> dg.MaterializeResult:
    # on Spark the delivery log is a DuckDB ops file with copies of the alerts and routes (alerts/ops.py)
    with _reader_on_spark(settings) as reader, delivery_connection(settings, reader, warehouse.warehouse_path) as con:
        routes = load_routes(con, settings.alert_webhook_urls)
        report = deliver_new_alerts(con, routes, Poster(settings.alert_delivery))
    if report.skipped_reason:
        context.log.warning(f"Alert delivery skipped: {report.skipped_reason}")
    if report.waiting:
        waiting = ", ".join(f"{route or '(no route)'}: {n}" for route, n in sorted(report.waiting.items()))
        context.log.warning(
            f"Alerts waiting for a webhook URL ({waiting}); set the VOC_ALERT_WEBHOOK_<NAME> "
            "variable of their route (see the alert_webhooks seed)"
        )
    if report.unknown_open:
        shown = "; ".join(f"{alert_id} -> {hook}: {error}" for alert_id, hook, error in report.unknown_open[:10])
        context.log.warning(
            f"{len(report.unknown_open)} alert deliveries have an UNKNOWN outcome and are not resent "
            f"automatically (the chat group may have them): {shown}. Check the group, then run "
            "`voc alerts mark-delivered ALERT_ID` or `voc alerts resend ALERT_ID` (`voc alerts list` shows them)."
        )
    if report.in_flight:
        context.log.warning(
            f"{report.in_flight} deliveries are in 'sending' from a pass that has not recorded its answer; "
            f"after {settings.alert_delivery.sending_stale_seconds:g} s they become 'unknown'"
        )
    summary = report.summary()
    if report.trouble:
        context.log.error(summary)
        raise dg.Failure(description=summary, metadata=report.metadata())
    context.log.info(summary)
    return dg.MaterializeResult(metadata=report.metadata())


@contextmanager
def _reader_on_spark(settings):
    if not settings.uses_spark:
        yield None
        return
    from orchestration.engine.readers import engine_reader

    with engine_reader(settings) as reader:
        yield reader
