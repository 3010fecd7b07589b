"""POST a message to a webhook, retrying 429 / 5xx / connection errors.

Robot webhooks answer HTTP 200 with ``{"errcode": n}``; a non-zero errcode is a failure too.
"""

import json
from dataclasses import dataclass
from typing import Any, Callable


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
