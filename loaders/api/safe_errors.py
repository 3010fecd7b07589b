"""Describe an HTTP failure without its secrets: the host, the status, the exception type.

Webhook URLs carry their secret in the query (``?key=`` of a WeCom robot, ``?access_token=`` of
a DingTalk robot) or in the path (``/hooks/<token>``), and vendor APIs take a bearer token in a
header. ``requests`` and dlt put the full URL into their exception messages ("... for url:
https://host/path?key=..."), and a receiver's answer may echo the request. So an error text that
reaches a log, a warehouse table, a Dagster event or an outgoing message is built here from
parts that hold no secret: the host (and port), the HTTP status, the exception's type, and a
fixed reason. Nothing of the URL's path, query, user info, of a header or of a body is kept.

``redact_urls`` and ``redact_secrets`` clean free text that came from elsewhere (a Dagster step
error) before it is logged or posted; ``install_log_redaction`` does the same to what the HTTP
libraries themselves log (urllib3 logs every request line with its query at DEBUG).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

_URL = re.compile(r"""(?i)\b[a-z][a-z0-9+.-]*://[^\s'"<>()\[\]{}]+""")


def safe_host(url: str | None) -> str:
    """``host`` or ``host:port`` of ``url``, without user info, path or query; ``?`` if unknown."""
    if not url:
        return "?"
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = parts.port
    except ValueError:
        return "?"
    return f"{host}:{port}" if port else host


def safe_origin(url: str | None) -> str:
    """``scheme://host[:port]`` of ``url``, with ``/…`` when it has a path or query."""
    if not url:
        return "?"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "?"
    rest = "/…" if parts.path.strip("/") or parts.query or parts.fragment else ""
    return f"{parts.scheme or 'http'}://{safe_host(url)}{rest}"


def describe_http_failure(
    url: str | None,
    exc: BaseException | None = None,
    status: int | None = None,
    reason: str | None = None,
) -> str:
    """``host example.com: HTTP 500`` / ``host example.com: ReadTimeout`` and an optional fixed
    ``reason`` (text made by the caller, never a server's answer or an exception's message)."""
    parts = [f"host {safe_host(url)}:"]
    if status is not None:
        parts.append(f"HTTP {status}")
    if exc is not None:
        parts.append(type(exc).__name__)
    if reason:
        parts.append(f"({redact_urls(reason)})")
    if status is None and exc is None and not reason:
        parts.append("failed")
    return " ".join(parts)


# a path with a query on its own, as requests writes it: "Max retries exceeded with url: /send?key=..."
_PATH_WITH_QUERY = re.compile(r"""(?<![\w/.:])/[^\s'"<>?]*\?[^\s'"<>)]+""")


def redact_urls(text: str) -> str:
    """``text`` with every URL cut to ``scheme://host[:port]/…`` and every bare path with a
    query (``/send?key=...``) to ``/…``."""
    return _PATH_WITH_QUERY.sub("/…", _URL.sub(lambda match: safe_origin(match.group(0)), text))


def redact_secrets(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with URLs cut to their host and each secret replaced by ``***``; of a secret
    that is a URL, its token-like path and query pieces (8+ characters with a digit, or 20+)
    are replaced too."""
    pieces: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        pieces.add(secret)
        if "://" in secret:
            try:
                parts = urlsplit(secret)
            except ValueError:
                continue
            pieces.update(
                piece
                for piece in re.split(r"[/?&=#;]+", f"{parts.path}?{parts.query}")
                if len(piece) >= 20 or (len(piece) >= 8 and any(c.isdigit() for c in piece))
            )
            if parts.password:
                pieces.add(parts.password)
    text = redact_urls(text)
    for piece in sorted(pieces, key=len, reverse=True):
        text = text.replace(piece, "***")
    return text


_REQUEST_LINE = re.compile(r'"([A-Z]+) (/[^" ]*) (HTTP/[0-9.]+)"')
_AUTH_VALUE = re.compile(r"""(?i)(authorization['"]?\s*[:=]\s*['"]?)(bearer\s+|basic\s+|token\s+)?[^'",}\s]+""")
# the HTTP libraries that log URLs: urllib3 logs each request line (path and query) at DEBUG, dlt
# logs each request's URL (DEBUG: with its headers)
HTTP_LOGGERS = ("urllib3.connectionpool", "dlt")


class RedactingFilter(logging.Filter):
    """Rewrites a record of an HTTP library so that it names hosts only: URLs cut to their host,
    request lines to their method, ``Authorization`` values to ``***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is dropped rather than leaked
            return False
        message = _REQUEST_LINE.sub(r'"\1 /… \3"', redact_urls(message))
        record.msg, record.args = _AUTH_VALUE.sub(r"\1\2***", message), ()
        return True


def install_log_redaction() -> None:
    """Put a ``RedactingFilter`` on the HTTP libraries' loggers (once per process)."""
    for name in HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
