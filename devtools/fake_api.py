"""A fake of the five vendor APIs, for tests and demos (``voc fake-api``).

It serves the records of a landing folder (for example one written by
``devtools.demo.api.generate``) through the APIs of the source contract, on 127.0.0.1 only:

* every line of every landing file is one record of the vendor's store, in file order; a line
  that is not a JSON object (broken JSON, a malformed CSV row) is served as a JSON string, so it
  reaches the loader and its quarantine like the line did in file mode;
* ``updated_since`` / ``start_modified`` / ``start_time`` filter on the record's version time
  (the first parsable of its version fields), inclusively; records without one are served only
  to requests without a filter;
* the tickets export and the social feed walk an append-only change log with opaque cursors;
* ``VendorStore.update_records`` (or ``POST /_fake/update?family=tickets&count=5`` on a running
  server) appends a newer version of some records ("records updated between runs").

Switches (``FakeVendorApi`` arguments, ``Fault`` rules): page sizes, a bearer token to require,
a 429 with ``Retry-After`` every n-th request, and per (family, page) faults: ``429``, ``500``,
``timeout`` (answer only after ``stall_seconds``), ``hang`` (answer only when released or
stopped) and ``malformed`` (three broken records added to the page). Every request is logged in
``FakeVendorApi.requests`` with the record ids it served, so tests can count what was fetched.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import parse_qs, urlsplit

from loaders.contracts import FAMILY_SPECS, RecordSpec
from loaders.contracts.surveys import survey_csv_row_to_json_shape
from loaders.families import API_FAMILIES
from loaders.files.readers import (
    discover_files,
    is_csv_name,
    is_jsonl_name,
    read_csv_rows,
    read_jsonl_lines,
)
from loaders.timestamps import parse_vendor_timestamp

LOOPBACK = "127.0.0.1"
DEFAULT_SERVER_PAGE_SIZE = 50
_JSON_TYPES = (dict, list, str, int, float, bool, type(None))


def _spec(family: str) -> RecordSpec:
    (spec,) = FAMILY_SPECS[family]
    return spec


def version_time(family: str, value: Any) -> datetime | None:
    """The version time the vendor filters on: the first parsable version field, else None."""
    if not isinstance(value, dict):
        return None
    for name in _spec(family).version_fields:
        raw = value.get(name)
        if raw is None:
            continue
        try:
            return parse_vendor_timestamp(raw)
        except ValueError:
            return None
    return None


def record_id(family: str, value: Any) -> str | None:
    """The record's id as text, when it has one."""
    if not isinstance(value, dict):
        return None
    raw = value.get(_spec(family).id_field)
    return None if raw is None or isinstance(raw, (dict, list, bool)) else str(raw).strip() or None


@dataclass(frozen=True)
class Entry:
    """One record version in the vendor's store; ``seq`` orders the change log."""

    seq: int
    value: Any
    record_id: str | None
    version: datetime | None


def landing_records(landing_dir: Path, family: str) -> Iterable[Any]:
    """The family's landing records in file-mode order, as the vendor would serve them."""
    accept = (lambda n: is_jsonl_name(n) or is_csv_name(n)) if family == "surveys" else is_jsonl_name
    for path in discover_files(Path(landing_dir) / family, accept, root=Path(landing_dir)):
        csv_file = is_csv_name(path.name)
        for line in read_csv_rows(path) if csv_file else read_jsonl_lines(path):
            if not isinstance(line.value, _JSON_TYPES):  # broken JSON or a malformed CSV row
                yield line.raw
            elif csv_file:
                yield survey_csv_row_to_json_shape(line.value)
            else:
                yield line.value


