"""Parse the timestamp formats that vendor exports mix freely.

The source contract allows four shapes for one timestamp field:

* ISO 8601 with an offset   ``2025-06-01T10:23:45+08:00``
* ISO 8601 in UTC           ``2025-06-01T02:23:45Z``
* naive local time          ``2025-06-01 10:23:45`` / ``2025-06-01T10:23:45`` / ``2025-06-01``
  (naive means Asia/Shanghai, the brand's home time zone)
* epoch seconds             ``1748871000`` (a JSON integer, or the same digits as a string,
  which is how CSV exports carry it)

Anything else is rejected with ``ValueError`` so the loader can quarantine the record instead of
guessing. This is the only parser of vendor times: validation stores its result in the raw layer
as UTC ``timestamptz`` and dbt staging only selects it, so file mode, api mode and every model
read a vendor time the same way.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

VENDOR_LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# Strict on purpose: datetime.fromisoformat in 3.11 also accepts week dates and compact forms
# ("2025W011", "20250601") that no vendor sends; accepting them would hide broken exports.
_ISO_PATTERN = re.compile(
    r"""
    (?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})
    (?:
        [T ]
        (?P<hour>\d{2}):(?P<minute>\d{2})
        (?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?
        (?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?
    )?
    """,
    re.VERBOSE,
)
_EPOCH_DIGITS = re.compile(r"[0-9]+")
# The shapes exports send nearly always, narrowed so that datetime.fromisoformat (C, about four
# times cheaper than assembling the match) reads them exactly as _ISO_PATTERN's rules do: whole
# seconds, and an offset of +HH:MM with hours below 24 and minutes below 60. Everything else
# takes the general path.
_COMMON_ISO_PATTERN = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}:\d{2}(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?)?"
)


def parse_vendor_timestamp(value: object) -> datetime:
    """Return ``value`` as a timezone-aware UTC datetime.

    Accepts ISO 8601 with offset or ``Z``, naive ``YYYY-MM-DD[ T]HH:MM[:SS[.ffffff]]`` or
    ``YYYY-MM-DD`` (read as Asia/Shanghai local time), and epoch seconds as a non-negative int
    or a string of ASCII digits. Surrounding whitespace in strings is ignored.

    Raises ``ValueError`` for anything else, including ``bool`` (a JSON ``true`` is not a time),
    floats, negative epochs and out-of-range values.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int):
        return _from_epoch_seconds(value)
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp: {value!r}")
    text = value.strip()
    if _EPOCH_DIGITS.fullmatch(text):
        return _from_epoch_seconds(int(text))
    if _COMMON_ISO_PATTERN.fullmatch(text):
        return _from_common_iso(text, value)
    return parse_iso_timestamp(text, value)


def parse_iso_timestamp(text: str, original: object) -> datetime:
    """The general ISO path of ``parse_vendor_timestamp`` for stripped ``text`` (every shape the
    contract allows, fractions and compact offsets included)."""
    match = _ISO_PATTERN.fullmatch(text)
    if match is None:
        raise ValueError(f"not a timestamp: {original!r}")
    return _from_iso_match(match, original)


def _from_common_iso(text: str, original: object) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:  # month 13, Feb 30, hour 25 ...
        raise ValueError(f"not a timestamp: {original!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=VENDOR_LOCAL_TZ)
    return parsed.astimezone(timezone.utc)


def _from_epoch_seconds(seconds: int) -> datetime:
    if seconds < 0:
        raise ValueError(f"negative epoch seconds: {seconds}")
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError) as exc:
        # epoch milliseconds land here (year > 9999), which is exactly what we want to reject
        raise ValueError(f"epoch seconds out of range: {seconds}") from exc


def _from_iso_match(match: re.Match[str], original: object) -> datetime:
    parts = match.groupdict()
    fraction = (parts["fraction"] or "").ljust(6, "0")[:6]
    try:
        local = datetime(
            int(parts["year"]),
            int(parts["month"]),
            int(parts["day"]),
            int(parts["hour"] or 0),
            int(parts["minute"] or 0),
            int(parts["second"] or 0),
            int(fraction or 0),
        )
    except ValueError as exc:  # month 13, Feb 30, hour 25 ...
        raise ValueError(f"not a timestamp: {original!r}") from exc
    tz_text = parts["tz"]
    if tz_text is None:
        tz = VENDOR_LOCAL_TZ
    else:
        tz = _parse_offset(tz_text, original)
    return local.replace(tzinfo=tz).astimezone(timezone.utc)


def _parse_offset(tz_text: str, original: object) -> timezone:
    if tz_text in ("Z", "z"):
        return timezone.utc
    sign = -1 if tz_text[0] == "-" else 1
    digits = tz_text[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"bad UTC offset in {original!r}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))
