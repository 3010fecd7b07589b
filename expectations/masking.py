"""Mask sample values before they leave the warehouse (check metadata, HTML report).

Failing rows are shown to whoever opens the Dagster UI, so they get the same masking as the
marts: ``nlp_udfs.pii.mask_pii`` for phones, e-mails, ID and bank cards, landlines, addresses
and names, plus UnionIDs, which free-text masking leaves alone because they are not in customer
prose but in id columns. A value that is a JSON object or array (a raw payload) is masked like a
quarantine sample, by an allow-list of keys (``nlp_udfs.pii.mask_payload``).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from nlp_udfs.pii import mask_payload, mask_pii

UNIONID = re.compile(r"(?<![0-9A-Za-z_-])o[0-9A-Za-z_-]{27}(?![0-9A-Za-z_-])")
MAX_SAMPLE_TEXT = 160
"""Long payloads are cut: a sample shows which row failed, not the whole record."""


def mask_unionids(text: str) -> str:
    """A UnionID keeps its first and last four characters, the 20 between become ``*``."""
    return UNIONID.sub(lambda match: match.group(0)[:4] + "*" * 20 + match.group(0)[-4:], text)


def mask_text(text: str) -> str:
    """Personal data in a text value masked, then cut to :data:`MAX_SAMPLE_TEXT` characters."""
    stripped = text.strip()
    if stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]"):
        masked = mask_unionids(mask_payload(stripped))
    else:
        masked = mask_unionids(mask_pii(text))
    if len(masked) > MAX_SAMPLE_TEXT:
        masked = masked[: MAX_SAMPLE_TEXT - 1] + "…"
    return masked


def mask_value(value: Any) -> Any:
    """A JSON-friendly, masked version of one sample cell."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [mask_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): mask_value(item) for key, item in value.items()}
    return mask_text(str(value))


def mask_row(row: dict[str, Any]) -> dict[str, Any]:
    """Every cell of a sample row masked."""
    return {str(column): mask_value(value) for column, value in row.items()}
