"""POST a message to a webhook and say what the outcome proves.

Chat robots (WeCom, DingTalk) cannot de-duplicate, so a POST is retried only when its outcome
proves nothing was delivered:

* ``NOT_DELIVERED``: the connection was never made (refused, unreachable, DNS, TLS handshake,
  connect timeout), HTTP 429, or a robot's rate-limit ``errcode`` in a 200 answer. Retried
  within the pass (``DeliveryPolicy.max_attempts``), else left pending for the next run.
* ``REJECTED``: the receiver answered and refused the message (another 4xx, another non-zero
  ``errcode``, a redirect). Nothing was delivered; not retried within the pass.
* ``UNKNOWN``: the request may have arrived (read timeout, connection dropped after sending,
  5xx, a broken answer). A robot's alert is never retried automatically; a JSON webhook, which
  gets the ``alert_id`` as ``Idempotency-Key``, is.
* ``DELIVERED``.

There are no HTTP-client-level retries: each ``Poster.post`` is one plain POST on a fresh
connection (``Connection: close``, no redirects) with explicit connect / read timeouts. Retries,
the per-host circuit breaker and the pass deadline are ``Poster.deliver``'s.

Error texts come from ``loaders.api.safe_errors``: host, status, exception type and a fixed
reason; never the URL's path or query, a header or the receiver's body.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from loaders.api.safe_errors import describe_http_failure, install_log_redaction, safe_host
from orchestration.alerts.policy import DeliveryPolicy

DELIVERED = "delivered"
NOT_DELIVERED = "not_delivered"
REJECTED = "rejected"
UNKNOWN = "unknown"
NOT_ATTEMPTED = "not_attempted"  # breaker open or deadline reached before the POST

ROBOT_FORMATS = ("wecom", "dingtalk")
# errcodes in a 200 answer that mean "too many messages, nothing posted"
RATE_LIMIT_ERRCODES = {
    "wecom": {45009, 45033},  # api freq out of limit; api concurrent out of limit
    "dingtalk": {130101, 660026, 90002, 90030},  # send too fast; rate limits; webhook over limit
}


@dataclass(frozen=True)
class SendResult:
    """The outcome of one delivery (all its POSTs): see the module doc for ``outcome``."""

    outcome: str
    http_status: int | None = None
    error: str | None = None
    attempts: int = 1
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == DELIVERED


def robot_errcode(body: bytes) -> int | None:
    """The robot's non-zero ``errcode`` in a 200 answer, else None."""
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if not isinstance(answer, dict) or answer.get("errcode") in (None, 0, "0"):
        return None
    try:
        return int(answer["errcode"])
    except (TypeError, ValueError):
        return -1


def _connection_never_made(exc: BaseException) -> bool:
    """True when requests failed before a byte of the request left (so nothing was delivered)."""
    import requests
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError)):
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def classify_exception(url: str, exc: BaseException, read_timeout: float) -> SendResult:
    import requests

    if _connection_never_made(exc):
        return SendResult(NOT_DELIVERED, None, describe_http_failure(url, exc, reason="no connection, nothing sent"))
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)):
        return SendResult(REJECTED, None, describe_http_failure(url, exc, reason="unusable URL, nothing sent"))
    if isinstance(exc, requests.exceptions.ReadTimeout):
        reason = f"no answer within {read_timeout:g} s; the receiver may have it"
    else:
        reason = "connection lost after sending; the receiver may have it"
    return SendResult(UNKNOWN, None, describe_http_failure(url, exc, reason=reason))


def classify_response(url: str, message_format: str, status: int, body: bytes, headers: Mapping[str, str]) -> SendResult:
    if status == 429:
        return SendResult(NOT_DELIVERED, status, describe_http_failure(url, status=status, reason="rate limited"), retry_after=_retry_after(headers))
    if 300 <= status < 500:
        return SendResult(REJECTED, status, describe_http_failure(url, status=status, reason="refused"))
    if status >= 500:
        return SendResult(UNKNOWN, status, describe_http_failure(url, status=status, reason="server error; the receiver may have it"))
    if status < 200:
        return SendResult(UNKNOWN, status, describe_http_failure(url, status=status))
    if message_format in ROBOT_FORMATS:
        code = robot_errcode(body)
        if code is not None and code in RATE_LIMIT_ERRCODES.get(message_format, set()):
            return SendResult(NOT_DELIVERED, status, describe_http_failure(url, status=status, reason=f"errcode {code}: rate limited"))
        if code is not None:
            return SendResult(REJECTED, status, describe_http_failure(url, status=status, reason=f"errcode {code}: refused by the robot"))
    return SendResult(DELIVERED, status)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    try:
        return max(float(headers.get("Retry-After", "")), 0.0)
    except ValueError:
        return None


