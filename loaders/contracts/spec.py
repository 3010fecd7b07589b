"""The vocabulary the record contracts are written in: field kinds, field specs, record specs.

A :class:`RecordSpec` is the known shape of one raw table's records; the per-family modules of
``loaders.contracts`` declare one each, ``loaders.validation`` checks records against them and
``loaders.hints`` derives the raw table's dlt column hints from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

VERSION_COLUMN = "_voc_updated_at"
"""The record's version time (UTC), added by validation and used by the merge."""


class Kind(Enum):
    """How a known vendor field is checked and which raw column type it gets."""

    TEXT = "text"  # ids, names, free text: stored as text
    TIMESTAMP = "timestamp"  # parsed by loaders.timestamps, stored as a UTC timestamptz
    INTEGER = "integer"  # counts: bigint
    SCORE = "score"  # bounded integer: bigint
    BOOLEAN = "boolean"
    OBJECT = "object"  # nested dict, flattened by dlt into parent__child columns
    LIST = "list"  # list of dicts, becomes a dlt child table


class Personal(Enum):
    """What personal data a text field holds; ``loaders.privacy`` protects it before storage."""

    PHONE = "phone"  # a mainland mobile: pseudonym of the normalized number
    EMAIL = "email"  # pseudonym of the normalized address
    UNIONID = "unionid"  # WeChat UnionID: pseudonym of the exact value
    ACCOUNT = "account"  # a platform account id (open id, uid): pseudonym of the exact value
    NAME = "name"  # a person's name: pseudonym
    FREE_TEXT = "free_text"  # what the customer wrote: personal data inside it is masked


@dataclass(frozen=True)
class FieldSpec:
    """One known vendor field. ``children`` describe OBJECT members or LIST item members;
    ``personal`` says what personal data a text field holds."""

    name: str
    kind: Kind = Kind.TEXT
    children: tuple["FieldSpec", ...] = ()
    low: int | None = None
    high: int | None = None
    personal: Personal | None = None


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


def text(name: str) -> FieldSpec:
    """A text field (ids, names, free text)."""
    return FieldSpec(name, Kind.TEXT)


def ts(name: str) -> FieldSpec:
    """A vendor timestamp field."""
    return FieldSpec(name, Kind.TIMESTAMP)


def personal(name: str, kind: Personal) -> FieldSpec:
    """A text field holding personal data of the given kind."""
    return FieldSpec(name, Kind.TEXT, personal=kind)
