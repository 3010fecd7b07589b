"""dlt sources for the vendor APIs (api mode): the same raw tables as the file sources.

An API source for a family has the same source name, resource name, table hints and validation
as the family's file source (``loaders.sources``; the tables are ``loaders.hints``), so api mode
and file mode write the very same ``raw.<table>``, ``raw.<family>_quarantine`` and
``raw.<family>_files`` tables and can be switched freely. Per fetched page:

* valid records go to the raw table with ``_voc_file`` = the page label
  (``api:surveys?updated_since=...&page=3&page_size=100``) and ``_voc_line`` = position on the page,
* rejected records go to the quarantine with the page label as ``file`` (a page fetched again
  replaces its earlier quarantine rows, as a re-read file does),
* one load-log row per page goes to ``<family>_files`` (sha256 and size of the response body,
  records read / loaded / quarantined).

Paging, bearer auth, timeouts and retries are dlt's ``RESTClient`` with its paginators and the
retrying session of ``dlt.sources.helpers.requests.Client`` (429 ``Retry-After`` honoured, 5xx
and connection errors retried with exponential backoff up to a cap). A page that still fails
raises ``ApiPageError`` naming the source and the page; as the extract then fails, dlt discards
the run's state changes and nothing of the run is loaded.

The incremental cursor (see ``loaders.api.endpoints``) lives in the resource's dlt state under
the API's base URL. dlt writes that state into the warehouse in the same load as the records and
restores it from there when the pipeline's working directory is gone, so the cursor advances only
with a committed load, and a fresh run directory resumes instead of reloading everything.
``dlt.sources.incremental`` is not used because two of the five cursors are opaque vendor tokens,
not record columns, and because it silently drops records older than its cursor, which would break
"records read = records loaded + records quarantined".
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any, Iterator
from urllib.parse import urlsplit

import dlt
from dlt.extract.resource import DltResource
from dlt.sources.helpers.requests.retry import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.client import PageData
from dlt.sources.helpers.rest_client.redaction import sanitize_url
from requests import RequestException

from loaders.api.config import ApiSourceConfig, HttpRetrySettings
from loaders.api.endpoints import ENDPOINTS, ApiEndpoint, advance_cursor
from loaders.api.safe_errors import install_log_redaction, redact_urls, safe_host
from loaders.contracts import FAMILY_SPECS, RecordSpec
from loaders.dispatch import TableDispatcher
from loaders.hints import (  # the file loaders' table layout is the contract api mode must match
    HARD_DELETE_COLUMN,
    LOADER_FILE_FORMAT,
    RAW_DATASET,
    disable_timestamp_detection,
    history_rows,
    history_table,
    raw_write_disposition,
    table_hints,
)
from loaders.privacy import RecordGuard, protect_payload, protect_record
from loaders.validation import Rejected, validate_record

STATE_KEY = "api_streams"


class ApiPageError(RuntimeError):
    """A page of a vendor API that kept failing after every retry.

    The message names the host, the status and the exception type only (``safe_errors``): the
    URL's path and query, the bearer token and the server's answer never appear in it, and it
    is raised without the ``requests`` exception behind it (whose message holds the full URL).
    """

    def __init__(self, family: str, page_number: int, url: str | None, reason: str) -> None:
        self.family = family
        self.page_number = page_number
        self.host = safe_host(url) if url else None
        where = f" (host {self.host})" if self.host else ""
        super().__init__(
            f"{family} API: page {page_number} of this run failed after all retries{where}: "
            f"{redact_urls(reason)}. Nothing of this run was committed; the next run resumes "
            "from the last committed cursor."
        )


def make_rest_client(config: ApiSourceConfig, http: HttpRetrySettings) -> RESTClient:
    """dlt's RESTClient on a retrying session, with bearer auth when a token is configured."""
    install_log_redaction()  # urllib3 and dlt log request URLs (path and query) at DEBUG
    session = Client(
        request_timeout=http.timeout_seconds,
        raise_for_status=False,  # RESTClient's response hook raises, inside the retry loop
        request_max_attempts=http.max_attempts,
        request_backoff_factor=http.backoff_seconds,
        request_max_retry_delay=http.max_retry_delay_seconds,
        respect_retry_after_header=True,
    ).session
    auth = BearerTokenAuth(token=config.token) if config.token else None
    return RESTClient(base_url=config.base_url, auth=auth, session=session)


