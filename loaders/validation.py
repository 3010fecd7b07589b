"""Record validation and normalization for the raw layer (pure functions, no I/O).

Each validator takes one parsed JSON value (or, for surveys, a CSV row dict) and returns either
a normalized raw record or a :class:`Rejected` with a quarantine reason code from the shared spec:

``invalid_json``, ``not_an_object``, ``missing_id``, ``bad_timestamp:<field>``,
``out_of_range:<field>``, ``wrong_type:<field>``, plus two loader-level codes that the parsers in
``loaders/sources.py`` use for damage below the record level: ``malformed_csv_row`` (a CSV row
with more or fewer cells than the header) and ``unreadable_file`` (a truncated or corrupt gzip).

Normalization is deliberately light, because renaming and typing belong to dbt staging:

* vendor field names are kept, unknown fields are kept (schema drift is not fatal);
* ids and other text fields become ``str`` (``10023`` -> ``"10023"``; ids are also stripped);
* timestamp fields stay text exactly as received (epoch ints become digit strings), but must
  parse with :func:`loaders.timestamps.parse_vendor_timestamp`; empty strings become null;
* scores and counts become ``int`` (digit strings are accepted, as CSV exports carry them);
* ``_voc_updated_at`` (UTC datetime) is added: the record's version time, used by the merge:
  ``updated_at`` (reviews: ``modified_at``; social: a later crawl's ``updated_at``), falling
  back to the creation time.

Field paths in reason codes use dots for nesting (``wrong_type:respondent.phone``,
``bad_timestamp:messages.at``); score fields use their leaf name (``out_of_range:nps``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Callable, Mapping

from loaders.timestamps import parse_vendor_timestamp

VERSION_COLUMN = "_voc_updated_at"
_INT64_MAX = 2**63 - 1
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")


class Kind(Enum):
    """How a known vendor field is checked and which raw column type it gets."""

    TEXT = "text"  # ids, names, free text: stored as text
    TIMESTAMP = "timestamp"  # stored as text as received, must parse
    INTEGER = "integer"  # counts: bigint
    SCORE = "score"  # bounded integer: bigint
    BOOLEAN = "boolean"
    OBJECT = "object"  # nested dict, flattened by dlt into parent__child columns
    LIST = "list"  # list of dicts, becomes a dlt child table


@dataclass(frozen=True)
class FieldSpec:
    """One known vendor field. ``children`` describe OBJECT members or LIST item members."""

    name: str
    kind: Kind = Kind.TEXT
    children: tuple["FieldSpec", ...] = ()
    low: int | None = None
    high: int | None = None


@dataclass(frozen=True)
class RecordSpec:
    """Known shape of one raw table's records.

    ``version_fields`` are tried in order to find the version time (``updated_at`` first, then
    the creation time). When ``version_required`` is set and none of them has a value, the
    record is rejected as ``bad_timestamp:<first version field>``.
    """

    table: str
    id_field: str
    fields: tuple[FieldSpec, ...]
    version_fields: tuple[str, ...]
    version_required: bool = True
    extra_primary_key: tuple[str, ...] = field(default=())
    # Top-level fields kept for every version in `<table>_history` (the main table keeps only the
    # newest version); e.g. ticket status, so that a reopened ticket can be recognised.
    history_fields: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        timestamps = {f.name for f in self.fields if f.kind is Kind.TIMESTAMP}
        if not set(self.version_fields) <= timestamps:
            raise ValueError(f"{self.table}: version fields must be declared timestamp fields")

    @property
    def primary_key(self) -> tuple[str, ...]:
        return (self.id_field, *self.extra_primary_key)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that goes to quarantine: the reason code and the record id when one was found."""

    reason: str
    record_id: str | None = None


def _text(name: str) -> FieldSpec:
    return FieldSpec(name, Kind.TEXT)


def _ts(name: str) -> FieldSpec:
    return FieldSpec(name, Kind.TIMESTAMP)


