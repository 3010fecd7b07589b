"""The public review corpora (``../shared/corpora``) and how this project splits them.

The corpora are real customer text that nobody on the project wrote. They are never copied
into the repository and the product never reads them: training (``make train``) and evaluation
(``make eval``) take their folder as an argument (``CORPUS_DIR``, default ``../shared/corpora``
beside the clone) and skip with a clear reason when it is absent.

Every row is named by ``(corpus file, row)``: the 0-based position of the row in
``pandas.read_csv`` of the file with default options. Two fixed splits hang on a SHA-256 of that
name, so every tool draws the same rows without a list of them:

- **the labelling pool**: in each category (the hotel corpus is one more category, ``酒店ChnSenti``)
  the ``POOL_PER_CATEGORY`` rows with the smallest hash. The blind-labelled real-text tag set is
  drawn from it, and the share of untagged complaints is measured on it. No pool row goes into a
  model, a lexicon or a keyword list, and nobody tunes on it.
- **the dev and test halves** of every other row (``half``): tuning and cross-domain model
  selection look at ``dev`` rows only; ``test`` rows are read once per round, at its end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SHOPPING_FILE = "online_shopping_10_cats.csv.gz"
HOTEL_FILE = "ChnSentiCorp_htl_all.csv.gz"
HOTEL_CATEGORY = "酒店ChnSenti"
POOL_PER_CATEGORY = 120
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS_DIR = REPO_ROOT.parent / "shared" / "corpora"


@dataclass(frozen=True)
class CorpusRow:
    corpus: str  # file name
    row: int  # 0-based position in pandas.read_csv of the file
    category: str
    label: int  # 1 positive, 0 negative (from star ratings: binary, a few noisy)
    review: str

    @property
    def key(self) -> str:
        return row_key(self.corpus, self.row)


class CorpusMissing(FileNotFoundError):
    """The corpus folder is not there (a user's clone has no ``../shared``)."""


def row_key(corpus: str, row: int) -> str:
    return f"{corpus}:{row}"


def row_hash(corpus: str, row: int) -> str:
    return hashlib.sha256(row_key(corpus, row).encode()).hexdigest()


def text_sha256(review: str) -> str:
    """Fingerprint that a labelled row stores instead of the text (no redistribution)."""
    return hashlib.sha256(review.encode("utf-8")).hexdigest()


def half(corpus: str, row: int) -> str:
    """``dev`` or ``test`` for a row outside the labelling pool."""
    return "dev" if int(row_hash(corpus, row)[8:16], 16) % 2 == 0 else "test"


def read_corpora(corpus_dir: Path | None = None) -> list[CorpusRow]:
    """Every non-empty review of both corpora, in file order."""
    import pandas as pd

    folder = Path(corpus_dir) if corpus_dir else DEFAULT_CORPUS_DIR
    paths = [folder / SHOPPING_FILE, folder / HOTEL_FILE]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise CorpusMissing(f"public corpora not found in {folder} (missing {', '.join(missing)})")
    rows: list[CorpusRow] = []
    for path in paths:
        frame = pd.read_csv(path)
        for position, record in enumerate(frame.itertuples(index=False)):
            review = record.review
            if not isinstance(review, str) or not review.strip():
                continue
            category = record.cat if path.name == SHOPPING_FILE else HOTEL_CATEGORY
            rows.append(CorpusRow(path.name, position, category, int(record.label), review))
    return rows


def labelling_pool(rows: list[CorpusRow]) -> set[str]:
    """Keys of the pool rows: per category, the ``POOL_PER_CATEGORY`` smallest hashes."""
    by_category: dict[str, list[tuple[str, str]]] = {}
    for r in rows:
        by_category.setdefault(r.category, []).append((row_hash(r.corpus, r.row), r.key))
    pool: set[str] = set()
    for ranked in by_category.values():
        pool.update(key for _, key in sorted(ranked)[:POOL_PER_CATEGORY])
    return pool


def split_rows(rows: list[CorpusRow]) -> Iterator[tuple[str, CorpusRow]]:
    """``(part, row)`` with part ``pool``, ``dev`` or ``test``."""
    pool = labelling_pool(rows)
    for r in rows:
        yield ("pool" if r.key in pool else half(r.corpus, r.row)), r