class VendorStore:
    """The records of the five fake vendors: an append-only log of versions per family."""

    def __init__(self) -> None:
        self._entries: dict[str, list[Entry]] = {family: [] for family in API_FAMILIES}
        self._seq = 0
        self._lock = threading.Lock()

    @classmethod
    def from_landing(cls, landing_dir: str | Path) -> "VendorStore":
        store = cls()
        for family in API_FAMILIES:
            for value in landing_records(Path(landing_dir), family):
                store.append(family, value)
        return store

    def append(self, family: str, value: Any) -> Entry:
        with self._lock:
            self._seq += 1
            entry = Entry(self._seq, value, record_id(family, value), version_time(family, value))
            self._entries[family].append(entry)
            return entry

    def entries(self, family: str) -> list[Entry]:
        with self._lock:
            return list(self._entries[family])

    def update_records(self, family: str, count: int, at: datetime) -> list[str]:
        """Append a version stamped ``at`` of the first ``count`` records that have a version.

        Returns the updated ids. Only the version field changes, so the update is easy to see.
        """
        field_name = _spec(family).version_fields[0]
        newest: dict[str, Entry] = {}
        for entry in self.entries(family):
            if entry.record_id is not None and entry.version is not None:
                newest[entry.record_id] = entry
        updated = []
        for rid, entry in list(newest.items())[:count]:
            value = json.loads(json.dumps(entry.value))
            value[field_name] = at.isoformat()
            self.append(family, value)
            updated.append(rid)
        return updated


@dataclass
class Fault:
    """Make page ``page`` (1-based, in the order the vendor pages the request) of ``family``
    misbehave ``times`` times (None: every time). ``kind``: 429, 500, timeout, hang, malformed."""

    family: str
    page: int
    kind: str
    times: int | None = 1

    KINDS = ("429", "500", "timeout", "hang", "malformed")

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise ValueError(f"fault kind must be one of {self.KINDS}, got {self.kind!r}")

    @classmethod
    def parse(cls, text: str) -> "Fault":
        """``family:page:kind[:times]``, e.g. ``tickets:2:500:3`` (times ``always`` = None)."""
        parts = text.split(":")
        if len(parts) not in (3, 4):
            raise ValueError(f"fault {text!r} is not family:page:kind[:times]")
        times: int | None = 1
        if len(parts) == 4:
            times = None if parts[3] == "always" else int(parts[3])
        return cls(parts[0], int(parts[1]), parts[2], times)


@dataclass(frozen=True)
class ServedRequest:
    """One request as the fake vendor saw it."""

    family: str | None
    params: dict[str, str]
    status: int
    page: int | None
    record_ids: tuple[str | None, ...] = ()
    fault: str | None = None
    authorized: bool = True
    at: float = field(default_factory=time.monotonic)


def malformed_records(family: str, page: int) -> list[Any]:
    """Three records no loader may accept: no id, an unparsable version time, not an object."""
    spec = _spec(family)
    return [
        {"note": "record without its id"},
        {spec.id_field: f"BAD-{family}-{page}", spec.version_fields[0]: "not a time"},
        f"<<page {page} of {family}: not a JSON object>>",
    ]


def _encode_cursor(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, sort_keys=True).encode()).decode()


def _decode_cursor(text: str) -> dict[str, Any]:
    try:
        return json.loads(base64.urlsafe_b64decode(text.encode()))
    except (ValueError, TypeError):
        raise _BadRequest(f"invalid cursor {text!r}") from None


class _BadRequest(Exception):
    pass