def retry_allowed(result: SendResult, message_format: str) -> bool:
    """May this outcome be posted again within the pass?"""
    if result.outcome == NOT_DELIVERED:
        return True
    # a JSON webhook de-duplicates on the Idempotency-Key header: an unknown outcome may be retried
    return result.outcome == UNKNOWN and message_format not in ROBOT_FORMATS


class Poster:
    """POSTs for one delivery pass: per-host circuit breaker and one deadline for the whole pass.

    ``clock`` / ``sleep`` are injectable for tests.
    """

    def __init__(
        self,
        policy: DeliveryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import requests

        self.policy = policy or DeliveryPolicy()
        self._clock = clock
        self._sleep = sleep
        self._deadline = clock() + self.policy.deadline_seconds
        self._session = requests.Session()  # its adapter does no retries of its own
        install_log_redaction()  # urllib3 logs each request line, query included, at DEBUG
        self._consecutive_failures: dict[str, int] = {}
        self.skipped_hosts: set[str] = set()  # breaker open for the rest of the pass
        self.deadline_reached = False

    def remaining(self) -> float:
        return self._deadline - self._clock()

    def can_try(self, url: str) -> str | None:
        """None when a POST to ``url`` may start now, else why not (breaker open or deadline)."""
        host = safe_host(url)
        if host in self.skipped_hosts:
            return f"host {host} skipped for this run after {self.policy.host_failure_limit} consecutive failures"
        if self.remaining() <= 0.05:
            self.deadline_reached = True
            return f"delivery deadline of {self.policy.deadline_seconds:g} s reached"
        return None

    def post(self, url: str, payload: Mapping[str, Any], message_format: str, idempotency_key: str | None = None) -> SendResult:
        """One POST, its timeouts cut to what is left of the deadline; no redirects, no retries."""
        import requests

        remaining = max(self.remaining(), 0.05)
        connect = min(self.policy.connect_timeout_seconds, remaining)
        read = min(self.policy.read_timeout_seconds, remaining)
        headers = {"Connection": "close"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = self._session.post(url, json=payload, headers=headers, timeout=(connect, read), allow_redirects=False)
        except requests.exceptions.RequestException as exc:
            result = classify_exception(url, exc, read)
        else:
            result = classify_response(url, message_format, response.status_code, response.content, response.headers)
            response.close()
        self._record(url, result)
        return result

    def _record(self, url: str, result: SendResult) -> None:
        host = safe_host(url)
        # the breaker counts a host that does not answer (or answers 5xx); an answer below 500,
        # a 429 or a robot's rate limit included, shows the host is up (rate limits are per robot)
        if result.http_status is not None and result.http_status < 500:
            self._consecutive_failures[host] = 0
            return
        failures = self._consecutive_failures.get(host, 0) + 1
        self._consecutive_failures[host] = failures
        if failures >= self.policy.host_failure_limit:
            self.skipped_hosts.add(host)

    def deliver(self, url: str, payload: Mapping[str, Any], message_format: str, idempotency_key: str | None = None) -> SendResult:
        """POST once, and again only where ``retry_allowed`` (with backoff), while the host's
        breaker is closed and the deadline not reached. Never called when ``can_try`` refuses."""
        attempts = 0
        while True:
            result = self.post(url, payload, message_format, idempotency_key)
            attempts += 1
            if not retry_allowed(result, message_format) or attempts >= self.policy.max_attempts:
                break
            wait = result.retry_after if result.retry_after is not None else self.policy.backoff_seconds * 2 ** (attempts - 1)
            if self.can_try(url) is not None or wait >= self.remaining() - 0.05:
                break
            self._sleep(wait)
        return SendResult(result.outcome, result.http_status, result.error, attempts, result.retry_after)