SURVEY_SPEC = RecordSpec(
    table="surveys",
    id_field="response_id",
    fields=(
        _text("survey_id"),
        _text("survey_name"),
        _ts("submitted_at"),
        _ts("updated_at"),
        _text("channel"),
        FieldSpec(
            "respondent",
            Kind.OBJECT,
            (_text("member_id"), _text("phone"), _text("unionid"), _text("email")),
        ),
        FieldSpec(
            "answers",
            Kind.OBJECT,
            (
                FieldSpec("nps", Kind.SCORE, low=0, high=10),
                FieldSpec("csat", Kind.SCORE, low=1, high=5),
                FieldSpec("ces", Kind.SCORE, low=1, high=7),
                _text("comment"),
            ),
        ),
        _text("store_id"),
        _text("product_sku"),
        _text("order_id"),
    ),
    version_fields=("updated_at", "submitted_at"),
)

TICKET_SPEC = RecordSpec(
    table="tickets",
    id_field="ticket_id",
    fields=(
        _ts("created_at"),
        _ts("updated_at"),
        _text("channel"),
        _text("status"),
        _text("priority"),
        _text("category"),
        FieldSpec(
            "requester",
            Kind.OBJECT,
            (_text("name"), _text("phone"), _text("email"), _text("member_id")),
        ),
        _text("assignee_team"),
        _text("assignee"),
        _text("store_id"),
        _text("product_sku"),
        _text("subject"),
        FieldSpec("messages", Kind.LIST, (_ts("at"), _text("author_role"), _text("body"))),
        _ts("first_response_at"),
        _ts("solved_at"),
        _text("satisfaction_rating"),
    ),
    version_fields=("updated_at", "created_at"),
    history_fields=("status", "updated_at", "solved_at", "assignee_team"),
)

REVIEW_SPEC = RecordSpec(
    table="reviews",
    id_field="review_id",
    fields=(
        _text("platform"),
        _text("shop_id"),
        _text("product_sku"),
        _text("order_id"),
        _text("buyer_nick"),
        _text("buyer_open_id"),
        FieldSpec("rating", Kind.SCORE, low=1, high=5),
        _text("content"),
        _ts("created_at"),
        _ts("modified_at"),
        _text("append_content"),
        _ts("append_at"),
        FieldSpec("has_images", Kind.BOOLEAN),
        _text("seller_reply"),
    ),
    version_fields=("modified_at", "created_at"),
)

SOCIAL_SPEC = RecordSpec(
    table="social",
    id_field="post_id",
    fields=(
        _text("platform"),
        FieldSpec(
            "author",
            Kind.OBJECT,
            (
                _text("uid"),
                _text("nickname"),
                FieldSpec("followers", Kind.INTEGER),
                FieldSpec("verified", Kind.BOOLEAN),
            ),
        ),
        _text("text"),
        _ts("published_at"),
        _text("url"),
        FieldSpec("likes", Kind.INTEGER),
        FieldSpec("comments", Kind.INTEGER),
        FieldSpec("reposts", Kind.INTEGER),
        FieldSpec("is_repost", Kind.BOOLEAN),
        # not in the vendor sample, but a later crawl of a post carries its crawl time here
        _ts("updated_at"),
    ),
    version_fields=("updated_at", "published_at"),
)

MEMBER_SPEC = RecordSpec(
    table="members",
    id_field="member_id",
    fields=(
        _text("name"),
        _text("phone"),
        _text("email"),
        _text("unionid"),
        _text("tier"),
        _text("city"),
        _text("home_store_id"),
        _ts("registered_at"),
        _ts("updated_at"),
        FieldSpec("bound_accounts", Kind.LIST, (_text("platform"), _text("account_id"))),
        FieldSpec("consent_analytics", Kind.BOOLEAN),
    ),
    version_fields=("updated_at", "registered_at"),
    # every version is a row: identifier history must be kept, so the version is in the key
    extra_primary_key=(VERSION_COLUMN,),
)

STORE_SPEC = RecordSpec(
    table="stores",
    id_field="store_id",
    fields=(_text("store_name"), _text("city"), _text("region"), _ts("opened_at")),
    version_fields=("opened_at",),
    version_required=False,  # reference rows carry no update time; the file is the version
)

