"""Which sources load from a vendor API, where that API is, and how hard to retry it.

Everything is read from the environment when a run starts (never at import), so one deployment
can switch a source between the landing folder and the vendor API without a code change:

* ``VOC_<SOURCE>_MODE``      ``file`` (default) or ``api``
* ``VOC_<SOURCE>_BASE_URL``  the vendor's base URL, required in api mode
* ``VOC_<SOURCE>_TOKEN``     the bearer token (optional: some test servers need none)

``SOURCE`` is ``SURVEYS``, ``TICKETS``, ``REVIEWS``, ``SOCIAL`` or ``MEMBERS``. The HTTP retry
behaviour is shared by all sources: ``VOC_API_TIMEOUT_SECONDS``, ``VOC_API_MAX_ATTEMPTS``,
``VOC_API_BACKOFF_SECONDS`` and ``VOC_API_MAX_RETRY_DELAY_SECONDS``.

The token is kept out of ``repr`` and every message built here, so logging a config is safe.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

API_FAMILIES = ("surveys", "tickets", "reviews", "social", "members")
"""Source families that have a vendor API (reference data is only ever a file export)."""

FILE_MODE = "file"
API_MODE = "api"
DEFAULT_PAGE_SIZE = 100


class ApiConfigError(ValueError):
    """The environment asks for api mode but does not say enough to reach the API."""


def env_prefix(family: str) -> str:
    """``VOC_SURVEYS`` for ``surveys``: the prefix of the family's environment variables."""
    return f"VOC_{family.upper()}"


def source_mode(family: str, environ: Mapping[str, str] | None = None) -> str:
    """``file`` or ``api`` for ``family``, from ``VOC_<SOURCE>_MODE`` (default ``file``)."""
    environ = os.environ if environ is None else environ
    if family not in API_FAMILIES:
        return FILE_MODE
    value = environ.get(f"{env_prefix(family)}_MODE", "").strip().lower() or FILE_MODE
    if value not in (FILE_MODE, API_MODE):
        raise ApiConfigError(
            f"{env_prefix(family)}_MODE must be '{FILE_MODE}' or '{API_MODE}', got {value!r}"
        )
    return value


@dataclass(frozen=True)
class ApiSourceConfig:
    """Where one family's vendor API lives. ``token`` never shows in ``repr``."""

    family: str
    base_url: str
    token: str | None = field(default=None, repr=False)
    page_size: int = DEFAULT_PAGE_SIZE

    def describe(self) -> str:
        """A log line that says where the data comes from and whether a token is set."""
        token_note = "bearer token set" if self.token else "no token"
        return f"{self.family}: vendor API at {self.base_url} ({token_note})"


def api_source_config(family: str, environ: Mapping[str, str] | None = None) -> ApiSourceConfig:
    """Read the family's API settings; raises ``ApiConfigError`` when the base URL is missing."""
    environ = os.environ if environ is None else environ
    if family not in API_FAMILIES:
        raise ApiConfigError(f"{family!r} has no vendor API; api families are {API_FAMILIES}")
    prefix = env_prefix(family)
    base_url = environ.get(f"{prefix}_BASE_URL", "").strip()
    if not base_url:
        raise ApiConfigError(f"{prefix}_MODE is 'api' but {prefix}_BASE_URL is not set")
    if not base_url.startswith(("http://", "https://")):
        raise ApiConfigError(f"{prefix}_BASE_URL must start with http:// or https://")
    token = environ.get(f"{prefix}_TOKEN", "").strip() or None
    page_size = _positive_int(environ, f"{prefix}_PAGE_SIZE", DEFAULT_PAGE_SIZE)
    return ApiSourceConfig(family, base_url.rstrip("/"), token, page_size)


@dataclass(frozen=True)
class HttpRetrySettings:
    """Timeout and retry budget of every API request (dlt's requests ``Client`` applies them).

    ``backoff_seconds`` is the multiplier of the exponential wait between attempts; a
    ``Retry-After`` header on a 429 or 503 replaces that wait (capped at ``max_retry_delay``).
    """

    timeout_seconds: float = 30.0
    max_attempts: int = 6
    backoff_seconds: float = 1.0
    max_retry_delay_seconds: float = 120.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "HttpRetrySettings":
        environ = os.environ if environ is None else environ
        default = cls()
        return cls(
            timeout_seconds=_positive_float(
                environ, "VOC_API_TIMEOUT_SECONDS", default.timeout_seconds
            ),
            max_attempts=_positive_int(environ, "VOC_API_MAX_ATTEMPTS", default.max_attempts),
            backoff_seconds=_positive_float(
                environ, "VOC_API_BACKOFF_SECONDS", default.backoff_seconds
            ),
            max_retry_delay_seconds=_positive_float(
                environ, "VOC_API_MAX_RETRY_DELAY_SECONDS", default.max_retry_delay_seconds
            ),
        )


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiConfigError(f"{name} must be a positive integer, got {text!r}") from None
    if value < 1:
        raise ApiConfigError(f"{name} must be a positive integer, got {text!r}")
    return value


def _positive_float(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ApiConfigError(f"{name} must be a positive number, got {text!r}") from None
    if not value > 0:
        raise ApiConfigError(f"{name} must be a positive number, got {text!r}")
    return value
