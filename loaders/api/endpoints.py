"""The five vendor APIs of the source contract, described for dlt's ``RESTClient``.

Each endpoint names its path, where the records sit in the response, which dlt paginator walks
it, and how the incremental cursor is sent and advanced:

==========  ==========================================  ==============================  =========
family      request                                     paging                          cursor
==========  ==========================================  ==============================  =========
surveys     GET /api/v1/responses?updated_since&page    page number, ``total_pages``    timestamp
tickets     GET /api/v2/incremental/tickets?start_time  ``after_cursor`` until          export
            then ?cursor=<after_cursor>                 ``end_of_stream``               cursor
reviews     GET /router/rest?method=reviews.list        ``page_no``, ``total_results``  timestamp
            &page_no&page_size&start_modified           (records, not pages)
social      GET /v1/mentions?limit&cursor               ``next_cursor`` until null      feed
                                                                                        position
members     GET /api/members?updated_since&page         page number, ``total_pages``    timestamp
==========  ==========================================  ==============================  =========

Cursor styles:

* ``timestamp``: the newest version time seen among the valid records; sent back as
  ``updated_since`` / ``start_modified``. The filter is inclusive, so records at exactly the
  cursor time are fetched again and merged away: a record written in the same second as the last
  one seen cannot be skipped.
* ``export cursor`` (tickets): the ``after_cursor`` of the last page; the next run starts from it.
* ``feed position`` (social): the feed's cursors are opaque and the last page ends with
  ``next_cursor: null``, so the next run re-requests the cursor that fetched the last page: that
  page comes again (merged away) followed by everything posted since.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Callable, Iterable, Optional
from urllib.parse import parse_qs, urlsplit

from dlt.sources.helpers.rest_client.paginators import (
    BasePaginator,
    JSONResponseCursorPaginator,
    PageNumberPaginator,
)
from requests import Request, Response

from loaders.contracts.spec import VERSION_COLUMN
from loaders.timestamps import parse_vendor_timestamp


class CursorStyle(Enum):
    TIMESTAMP = "timestamp"
    EXPORT_CURSOR = "export_cursor"
    FEED_POSITION = "feed_position"


class TotalResultsPaginator(PageNumberPaginator):
    """Page numbers for an API that reports the number of records, not of pages.

    The reviews API answers ``{"total_results": N, "reviews": [...]}``. The walk ends once N
    records have arrived or a page comes back empty. Counting records rather than computing
    ``ceil(N / page_size)`` matters: vendors cap ``page_size`` silently, and a smaller page
    than asked for would otherwise end the walk early.
    """

    def __init__(self, page_size: int, page_param: str = "page_no", total_key: str = "total_results"):
        super().__init__(base_page=1, page_param=page_param, total_path=total_key)
        self.page_size = page_size
        self.total_key = total_key
        self.records_seen = 0

    def init_request(self, request: Request) -> None:
        self.records_seen = 0
        super().init_request(request)

    def update_state(self, response: Response, data: Optional[list[Any]] = None) -> None:
        answer = response.json()
        total_results = answer.get(self.total_key)
        if total_results is None:
            self._handle_missing_total(answer)
        try:
            total = int(total_results)
        except (TypeError, ValueError):
            self._handle_invalid_total(total_results)
        self.records_seen += len(data or [])
        self.current_value += 1
        self._has_next_page = bool(data) and self.records_seen < total


class IncrementalExportPaginator(JSONResponseCursorPaginator):
    """Helpdesk incremental export: follow ``after_cursor`` until ``end_of_stream`` is true.

    The first request carries ``start_time``; every later one carries only ``cursor`` (the API
    rejects both together), so ``start_time`` is dropped once a cursor is known.
    """

    def __init__(self) -> None:
        super().__init__(cursor_path="after_cursor", cursor_param="cursor")

    def update_state(self, response: Response, data: Optional[list[Any]] = None) -> None:
        super().update_state(response, data)
        if response.json().get("end_of_stream") is True:
            self._has_next_page = False

    def update_request(self, request: Request) -> None:
        super().update_request(request)
        if request.params:
            request.params.pop("start_time", None)


@dataclass(frozen=True)
class ApiEndpoint:
    """One vendor API as the loader walks it."""

    family: str
    path: str
    data_selector: str
    cursor_style: CursorStyle
    make_paginator: Callable[[int], BasePaginator]
    cursor_param: str
    page_size_param: str | None = None
    fixed_params: dict[str, str] = field(default_factory=dict)

    def first_params(self, cursor: str | None, page_size: int) -> dict[str, Any]:
        """Query parameters of the first request of a run that resumes from ``cursor``."""
        params: dict[str, Any] = dict(self.fixed_params)
        if self.page_size_param:
            params[self.page_size_param] = page_size
        if cursor is not None:
            params[self.cursor_param] = cursor
        elif self.cursor_style is CursorStyle.EXPORT_CURSOR:
            # the export's first page needs a start time; 0 means "from the beginning"
            params["start_time"] = 0
        return params


ENDPOINTS: dict[str, ApiEndpoint] = {
    "surveys": ApiEndpoint(
        family="surveys",
        path="api/v1/responses",
        data_selector="data",
        cursor_style=CursorStyle.TIMESTAMP,
        make_paginator=lambda _size: PageNumberPaginator(
            base_page=1, page_param="page", total_path="total_pages"
        ),
        cursor_param="updated_since",
        page_size_param="page_size",
    ),
    "tickets": ApiEndpoint(
        family="tickets",
        path="api/v2/incremental/tickets",
        data_selector="tickets",
        cursor_style=CursorStyle.EXPORT_CURSOR,
        make_paginator=lambda _size: IncrementalExportPaginator(),
        cursor_param="cursor",
    ),
    "reviews": ApiEndpoint(
        family="reviews",
        path="router/rest",
        data_selector="reviews",
        cursor_style=CursorStyle.TIMESTAMP,
        make_paginator=TotalResultsPaginator,
        cursor_param="start_modified",
        page_size_param="page_size",
        fixed_params={"method": "reviews.list"},
    ),
    "social": ApiEndpoint(
        family="social",
        path="v1/mentions",
        data_selector="items",
        cursor_style=CursorStyle.FEED_POSITION,
        make_paginator=lambda _size: JSONResponseCursorPaginator(
            cursor_path="next_cursor", cursor_param="cursor"
        ),
        cursor_param="cursor",
        page_size_param="limit",
    ),
    "members": ApiEndpoint(
        family="members",
        path="api/members",
        data_selector="data",
        cursor_style=CursorStyle.TIMESTAMP,
        make_paginator=lambda _size: PageNumberPaginator(
            base_page=1, page_param="page", total_path="total_pages"
        ),
        cursor_param="updated_since",
    ),
}


def query_param(url: str, name: str) -> str | None:
    """The first value of query parameter ``name`` in ``url``, or None."""
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0] if values else None


def newest_version(records: Iterable[dict[str, Any]]) -> datetime | None:
    """The newest ``_voc_updated_at`` among validated records (None when there are none)."""
    versions = [r[VERSION_COLUMN] for r in records if r.get(VERSION_COLUMN) is not None]
    return max(versions) if versions else None


def advance_cursor(
    style: CursorStyle, cursor: str | None, response: Response, valid_records: list[dict]
) -> str | None:
    """The cursor after one more page: see the module docstring for the three styles.

    Pure apart from reading the response; the caller saves the result only once every page of
    the run was fetched, so a run that fails midway leaves the saved cursor where it was.
    """
    if style is CursorStyle.TIMESTAMP:
        newest = newest_version(valid_records)
        if newest is None:
            return cursor
        if cursor is not None and parse_vendor_timestamp(cursor) >= newest:
            return cursor
        return newest.isoformat()
    if style is CursorStyle.EXPORT_CURSOR:
        return response.json().get("after_cursor") or cursor
    if style is CursorStyle.FEED_POSITION:
        return query_param(response.url, "cursor") or cursor
    raise AssertionError(f"unhandled cursor style {style}")  # pragma: no cover