PRODUCT_SPEC = RecordSpec(
    table="products",
    id_field="product_sku",
    fields=(_text("product_name"), _text("category"), _text("product_line"), _ts("launched_at")),
    version_fields=("launched_at",),
    version_required=False,
)

RECORD_SPECS: dict[str, RecordSpec] = {
    spec.table: spec
    for spec in (
        SURVEY_SPEC,
        TICKET_SPEC,
        REVIEW_SPEC,
        SOCIAL_SPEC,
        MEMBER_SPEC,
        STORE_SPEC,
        PRODUCT_SPEC,
    )
}


class _FieldProblem(Exception):
    """Internal: aborts validation of one record with a reason code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def validate_record(spec: RecordSpec, value: Any) -> dict[str, Any] | Rejected:
    """Validate one parsed JSON value against ``spec``; see the module docstring for the rules.

    The input is not modified. Checks run in field order and the first problem wins.
    """
    if not isinstance(value, dict):
        return Rejected("not_an_object")
    raw_id = value.get(spec.id_field)
    record_id = _id_text(raw_id)
    if record_id is None:
        if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
            return Rejected("missing_id")
        return Rejected(f"wrong_type:{spec.id_field}")
    record = dict(value)
    record[spec.id_field] = record_id
    try:
        for field_spec in spec.fields:
            if field_spec.name in record:
                record[field_spec.name] = _normalize_field(field_spec, record[field_spec.name], "")
        version = _version_time(spec, record)
    except _FieldProblem as problem:
        return Rejected(problem.reason, record_id)
    record[VERSION_COLUMN] = version
    return record


def _id_text(value: Any) -> str | None:
    """Ids are text; an int id is fine, anything else (bool, float, dict) is not an id."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _normalize_field(spec: FieldSpec, value: Any, prefix: str) -> Any:
    path = f"{prefix}{spec.name}"
    if value is None:
        return None
    if spec.kind is Kind.TEXT:
        return _as_text(value, path)
    if spec.kind is Kind.TIMESTAMP:
        return _as_timestamp_text(value, path)
    if spec.kind is Kind.SCORE:
        number = _as_integer(value, spec.name)
        if number is None:
            return None
        if not spec.low <= number <= spec.high:
            raise _FieldProblem(f"out_of_range:{spec.name}")
        return number
    if spec.kind is Kind.INTEGER:
        return _as_integer(value, path)
    if spec.kind is Kind.BOOLEAN:
        if isinstance(value, bool):
            return value
        raise _FieldProblem(f"wrong_type:{path}")
    if spec.kind is Kind.OBJECT:
        if not isinstance(value, dict):
            raise _FieldProblem(f"wrong_type:{path}")
        return _normalize_members(spec.children, value, f"{path}.")
    if spec.kind is Kind.LIST:
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise _FieldProblem(f"wrong_type:{path}")
        return [_normalize_members(spec.children, item, f"{path}.") for item in value]
    raise AssertionError(f"unhandled kind {spec.kind}")  # pragma: no cover


def _normalize_members(children: tuple[FieldSpec, ...], value: dict, prefix: str) -> dict:
    normalized = dict(value)
    for child in children:
        if child.name in normalized:
            normalized[child.name] = _normalize_field(child, normalized[child.name], prefix)
    return normalized


