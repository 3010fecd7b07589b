"""Alerts from ``marts.alerts`` to the teams' webhooks.

``routes`` (which webhook each team's alerts go to), ``messages`` (the JSON body in the
webhook's format), ``senders`` (the HTTP POST with retries), ``delivery`` (once-only delivery
over ``ops.alert_deliveries``) and ``assets`` (the Dagster asset that runs it).
"""
