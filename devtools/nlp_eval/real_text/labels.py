"""Read the blind-labelled real-text tag set and fetch its texts from the public corpora.

The CSVs (``labels_dev.csv``, ``labels_test.csv``) hold no review text: each item names its row
by ``(corpus, row)`` (see ``devtools.corpora``) and stores the SHA-256 of the text the labeller
read. ``load`` fetches the texts from the corpus folder and refuses any row whose text no longer
matches; without the corpus folder it raises ``CorpusMissing`` with the reason, which callers
turn into a skip. ``read_labels`` needs no corpus.

The test half is read once per round by the lead; nobody tunes on it (README.md).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path

from devtools.corpora import HOTEL_CATEGORY, HOTEL_FILE, SHOPPING_FILE, CorpusMissing, text_sha256

LABEL_DIR = Path(__file__).resolve().parent
HALVES = ("dev", "test")
COLUMNS = ("item_id", "corpus", "row", "category", "text_sha256", "sentiment", "tags", "note")
SENTIMENTS = ("positive", "neutral", "negative")
TAG_SEPARATOR = "|"
# The six 产品质量 tags that this round adds to the default taxonomy (issue 17).
NEW_TAGS = (
    "产品质量-使用效果",
    "产品质量-新鲜度",
    "产品质量-口味口感",
    "产品质量-尺码版型",
    "产品质量-配件缺失",
    "产品质量-正品保障",
)
# Pool rows passed over at sampling time (empty or garbage text), with the reason; the next row
# by hash was taken instead.
SKIPPED = ((SHOPPING_FILE, 30683, "洗发水", "garbage: a string of unrelated words, no review"),)


class LabelTextMismatch(ValueError):
    """A labelled row's text in the corpus is not the text that was labelled."""


@dataclass(frozen=True)
class LabelledItem:
    item_id: str
    half: str  # dev or test
    corpus: str
    row: int
    category: str
    text_sha256: str
    sentiment: str
    tags: tuple[str, ...]
    note: str
    text: str | None = None  # filled by ``load``


def label_path(half: str) -> Path:
    if half not in HALVES:
        raise ValueError(f"half must be one of {HALVES}, not {half!r}")
    return LABEL_DIR / f"labels_{half}.csv"


def read_labels(half: str) -> list[LabelledItem]:
    """The labels of one half, without texts."""
    with label_path(half).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"{label_path(half).name}: columns {reader.fieldnames}, expected {list(COLUMNS)}")
        return [
            LabelledItem(
                item_id=record["item_id"],
                half=half,
                corpus=record["corpus"],
                row=int(record["row"]),
                category=record["category"],
                text_sha256=record["text_sha256"],
                sentiment=record["sentiment"],
                tags=tuple(t for t in record["tags"].split(TAG_SEPARATOR) if t),
                note=record["note"],
            )
            for record in reader
        ]


def _corpus_texts(corpus_dir: Path) -> dict[str, list[tuple[str, object]]]:
    """Per corpus file: ``(category, review)`` by row position, as ``devtools.corpora`` names rows."""
    import pandas as pd

    paths = [corpus_dir / SHOPPING_FILE, corpus_dir / HOTEL_FILE]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise CorpusMissing(f"public corpora not found in {corpus_dir} (missing {', '.join(missing)})")
    texts: dict[str, list[tuple[str, object]]] = {}
    for path in paths:
        frame = pd.read_csv(path)
        categories = frame["cat"] if path.name == SHOPPING_FILE else [HOTEL_CATEGORY] * len(frame)
        texts[path.name] = list(zip(categories, frame["review"], strict=True))
    return texts


def load(half: str, corpus_dir: Path | None = None) -> list[LabelledItem]:
    """The labels of one half with their texts, each checked against its stored SHA-256.

    Raises ``CorpusMissing`` (a ``FileNotFoundError``) when the corpus folder is absent and
    ``LabelTextMismatch`` when a row is out of range, in another category or has another text.
    """
    from devtools.corpora import DEFAULT_CORPUS_DIR

    texts = _corpus_texts(Path(corpus_dir) if corpus_dir else DEFAULT_CORPUS_DIR)
    items = []
    for item in read_labels(half):
        rows = texts.get(item.corpus)
        if rows is None or not 0 <= item.row < len(rows):
            raise LabelTextMismatch(f"{item.item_id}: no row {item.row} in corpus {item.corpus!r}")
        category, review = rows[item.row]
        if category != item.category:
            raise LabelTextMismatch(f"{item.item_id}: row {item.row} of {item.corpus} is in {category}, not {item.category}")
        if not isinstance(review, str) or text_sha256(review) != item.text_sha256:
            raise LabelTextMismatch(f"{item.item_id}: the text of {item.corpus} row {item.row} is not the labelled text")
        items.append(replace(item, text=review))
    return items