def _as_text(value: Any, path: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise _FieldProblem(f"wrong_type:{path}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        # a phone exported as a JSON number: keep the digits, not "13800138000.0"
        return str(int(value)) if value.is_integer() else repr(value)
    raise _FieldProblem(f"wrong_type:{path}")


def _as_timestamp_text(value: Any, path: str) -> str | None:
    if isinstance(value, str) and not value.strip():
        return None
    try:
        parse_vendor_timestamp(value)
    except ValueError:
        raise _FieldProblem(f"bad_timestamp:{path}") from None
    return value if isinstance(value, str) else str(value)


def _as_integer(value: Any, path: str) -> int | None:
    if isinstance(value, bool):
        raise _FieldProblem(f"wrong_type:{path}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if not _INTEGER_TEXT.fullmatch(text):
            raise _FieldProblem(f"wrong_type:{path}")
        number = int(text)
    else:
        raise _FieldProblem(f"wrong_type:{path}")
    if abs(number) > _INT64_MAX:
        raise _FieldProblem(f"out_of_range:{path}")
    return number


def _version_time(spec: RecordSpec, record: Mapping[str, Any]) -> datetime | None:
    for name in spec.version_fields:
        value = record.get(name)
        if value is not None:
            # already checked by _normalize_field, so this cannot raise
            return parse_vendor_timestamp(value)
    if spec.version_required:
        raise _FieldProblem(f"bad_timestamp:{spec.version_fields[0]}")
    return None


# --- CSV surveys -----------------------------------------------------------------------------

SURVEY_CSV_COLUMNS = (
    "response_id",
    "survey_id",
    "survey_name",
    "submitted_at",
    "updated_at",
    "channel",
    "member_id",
    "phone",
    "unionid",
    "email",
    "nps",
    "csat",
    "ces",
    "comment",
    "store_id",
    "product_sku",
    "order_id",
)
_CSV_NESTING = {
    "member_id": "respondent",
    "phone": "respondent",
    "unionid": "respondent",
    "email": "respondent",
    "nps": "answers",
    "csat": "answers",
    "ces": "answers",
    "comment": "answers",
}


def survey_csv_row_to_json_shape(row: Mapping[str, Any]) -> dict[str, Any]:
    """Restructure a flat CSV survey row into the JSON export shape.

    ``member_id, phone, unionid, email`` go under ``respondent``, ``nps, csat, ces, comment``
    under ``answers``; every other column (unknown ones too) stays top-level. Header names are
    stripped of whitespace and empty strings become null, as CSV cannot express null.
    """
    shaped: dict[str, Any] = {"respondent": {}, "answers": {}}
    for raw_name, raw_value in row.items():
        name = str(raw_name).strip()
        value = None if raw_value is None or raw_value == "" else raw_value
        parent = _CSV_NESTING.get(name)
        if parent is None:
            shaped[name] = value
        else:
            shaped[parent][name] = value
    return shaped


def validate_survey(value: Any) -> dict[str, Any] | Rejected:
    """Validate one survey response (JSON export shape)."""
    return validate_record(SURVEY_SPEC, value)


def validate_survey_csv_row(row: Mapping[str, Any]) -> dict[str, Any] | Rejected:
    """Validate one CSV survey row: restructure it to the JSON shape, then validate."""
    return validate_record(SURVEY_SPEC, survey_csv_row_to_json_shape(row))


def validate_ticket(value: Any) -> dict[str, Any] | Rejected:
    """Validate one helpdesk ticket (with its messages)."""
    return validate_record(TICKET_SPEC, value)


def validate_review(value: Any) -> dict[str, Any] | Rejected:
    """Validate one e-commerce / app-store review."""
    return validate_record(REVIEW_SPEC, value)


def validate_social_post(value: Any) -> dict[str, Any] | Rejected:
    """Validate one social-listening post."""
    return validate_record(SOCIAL_SPEC, value)


def validate_member(value: Any) -> dict[str, Any] | Rejected:
    """Validate one CRM member version."""
    return validate_record(MEMBER_SPEC, value)


def validate_store(value: Any) -> dict[str, Any] | Rejected:
    """Validate one reference store row."""
    return validate_record(STORE_SPEC, value)


def validate_product(value: Any) -> dict[str, Any] | Rejected:
    """Validate one reference product row."""
    return validate_record(PRODUCT_SPEC, value)


VALIDATORS: dict[str, Callable[[Any], "dict[str, Any] | Rejected"]] = {
    "surveys": validate_survey,
    "tickets": validate_ticket,
    "reviews": validate_review,
    "social": validate_social_post,
    "members": validate_member,
    "stores": validate_store,
    "products": validate_product,
}
"""Validator per raw table name."""
