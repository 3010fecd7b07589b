"""Which webhook an alert goes to, and in which format.

Routing: the ``alert_webhooks`` seed maps an alert's ``route_to`` team to a webhook name and a
message format (``wecom``, ``dingtalk`` or ``json``; route ``*`` catches every other team). The
webhook URL itself is a secret and comes from the environment: ``VOC_ALERT_WEBHOOK_<NAME>``
(``VOC_ALERT_WEBHOOK_VIP_SERVICE`` for webhook ``vip_service``). A route whose URL is not set
waits: its alerts are delivered by the first run after the URL is configured.
"""

import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from orchestration.alerts.messages import FORMATS
from orchestration.marts_reader import as_reader

ROUTES_TABLE = ("seeds", "alert_webhooks")
DEFAULT_ROUTE = "*"


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


def load_routes(con, environ: Mapping[str, str]) -> dict[str, Webhook]:
    """Routes from ``seeds.alert_webhooks`` (empty when the seed is not loaded yet), through a
    marts reader of either engine or an open DuckDB connection."""
    reader = as_reader(con)
    if not reader.exists(".".join(ROUTES_TABLE)):
        return {}
    rows = reader.rows(f"select route_to, webhook, format from {'.'.join(ROUTES_TABLE)} where webhook is not null")
    return routes_from_rows([(row["route_to"], row["webhook"], row["format"]) for row in rows], environ)
