"""Which sources load from a vendor API, where that API is, and how hard to retry it.

Plain values: ``orchestration.settings`` reads them from the environment when a run starts
(never at import), so one deployment can switch a source between the landing folder and the
vendor API without a code change:

* ``VOC_<SOURCE>_MODE``      ``file`` (default) or ``api``
* ``VOC_<SOURCE>_BASE_URL``  the vendor's base URL, required in api mode
* ``VOC_<SOURCE>_TOKEN``     the bearer token (optional: some test servers need none)

``SOURCE`` is ``SURVEYS``, ``TICKETS``, ``REVIEWS``, ``SOCIAL`` or ``MEMBERS``. The HTTP retry
behaviour is shared by all sources: ``VOC_API_TIMEOUT_SECONDS``, ``VOC_API_MAX_ATTEMPTS``,
``VOC_API_BACKOFF_SECONDS`` and ``VOC_API_MAX_RETRY_DELAY_SECONDS``.

The token is kept out of ``repr`` and every message built here, so logging a config is safe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from loaders.api.safe_errors import safe_origin
from loaders.families import API_FAMILIES  # noqa: F401 - re-exported

FILE_MODE = "file"
API_MODE = "api"
DEFAULT_PAGE_SIZE = 100


class ApiConfigError(ValueError):
    """The settings ask for api mode but do not say enough to reach the API."""


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
        # scheme, host and port only: a base URL may carry a key in its path or query
        return f"{self.family}: vendor API at {safe_origin(self.base_url)} ({token_note})"


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


@dataclass(frozen=True)
class ApiConfig:
    """The API side of one run: the families in api mode (with their API), the HTTP retries,
    and the retries of a load step whose vendor page kept failing (the vendor may be down for
    longer than the per-request retries cover). The default: every family from its folder."""

    sources: Mapping[str, ApiSourceConfig] = field(default_factory=lambda: MappingProxyType({}))
    http: HttpRetrySettings = field(default_factory=HttpRetrySettings)
    step_retries: int = 2
    step_retry_seconds: int = 60

    def mode(self, family: str) -> str:
        """``api`` when ``family`` loads from its vendor API in this run, else ``file``."""
        return API_MODE if family in self.sources else FILE_MODE