def page_label(family: str, url: str) -> str:
    """``api:<family>?<query as requested>``: the ``file`` of a page in raw, quarantine and log."""
    return f"api:{family}?{urlsplit(sanitize_url(url)).query}"


def _failed_url(exc: BaseException) -> str | None:
    request = getattr(exc, "request", None)
    response = getattr(exc, "response", None)
    return getattr(request, "url", None) or getattr(response, "url", None)


def _failure_reason(exc: RequestException) -> str:
    """``HTTP 500 (HTTPError)`` or ``ReadTimeout``: the status and the exception type only."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    kind = type(exc).__name__
    return f"HTTP {status} ({kind})" if status is not None else kind


def fetch_pages(family: str, pages: Iterator[PageData]) -> Iterator[tuple[int, PageData]]:
    """Number the pages of ``pages``; turn a page that cannot be fetched into ``ApiPageError``.

    The retries already happened inside the session; what arrives here is final. A response that
    is not the JSON the paginator expects is a broken page too.
    """
    number = 0
    while True:
        failure: ApiPageError | None = None
        try:
            page = next(pages)
        except StopIteration:
            return
        except RequestException as exc:
            failure = ApiPageError(family, number + 1, _failed_url(exc), _failure_reason(exc))
        except ValueError as exc:
            failure = ApiPageError(family, number + 1, None, f"response is not the expected JSON ({type(exc).__name__})")
        if failure is not None:
            # raised outside the except block, so the requests exception (whose message holds the
            # full URL with its query) is neither its cause nor its context: dlt's trace keeps both
            raise failure
        number += 1
        yield number, page


def raw_payload(item: Any) -> str:
    """The record as received, for the quarantine (a string item is kept verbatim)."""
    if isinstance(item, str):
        return item
    return json.dumps(item, ensure_ascii=False, default=str)


def split_page(
    items: list[Any], spec: RecordSpec, family: str, label: str, now: datetime, guard: RecordGuard
) -> tuple[list[dict], list[dict]]:
    """Validate and protect (``loaders.privacy``) the records of one page: ``(raw rows, quarantine rows)``.

    ``_voc_line`` / quarantine ``line`` is the 1-based position of the record on the page.
    """
    valid: list[dict] = []
    rejected: list[dict] = []
    for position, item in enumerate(items, start=1):
        result = validate_record(spec, item)
        if isinstance(result, Rejected):
            rejected.append(
                {
                    "source": family,
                    "file": label,
                    "line": position,
                    "record_id": result.record_id,
                    "reason": result.reason,
                    "raw_payload": protect_payload(spec, raw_payload(item), guard),
                    "quarantined_at": now,
                }
            )
            continue
        result = protect_record(spec, result, guard)
        result["_voc_file"] = label
        result["_voc_line"] = position
        valid.append(result)
    return valid, rejected


def page_log_row(
    family: str, label: str, body: bytes, read: int, loaded: int, quarantined: int, now: datetime
) -> dict:
    """The ``<family>_files`` row of one page: records read = loaded + quarantined."""
    return {
        "source": family,
        "file": label,
        "sha256": hashlib.sha256(body).hexdigest(),
        "size_bytes": len(body),
        "records_read": read,
        "records_loaded": loaded,
        "records_quarantined": quarantined,
        "loaded_at": now,
    }


def extract_api_pages(
    endpoint: ApiEndpoint,
    spec: RecordSpec,
    config: ApiSourceConfig,
    client: RESTClient,
    dataset_name: str,
    guard: RecordGuard,
) -> Iterator[Any]:
    """Body of every API resource: yields marked lists for the raw, quarantine and files tables.

    Must run inside a dlt resource (it uses ``dlt.current.resource_state()``).
    """
    family = endpoint.family
    state = dlt.current.resource_state()
    dispatcher = TableDispatcher(table_hints(spec, family, dataset_name))
    quarantine_table, files_table = f"{family}_quarantine", f"{family}_files"

    # same declaration rule as the file resource (they share this state): tables exist even
    # when the API returns nothing
    yield from dispatcher.declare_tables(state)

    streams: dict[str, dict[str, Any]] = state.setdefault(STATE_KEY, {})
    stream_key = f"{config.base_url}/{endpoint.path}"
    cursor = streams.get(stream_key, {}).get("cursor")
    pages = client.paginate(
        endpoint.path,
        params=endpoint.first_params(cursor, config.page_size),
        paginator=endpoint.make_paginator(config.page_size),
        data_selector=endpoint.data_selector,
    )
    page_count = 0
    for page_count, page in fetch_pages(family, pages):  # noqa: B007 - the last count is saved below
        now = datetime.now(timezone.utc)
        label = page_label(family, page.response.url)
        # a page fetched again (a retried run) replaces its earlier quarantine rows
        marker = {"source": family, "file": label, "line": 0, HARD_DELETE_COLUMN: True}
        yield dispatcher.mark(quarantine_table, [marker])
        valid, rejected = split_page(list(page), spec, family, label, now, guard)
        if valid:
            yield dispatcher.mark(spec.table, valid)
            if history_table(spec):
                yield dispatcher.mark(history_table(spec), history_rows(spec, valid))
        if rejected:
            yield dispatcher.mark(quarantine_table, rejected)
        log_row = page_log_row(
            family, label, page.response.content, len(page), len(valid), len(rejected), now
        )
        yield dispatcher.mark(files_table, [log_row])
        cursor = advance_cursor(endpoint.cursor_style, cursor, page.response, valid)
    # saved only after the last page; dlt commits it with this run's load package
    streams[stream_key] = {
        "cursor": cursor,
        "pages_last_run": page_count,
        "finished_at": datetime.now(timezone.utc).isoformat(),
    }


def _api_resource(
    family: str, config: ApiSourceConfig, http: HttpRetrySettings, dataset_name: str, guard: RecordGuard
) -> DltResource:
    """A dlt resource named after the family's raw table that walks the family's vendor API."""
    endpoint = ENDPOINTS[family]
    (spec,) = FAMILY_SPECS[family]

    def read_vendor_api() -> Iterator[Any]:
        client = make_rest_client(config, http)
        yield from extract_api_pages(endpoint, spec, config, client, dataset_name, guard)

    return dlt.resource(
        read_vendor_api,
        name=spec.table,
        primary_key=list(spec.primary_key),
        write_disposition=raw_write_disposition(spec, dataset_name),
        file_format=LOADER_FILE_FORMAT,
    )


def _make_api_source(family: str):
    def vendor_api(config, http, guard, dataset_name=RAW_DATASET):
        # unknown (drifted) fields keep their JSON type, exactly as in file mode
        disable_timestamp_detection()
        return _api_resource(family, config, http, dataset_name, guard)

    vendor_api.__doc__ = f"{family} from the vendor API (see loaders.api.endpoints)."
    return dlt.source(vendor_api, name=family)


API_SOURCES = {family: _make_api_source(family) for family in ENDPOINTS}


def api_source(
    config: ApiSourceConfig,
    guard: RecordGuard,
    http: HttpRetrySettings | None = None,
    dataset_name: str = RAW_DATASET,
) -> Any:
    """The dlt source reading ``config.family`` from its vendor API. Cheap: nothing is fetched
    until the pipeline iterates it."""
    return API_SOURCES[config.family](config, http or HttpRetrySettings(), guard, dataset_name)


def find_api_page_error(exc: BaseException | None) -> ApiPageError | None:
    """The ``ApiPageError`` behind ``exc`` (dlt wraps resource errors in its own exceptions)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, ApiPageError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None
