"""Personal data is protected before anything is stored: keyed pseudonyms and masked text.

The landing folder (or the vendor API) is the system of record; the warehouse keeps no raw
phone, email, UnionID, platform account or name. A validated record passes through
:func:`protect_record` on its way to dlt, so neither the raw tables nor dlt's load packages
hold them:

* an identifier field (``Personal.PHONE`` / ``EMAIL`` / ``UNIONID`` / ``ACCOUNT`` / ``NAME`` in
  the record contracts) is normalized the way identity resolution compares it (a mobile to its
  11 digits, an email trimmed and lower-cased) and replaced by its keyed pseudonym: equal
  identifiers still give equal values, so dbt joins customers on pseudonyms exactly as it did
  on the identifiers. A value that is not a valid identifier of its kind (a landline in the
  mobile field, an email without ``@``) identifies nobody and is dropped;
* free text (``Personal.FREE_TEXT``) is masked (``nlp_udfs.pii.mask_pii``), and what it still
  quotes verbatim of the record's identifiers becomes a placeholder (``[ACCOUNT]``, ``[NAME]``);
  other text of the record quoting one (a profile URL holding the account id) gets the pseudonym;
* a quarantined record keeps only what :func:`protect_payload` leaves of it: the known
  non-personal fields in clear, the personal ones protected as above, every unknown field's
  text masked.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any, Callable

from loaders.contracts.spec import FieldSpec, Kind, Personal, RecordSpec
from nlp_udfs.pii import mask_pii
from nlp_udfs.pseudonyms import pseudonym

Pseudonymize = Callable[[str, str], str]
"""``(kind, normalized value) -> pseudonym``, keyed (see ``nlp_udfs.pseudonyms``)."""

_FULL_WIDTH = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)} | {"＋": "+", "＠": "@", "．": "."})
_NOT_DIGIT = re.compile(r"[^0-9]")
_MOBILE = re.compile(r"(?:0086|86)?(1[3-9][0-9]{9})")
# a WeChat open id / UnionID (o + 27 url-safe characters) quoted anywhere, e.g. in a broken line
_WECHAT_ID = re.compile(r"(?<![A-Za-z0-9_-])o[A-Za-z0-9_-]{27}(?![A-Za-z0-9_-])")
# identifiers quoted in a record's own text are replaced only from this length on, so that a
# short account id ("42") never rewrites ordinary words or numbers
_MIN_QUOTED_LENGTH = 5


def normalize_phone(value: str) -> str | None:
    """The 11 digits of a mainland mobile written in any contract format, else None."""
    match = _MOBILE.fullmatch(_NOT_DIGIT.sub("", value.translate(_FULL_WIDTH)))
    return match.group(1) if match else None


def normalize_email(value: str) -> str | None:
    """Trimmed and lower-cased when it has something on both sides of an ``@``, else None."""
    email = value.translate(_FULL_WIDTH).strip().lower()
    local, at, domain = email.partition("@")
    return email if at and local and domain else None


def normalize_exact(value: str) -> str | None:
    """Ids compared exactly (UnionIDs are case-sensitive): trimmed, blank is missing."""
    return value.strip() or None


_PLACEHOLDERS = {
    Personal.PHONE: "[PHONE]",
    Personal.EMAIL: "[EMAIL]",
    Personal.UNIONID: "[ID]",
    Personal.ACCOUNT: "[ACCOUNT]",
    Personal.NAME: "[NAME]",
}

_NORMALIZERS: dict[Personal, Callable[[str], str | None]] = {
    Personal.PHONE: normalize_phone,
    Personal.EMAIL: normalize_email,
    Personal.UNIONID: normalize_exact,
    Personal.ACCOUNT: normalize_exact,
    Personal.NAME: normalize_exact,
}


@dataclass(frozen=True)
class RecordGuard:
    """How one deployment protects records: its keyed pseudonyms and its text masker."""

    pseudonymize: Pseudonymize
    mask: Callable[[str], str] = mask_pii

    def __repr__(self) -> str:  # the pseudonym function closes over the key
        return "RecordGuard(<keyed>)"


def remembering_guard(guard: RecordGuard, maxsize: int = 1 << 18) -> RecordGuard:
    """``guard`` remembering its pseudonyms and masks per distinct value (both are pure): a
    load's identifiers and texts repeat (a member in every version, a stock reply), so each
    distinct value is computed once. At most ``maxsize`` values of each are kept, in memory only.
    """
    return RecordGuard(
        functools.lru_cache(maxsize=maxsize)(guard.pseudonymize),
        functools.lru_cache(maxsize=maxsize)(guard.mask),
    )


def protect_record(spec: RecordSpec, record: dict[str, Any], guard: RecordGuard) -> dict[str, Any]:
    """The validated ``record`` with its personal fields protected (changed in place, returned)."""
    quoted: dict[str, tuple[str, str]] = {}
    texts: list[tuple[dict[str, Any], str]] = []
    _protect_fields(spec.fields, record, guard, quoted, texts)
    for holder, name in texts:
        holder[name] = _protect_text(holder[name], guard, quoted)
    # other text quoting an identifier of the record (a profile URL holding the account id)
    return _requote(record, guard, quoted) if quoted else record


def _protect_fields(
    fields: tuple[FieldSpec, ...],
    holder: dict[str, Any],
    guard: RecordGuard,
    quoted: dict[str, tuple[str, str]],
    texts: list[tuple[dict[str, Any], str]],
) -> None:
    for spec in fields:
        value = holder.get(spec.name)
        if value is None:
            continue
        if spec.kind is Kind.OBJECT and isinstance(value, dict):
            _protect_fields(spec.children, value, guard, quoted, texts)
        elif spec.kind is Kind.LIST and isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    _protect_fields(spec.children, item, guard, quoted, texts)
        elif spec.personal is Personal.FREE_TEXT:
            texts.append((holder, spec.name))
        elif spec.personal is not None:
            holder[spec.name] = _pseudonym(spec.personal, str(value), guard, quoted)


def _pseudonym(kind: Personal, value: str, guard: RecordGuard, quoted: dict[str, tuple[str, str]]) -> str | None:
    normalized = _NORMALIZERS[kind](value)
    if normalized is None:
        return None
    pseudonym = guard.pseudonymize(kind.value, normalized)
    for form in {value.strip(), normalized}:
        if len(form) >= _MIN_QUOTED_LENGTH:
            quoted[form] = (pseudonym, _PLACEHOLDERS[kind])
    return pseudonym


def _protect_text(text: Any, guard: RecordGuard, quoted: dict[str, tuple[str, str]]) -> Any:
    """Customer text: masked, then what it still quotes of the record's identifiers (an account
    id, a name the masker has no cue for) replaced by a placeholder, never by the pseudonym."""
    if not isinstance(text, str):
        return text
    text = guard.mask(text)
    # longest first, so that an email is replaced before its local part could be
    for form in sorted(quoted, key=len, reverse=True):
        if form in text:
            text = text.replace(form, quoted[form][1])
    return _WECHAT_ID.sub("[ID]", text)


def protect_payload(spec: RecordSpec, raw: str, guard: RecordGuard) -> str:
    """What the quarantine keeps of a rejected record: an allow-list, not a deny-list.

    A JSON object keeps the record id and the known non-personal fields of ``spec`` as they
    came (what an operator needs to find the fault), its personal fields protected as in a
    loaded record, and every other value (unknown fields, and anything that is not a JSON
    object) masked as text.
    """
    try:
        value = json.loads(raw)
    except ValueError:
        return _protect_text(raw, guard, {})
    if not isinstance(value, dict):
        return _protect_text(raw, guard, {})
    quoted: dict[str, tuple[str, str]] = {}
    known = (FieldSpec(spec.id_field), *spec.fields)
    kept = _allow_listed(known, value, guard, quoted)
    return json.dumps(_requote(kept, guard, quoted), ensure_ascii=False, default=str)


def _allow_listed(
    fields: tuple[FieldSpec, ...], value: dict[str, Any], guard: RecordGuard, quoted: dict[str, tuple[str, str]]
) -> dict[str, Any]:
    known = {spec.name: spec for spec in fields}
    return {name: _kept(known.get(name), item, guard, quoted) for name, item in value.items()}


def _kept(spec: FieldSpec | None, item: Any, guard: RecordGuard, quoted: dict[str, tuple[str, str]]) -> Any:
    if spec is None or spec.personal is Personal.FREE_TEXT:
        return _masked_value(item, guard)
    if spec.kind is Kind.OBJECT and isinstance(item, dict):
        return _allow_listed(spec.children, item, guard, quoted)
    if spec.kind is Kind.LIST and isinstance(item, list):
        return [
            _allow_listed(spec.children, element, guard, quoted) if isinstance(element, dict) else _masked_value(element, guard)
            for element in item
        ]
    if spec.personal is not None:
        return None if item is None else _pseudonym(spec.personal, str(item), guard, quoted)
    # a known non-personal field: as it came, unless it is a structure where a scalar belongs
    return _masked_value(item, guard) if isinstance(item, (dict, list)) else item


def _masked_value(value: Any, guard: RecordGuard) -> Any:
    """Any JSON value with every string in it masked (numbers too: a phone can be a number)."""
    if isinstance(value, str):
        return _protect_text(value, guard, {})
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return _protect_text(str(value), guard, {})
    if isinstance(value, list):
        return [_masked_value(item, guard) for item in value]
    if isinstance(value, dict):
        return {key: _masked_value(item, guard) for key, item in value.items()}
    return _protect_text(str(value), guard, {})


def _requote(value: Any, guard: RecordGuard, quoted: dict[str, tuple[str, str]]) -> Any:
    """Identifiers of the payload that its other (kept) strings quote verbatim, replaced."""
    if not quoted:
        return value
    # longest first, so that an email is replaced before its local part could be
    return _replace_forms(value, [(form, quoted[form][0]) for form in sorted(quoted, key=len, reverse=True)])


def _replace_forms(value: Any, forms: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for form, replacement in forms:
            if form in value:
                value = value.replace(form, replacement)
        return value
    if isinstance(value, list):
        return [_replace_forms(item, forms) for item in value]
    if isinstance(value, dict):
        return {key: _replace_forms(item, forms) for key, item in value.items()}
    return value


def keyed_pseudonymizer(key: bytes) -> Pseudonymize:
    """``nlp_udfs.pseudonyms.pseudonym`` under ``key``: HMAC-SHA256 of ``<kind>:<value>``, the
    same function dbt's ``voc_pseudonym`` computes."""
    return functools.partial(pseudonym, key)
