"""Customer texts for the benchmark, read back from a demo landing folder.

The benchmark must time the functions on the texts the pipeline really sees, so this reads
the landing files with the loaders' own readers and pulls the customer's words out of each
record the way the contract describes them: survey ``comment``, ticket ``subject`` plus the
customer's messages, review ``content`` and ``append_content``, social ``text``. Malformed
records are skipped: the benchmark is about text, not validation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from loaders.families import FEEDBACK_FAMILIES as FAMILIES  # the families with feedback text


def _texts_of_survey(record: dict) -> Iterator[Any]:
    answers = record.get("answers")
    yield answers.get("comment") if isinstance(answers, dict) else record.get("comment")


def _texts_of_ticket(record: dict) -> Iterator[Any]:
    messages = record.get("messages")
    if isinstance(messages, str):
        try:
            messages = json.loads(messages)
        except ValueError:
            messages = []
    parts = [record.get("subject")]
    if isinstance(messages, list):
        parts += [m.get("text") or m.get("body") or m.get("content") for m in messages
                  if isinstance(m, dict) and m.get("author_role") == "customer"]
    yield "\n".join(part for part in parts if isinstance(part, str) and part.strip())


def _texts_of_review(record: dict) -> Iterator[Any]:
    yield record.get("content")
    yield record.get("append_content")


def _texts_of_social(record: dict) -> Iterator[Any]:
    yield record.get("text")


_EXTRACTORS = {
    "surveys": _texts_of_survey,
    "tickets": _texts_of_ticket,
    "reviews": _texts_of_review,
    "social": _texts_of_social,
}


def iter_landing_texts(landing_dir: Path) -> Iterator[str]:
    """Every non-empty customer text of the four feedback families, in file order."""
    from loaders.files.readers import discover_files, is_csv_name, is_jsonl_name, read_csv_rows, read_jsonl_lines

    for family in FAMILIES:
        folder = Path(landing_dir) / family
        for path in discover_files(folder, lambda name: is_csv_name(name) or is_jsonl_name(name), root=Path(landing_dir)):
            lines = read_csv_rows(path) if is_csv_name(path.name) else read_jsonl_lines(path)
            for line in lines:
                if not isinstance(line.value, dict):
                    continue
                for text in _EXTRACTORS[family](line.value):
                    if isinstance(text, str) and text.strip():
                        yield text


def landing_texts(landing_dir: Path, limit: int | None = None) -> list[str]:
    """Up to ``limit`` texts of ``iter_landing_texts`` (all when ``None``)."""
    # Read to the end rather than stop early: an abandoned file reader would be closed by the
    # garbage collector, possibly at interpreter exit.
    texts = list(iter_landing_texts(landing_dir))
    return texts if limit is None else texts[:limit]
