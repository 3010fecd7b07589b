"""How hard alert delivery tries: timeouts, attempts, the per-host circuit breaker, the deadline.

Plain values with no imports of the project: ``orchestration.settings`` builds them from the
``VOC_ALERT_*`` variables (see the README's settings table).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class DeliveryPolicy:
    """Budgets of one delivery pass (one run of ``ops/alert_deliveries``).

    * ``connect_timeout_seconds`` / ``read_timeout_seconds``: per POST (requests' two timeouts).
    * ``max_attempts``: POSTs per alert and pass, where a retry is allowed at all (an outcome
      that proves nothing was delivered; for JSON webhooks, any failure but a refusal).
    * ``host_failure_limit``: consecutive failed POSTs to one host after which the pass stops
      trying that host (the circuit breaker); its alerts stay pending for the next run.
    * ``deadline_seconds``: the whole pass; after it, the remaining alerts stay pending.
    * ``sending_stale_seconds``: a ``sending`` row older than this was interrupted (the process
      died between recording it and recording the answer) and becomes ``unknown``.
    """

    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 10.0
    max_attempts: int = 3
    backoff_seconds: float = 1.0
    host_failure_limit: int = 3
    deadline_seconds: float = 30.0
    sending_stale_seconds: float = 600.0
