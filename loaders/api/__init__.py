"""Vendor REST API loaders (api mode) for surveys, tickets, reviews, social and members.

``source_for_family`` picks the landing folder or the vendor API per family from
``VOC_<SOURCE>_MODE`` at run time; see ``loaders.api.config`` for the environment variables,
``loaders.api.endpoints`` for the five APIs and their cursors, ``loaders.api.sources`` for how
pages become raw, quarantine and load-log rows.
"""

from loaders.api.config import (
    API_FAMILIES,
    ApiConfigError,
    ApiSourceConfig,
    HttpRetrySettings,
    api_source_config,
    source_mode,
)
from loaders.api.select import (
    describe_source_choice,
    load_family_from_api,
    source_for_family,
    step_retry_budget,
)
from loaders.api.sources import ApiPageError, api_source, find_api_page_error

__all__ = [
    "API_FAMILIES",
    "ApiConfigError",
    "ApiPageError",
    "ApiSourceConfig",
    "HttpRetrySettings",
    "api_source",
    "api_source_config",
    "describe_source_choice",
    "find_api_page_error",
    "load_family_from_api",
    "source_for_family",
    "source_mode",
    "step_retry_budget",
]
