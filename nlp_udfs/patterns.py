"""Regular expressions that come from data (seed columns), matched row by row.

DuckDB compiles a regular expression whose pattern is not a literal once per row; with the
pattern in a seed (priority_rules.parameter, alert_settings values) the priority engine spent
16 s of its 18 s at 1M feedback rows compiling the same pattern. Here each distinct pattern is
compiled once per process. Patterns are Python regular expressions; for the alternations and
anchors the seeds use they mean what RE2 (DuckDB) means.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache


@lru_cache(maxsize=1024)
def compiled_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def regex_contains_many(texts: Sequence[str | None], patterns: Sequence[str | None]) -> list[bool | None]:
    """``pattern`` found anywhere in ``text``, per row; NULL text or pattern gives NULL (as SQL)."""
    return [
        None if text is None or pattern is None else compiled_pattern(pattern).search(text) is not None
        for text, pattern in zip(texts, patterns)
    ]
