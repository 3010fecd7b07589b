"""Alerts from ``marts.alerts`` to the teams' webhooks.

``routes`` (which webhook each team's alerts go to), ``messages`` (the JSON body in the
webhook's format), ``senders`` (one POST and what its outcome proves; retries only where safe,
per-host circuit breaker, deadline), ``policy`` (their budgets), ``delivery`` (the statuses in
``ops.alert_deliveries`` and the ``voc alerts`` operations) and ``assets`` (the Dagster asset).
"""
