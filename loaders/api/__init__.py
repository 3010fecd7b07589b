"""Vendor REST API loaders (api mode) for surveys, tickets, reviews, social and members.

``source_for_family`` picks the landing folder or the vendor API per family from the run's
``ApiConfig`` (``VOC_<SOURCE>_MODE``, read by ``orchestration.settings``); see ``loaders.api.config``,
``loaders.api.endpoints`` for the five APIs and their cursors, ``loaders.api.sources`` for how
pages become raw, quarantine and load-log rows.
"""

from loaders.api.config import (
    API_FAMILIES,
    ApiConfig,
    ApiConfigError,
    ApiSourceConfig,
    HttpRetrySettings,
)
from loaders.api.select import (
    describe_source_choice,
    load_family_from_api,
    source_for_family,
)
from loaders.api.sources import ApiPageError, api_source, find_api_page_error

__all__ = [
    "API_FAMILIES",
    "ApiConfig",
    "ApiConfigError",
    "ApiPageError",
    "ApiSourceConfig",
    "HttpRetrySettings",
    "api_source",
    "describe_source_choice",
    "find_api_page_error",
    "load_family_from_api",
    "source_for_family",
]
