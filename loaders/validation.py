"""Record validation and normalization for the raw layer (pure functions, no I/O).

The engine: :func:`validate_record` checks one parsed JSON value (or, for surveys, a CSV row
dict via :func:`validate_survey_csv_row`) against a record spec of ``loaders.contracts`` and
returns either a normalized raw record or a :class:`Rejected` with a quarantine reason code from
the shared spec:

``invalid_json``, ``not_an_object``, ``missing_id``, ``bad_timestamp:<field>``,
``out_of_range:<field>``, ``wrong_type:<field>``, plus three loader-level codes that the file
readers (``loaders.files``) produce for damage below the record level: ``malformed_csv_row`` (a
CSV row with more or fewer cells than the header), ``invalid_utf8`` (a CSV row or JSONL line
with bytes that are not UTF-8) and ``unreadable_file`` (a truncated or corrupt gzip).

Normalization is deliberately light, because renaming and most typing belong to dbt staging:

* vendor field names are kept, unknown fields are kept (schema drift is not fatal);
* ids and other text fields become ``str`` (``10023`` -> ``"10023"``; ids are also stripped);
* timestamp fields become timezone-aware UTC datetimes, parsed by
  :func:`loaders.timestamps.parse_vendor_timestamp`, the one parser of vendor times (naive and
  date-only values are Asia/Shanghai local time); empty strings become null, values that do not
  parse reject the record (``bad_timestamp:<field>``). Staging only selects them;
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
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from loaders.contracts.spec import VERSION_COLUMN, FieldSpec, Kind, RecordSpec
from loaders.contracts.surveys import SURVEY_SPEC, survey_csv_row_to_json_shape
from loaders.timestamps import parse_vendor_timestamp

_INT64_MAX = 2**63 - 1
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that goes to quarantine: the reason code and the record id when one was found."""

    reason: str
    record_id: str | None = None


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
        return _as_timestamp(value, path)
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


def _as_timestamp(value: Any, path: str) -> datetime | None:
    if isinstance(value, str) and not value.strip():
        return None
    try:
        return parse_vendor_timestamp(value)
    except ValueError:
        raise _FieldProblem(f"bad_timestamp:{path}") from None


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
            # already parsed to a UTC datetime by _normalize_field
            return value
    if spec.version_required:
        raise _FieldProblem(f"bad_timestamp:{spec.version_fields[0]}")
    return None


def validate_survey_csv_row(row: Mapping[str, Any]) -> dict[str, Any] | Rejected:
    """Validate one CSV survey row: restructure it to the JSON shape, then validate."""
    return validate_record(SURVEY_SPEC, survey_csv_row_to_json_shape(row))
