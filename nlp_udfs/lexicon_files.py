"""Reading the word lists in ``lexicons/``: one entry a line, fields split on whitespace,
``#`` starts a comment (a whole line, or the rest of a line after whitespace)."""

from __future__ import annotations

import re
from pathlib import Path

LEXICON_DIR = Path(__file__).with_name("lexicons")

_TRAILING_COMMENT = re.compile(r"\s+#")


def read_lexicon_lines(name: str) -> list[list[str]]:
    """Non-comment, non-empty lines of ``lexicons/<name>``, split on whitespace."""
    rows = []
    for line in (LEXICON_DIR / name).read_text(encoding="utf-8").splitlines():
        line = _TRAILING_COMMENT.split(line, 1)[0].strip()
        if line and not line.startswith("#"):
            rows.append(line.split())
    return rows