def _int_param(params: dict[str, str], name: str, default: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise _BadRequest(f"{name} must be an integer") from None


def _since_param(params: dict[str, str], name: str) -> datetime | None:
    text = params.get(name)
    if not text:
        return None
    try:
        return parse_vendor_timestamp(text)
    except ValueError:
        raise _BadRequest(f"{name} is not a timestamp") from None


def _after(entries: list[Entry], since: datetime | None) -> list[Entry]:
    if since is None:
        return entries
    return [e for e in entries if e.version is not None and e.version >= since]


@dataclass
class _Page:
    family: str
    number: int
    body: dict[str, Any]
    items_key: str

    @property
    def items(self) -> list[Any]:
        return self.body[self.items_key]


class FakeVendorApi:
    """The fake vendor server; use as a context manager or ``start()`` / ``stop()``."""

    ROUTES = {
        "/api/v1/responses": "surveys",
        "/api/v2/incremental/tickets": "tickets",
        "/router/rest": "reviews",
        "/v1/mentions": "social",
        "/api/members": "members",
    }

    def __init__(
        self,
        store: VendorStore,
        *,
        token: str | None = None,
        page_sizes: dict[str, int] | None = None,
        faults: Iterable[Fault] = (),
        rate_limit_every: int = 0,
        retry_after_seconds: int = 1,
        stall_seconds: float = 3.0,
        port: int = 0,
    ) -> None:
        self.store = store
        self.token = token
        self.page_sizes = {family: DEFAULT_SERVER_PAGE_SIZE for family in API_FAMILIES}
        self.page_sizes.update(page_sizes or {})
        self.faults: list[Fault] = list(faults)
        self.rate_limit_every = rate_limit_every
        self.retry_after_seconds = retry_after_seconds
        self.stall_seconds = stall_seconds
        self.requests: list[ServedRequest] = []
        self._count = 0
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer((LOOPBACK, port), _Handler)
        self._server.daemon_threads = True
        self._server.app = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    # --- lifecycle ---

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeVendorApi":
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-vendor-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeVendorApi":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def release_hangs(self) -> None:
        """Let requests stuck on a ``hang`` fault answer (503)."""
        self._release.set()

    def env(self, families: Iterable[str] = API_FAMILIES) -> dict[str, str]:
        """The ``VOC_<SOURCE>_*`` variables that point the loaders at this server."""
        env: dict[str, str] = {}
        for family in families:
            prefix = f"VOC_{family.upper()}"
            env[f"{prefix}_MODE"] = "api"
            env[f"{prefix}_BASE_URL"] = self.base_url
            if self.token:
                env[f"{prefix}_TOKEN"] = self.token
        return env

    # --- what the tests read ---

    def served(self, family: str) -> list[ServedRequest]:
        """Requests of ``family`` answered 200 in time (a ``timeout`` answer comes after the
        client gave up, so it does not count as served)."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.family == family and r.status == 200 and r.fault != "timeout"
            ]

    def served_ids(self, family: str) -> list[str | None]:
        return [rid for r in self.served(family) for rid in r.record_ids]

    # --- request handling ---

    def respond(self, path: str, params: dict[str, str], authorization: str | None) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for one GET request."""
        family = self.ROUTES.get(path)
        with self._lock:
            self._count += 1
            count = self._count
        if self.token is not None and authorization != f"Bearer {self.token}":
            return self._log(family, params, 401, None, fault=None, authorized=False), {}, b'{"error": "unauthorized"}'
        if family is None:
            return self._log(None, params, 404, None), {}, b'{"error": "not found"}'
        if self.rate_limit_every and count % self.rate_limit_every == 0:
            return self._rate_limited(family, params, None)
        try:
            page = self._page(family, params)
        except _BadRequest as exc:
            body = json.dumps({"error": str(exc)}).encode()
            return self._log(family, params, 400, None), {}, body
        fault = self._take_fault(family, page.number)
        if fault == "429":
            return self._rate_limited(family, params, page.number)
        if fault == "500":
            return self._log(family, params, 500, page.number, fault), {}, b'{"error": "internal"}'
        if fault == "hang":
            # logged on arrival, so a test can see the client is stuck here
            self._log(family, params, 503, page.number, fault)
            while not self._release.wait(0.05):
                pass
            return 503, {}, b'{"error": "released"}'
        if fault == "timeout":
            time.sleep(self.stall_seconds)
        if fault == "malformed":
            page.items.extend(malformed_records(family, page.number))
        ids = tuple(record_id(family, item) for item in page.items)
        self._log(family, params, 200, page.number, fault, record_ids=ids)
        return 200, {"Content-Type": "application/json"}, json.dumps(page.body, ensure_ascii=False).encode()

    def _rate_limited(self, family: str, params: dict[str, str], page: int | None):
        headers = {"Retry-After": str(self.retry_after_seconds)}
        return self._log(family, params, 429, page, "429"), headers, b'{"error": "rate limited"}'

    def _log(self, family, params, status, page, fault=None, record_ids=(), authorized=True) -> int:
        with self._lock:
            self.requests.append(ServedRequest(family, dict(params), status, page, record_ids, fault, authorized))
        return status

    def _take_fault(self, family: str, page: int) -> str | None:
        with self._lock:
            for fault in self.faults:
                if fault.family == family and fault.page == page and fault.times != 0:
                    if fault.times is not None:
                        fault.times -= 1
                    return fault.kind
        return None

    def _page(self, family: str, params: dict[str, str]) -> _Page:
        entries = self.store.entries(family)
        size = self.page_sizes[family]
        if family == "surveys":
            size = min(_int_param(params, "page_size", size), size)
            return self._numbered(family, _after(entries, _since_param(params, "updated_since")), params, "page", size, "data")
        if family == "members":
            return self._numbered(family, _after(entries, _since_param(params, "updated_since")), params, "page", size, "data")
        if family == "reviews":
            if params.get("method") != "reviews.list":
                raise _BadRequest("unknown method")
            size = min(_int_param(params, "page_size", size), size)
            selected = _after(entries, _since_param(params, "start_modified"))
            number = _int_param(params, "page_no", 1)
            items = [e.value for e in selected[(number - 1) * size : number * size]]
            return _Page(family, number, {"total_results": len(selected), "reviews": items}, "reviews")
        if family == "tickets":
            return self._export(entries, params, size)
        return self._feed(entries, params, min(_int_param(params, "limit", size), size))

    @staticmethod
    def _numbered(family, selected, params, page_param, size, key) -> _Page:
        number = _int_param(params, page_param, 1)
        if number < 1:
            raise _BadRequest(f"{page_param} starts at 1")
        items = [e.value for e in selected[(number - 1) * size : number * size]]
        total_pages = math.ceil(len(selected) / size)
        return _Page(family, number, {key: items, "page": number, "total_pages": total_pages}, key)

    @staticmethod
    def _export(entries: list[Entry], params: dict[str, str], size: int) -> _Page:
        if "cursor" in params and "start_time" in params:
            raise _BadRequest("send either start_time or cursor")
        if "cursor" in params:
            position = _decode_cursor(params["cursor"])
            after, start = int(position["after"]), int(position["start"])
        else:
            after, start = 0, _int_param(params, "start_time", 0)
        since = datetime.fromtimestamp(start, timezone.utc) if start > 0 else None
        selected = _after(entries, since)
        before = [e for e in selected if e.seq <= after]
        rest = [e for e in selected if e.seq > after]
        chunk = rest[:size]
        last = chunk[-1].seq if chunk else after
        body = {
            "tickets": [e.value for e in chunk],
            "after_cursor": _encode_cursor({"after": last, "start": start}),
            "end_of_stream": len(rest) <= size,
        }
        return _Page("tickets", len(before) // size + 1, body, "tickets")

    @staticmethod
    def _feed(entries: list[Entry], params: dict[str, str], size: int) -> _Page:
        after = int(_decode_cursor(params["cursor"])["after"]) if params.get("cursor") else 0
        before = [e for e in entries if e.seq <= after]
        rest = [e for e in entries if e.seq > after]
        chunk = rest[:size]
        more = len(rest) > size
        body = {
            "items": [e.value for e in chunk],
            "next_cursor": _encode_cursor({"after": chunk[-1].seq}) if more else None,
        }
        return _Page("social", len(before) // size + 1, body, "items")


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        parts = urlsplit(self.path)
        params = {name: values[0] for name, values in parse_qs(parts.query).items()}
        app: FakeVendorApi = self.server.app  # type: ignore[attr-defined]
        status, headers, body = app.respond(parts.path, params, self.headers.get("Authorization"))
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout fault): nothing to answer

    def do_POST(self) -> None:  # noqa: N802
        """``POST /_fake/update?family=tickets&count=5``: newer versions of some records, now."""
        parts = urlsplit(self.path)
        params = {name: values[0] for name, values in parse_qs(parts.query).items()}
        app: FakeVendorApi = self.server.app  # type: ignore[attr-defined]
        family = params.get("family")
        if parts.path != "/_fake/update" or family not in API_FAMILIES:
            status, body = 404, {"error": "POST /_fake/update?family=<family>&count=<n>"}
        else:
            count = int(params.get("count", "1"))
            updated = app.store.update_records(family, count, datetime.now(timezone.utc))
            status, body = 200, {"family": family, "updated": updated}
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # the request log is FakeVendorApi.requests
