"""Find evaluation text that leaked into what the NLP is built from (issue 17).

An evaluation text *leaks* when the text itself, or any 8-character piece of it, appears in a
lexicon, the taxonomy seed's keywords, the training data, the tests or the demo phrase bank:
then the figure measured on it partly measures what was copied, not how the method does on
unseen text. The rule (``docs/evaluation-protocol.md``):

- Texts are compared in the form the tagger reads them: half-width, lower case, whitespace
  removed (``normalize_keyword``). Files are compared line by line, so a window never spans two
  lines or two lexicon entries.
- **Windows**: every 8-character substring of an evaluation text that holds at least 6 Han
  characters. Runs of digits, Latin letters and punctuation (phone numbers, ``@qq.com``,
  ``example.com``, SKUs) are shared by unrelated texts and say nothing about copying, so a window
  with fewer than 6 Han characters is not compared.
- **Whole texts**: an evaluation text shorter than 8 characters (but at least 4) is a hit when it
  equals a whole entry of a file (a lexicon word, a keyword, a training line, a quoted string):
  ``默认好评`` as a lukewarm entry is a copy; ``好评`` inside a longer sentence is not.

The sets compared: the three-class eval set (``feedback_eval.csv``) against every target; the
PII eval set (``devtools/pii_eval/eval.csv``) against every target except the sentiment
training data (the masker learns nothing from it); the texts of the real-text labelled **test**
half (when the corpora and ``labels_test.csv`` are present) against every target.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from nlp_udfs.taxonomy import normalize_keyword

REPO_ROOT = Path(__file__).resolve().parents[2]
WINDOW = 8
MIN_HAN_IN_WINDOW = 6
MIN_WHOLE_TEXT = 4
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ENTRY_SEPARATORS = re.compile(r"[\s|,\"'`()\[\]{}=:;]+")

FEEDBACK_EVAL = REPO_ROOT / "devtools" / "nlp_eval" / "feedback_eval.csv"
PII_EVAL = REPO_ROOT / "devtools" / "pii_eval" / "eval.csv"
LABELS_DIR = REPO_ROOT / "devtools" / "nlp_eval" / "real_text"


@dataclass(frozen=True)
class Target:
    """A file (or the seed's keyword columns) that evaluation text must not be copied into."""

    name: str
    kind: str  # lexicon, seed, training, tests, demo
    lines: tuple[str, ...]  # normalized, one per line of the file


@dataclass(frozen=True)
class Hit:
    eval_set: str
    item: str  # the eval item's id
    target: str
    piece: str  # the window or whole text found


def han_count(text: str) -> int:
    return len(_HAN.findall(text))


def windows(text: str) -> set[str]:
    """The 8-character pieces of a normalized text that are compared (>= 6 Han characters)."""
    return {text[i : i + WINDOW] for i in range(len(text) - WINDOW + 1) if han_count(text[i : i + WINDOW]) >= MIN_HAN_IN_WINDOW}

# The seed's word columns: keywords, vetoes and aspects (issue 17) are all built from text.
SEED_WORD_COLUMNS = ("keywords", "negative_keywords", "text_negative_keywords", "aspects", "aspect_context")


def _read_lines(path: Path) -> tuple[str, ...]:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return tuple(filter(None, (normalize_keyword(line) for line in lines)))


def _seed_lines(path: Path) -> tuple[str, ...]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return tuple(normalize_keyword(row.get(column) or "") for row in rows for column in SEED_WORD_COLUMNS)


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(p for p in folder.glob(pattern) if p.is_file() and "__pycache__" not in p.parts)


def default_targets(root: Path = REPO_ROOT) -> list[Target]:
    """Lexicons, the taxonomy seed's keywords, the project's training data, every file under
    ``tests/`` and the demo generator's text (``devtools/demo``)."""
    targets = [Target(str(p.relative_to(root)), "lexicon", _read_lines(p)) for p in _files(root / "nlp_udfs" / "lexicons", "*.txt")]
    seed = root / "dbt_project" / "seeds" / "taxonomy.csv"
    targets.append(Target(f"{seed.relative_to(root)} (keywords)", "seed", _seed_lines(seed)))
    targets += [Target(str(p.relative_to(root)), "training", _read_lines(p)) for p in _files(root / "devtools" / "training" / "data", "*")]
    targets += [Target(str(p.relative_to(root)), "tests", _read_lines(p)) for p in _files(root / "tests", "**/*")]
    targets += [Target(str(p.relative_to(root)), "demo", _read_lines(p)) for p in _files(root / "devtools" / "demo", "*.py")]
    return targets


def find_hits(eval_set: str, items: Iterable[tuple[str, str]], targets: Iterable[Target]) -> list[Hit]:
    """Every (item, target) pair where a window of the item's text occurs in a line of the
    target, or the whole (short) text equals an entry of it."""
    by_window: dict[str, list[str]] = {}
    short: dict[str, list[str]] = {}
    for item_id, text in items:
        normalized = normalize_keyword(text)
        if len(normalized) < WINDOW:
            if len(normalized) >= MIN_WHOLE_TEXT:
                short.setdefault(normalized, []).append(item_id)
            continue
        for window in windows(normalized):
            by_window.setdefault(window, []).append(item_id)
    hits: dict[tuple[str, str], Hit] = {}
    for target in targets:
        for line in target.lines:
            for i in range(len(line) - WINDOW + 1):
                for item_id in by_window.get(line[i : i + WINDOW], ()):
                    hits.setdefault((item_id, target.name), Hit(eval_set, item_id, target.name, line[i : i + WINDOW]))
            if short:
                for entry in _ENTRY_SEPARATORS.split(line):
                    for item_id in short.get(entry, ()):
                        hits.setdefault((item_id, target.name), Hit(eval_set, item_id, target.name, entry))
    return sorted(hits.values(), key=lambda hit: (hit.item, hit.target))


def read_items(path: Path, id_column: str = "id", text_column: str = "text") -> list[tuple[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [(row[id_column], row[text_column]) for row in csv.DictReader(handle)]


def labelled_texts(labels_csv: Path, corpus_dir: Path | None = None) -> Iterator[tuple[str, str]]:
    """``(item_id, review)`` of a real-text labels file: the text is looked up in the corpora by
    ``(corpus, row)`` (labels store only its SHA-256) and checked against that fingerprint."""
    from devtools.corpora import read_corpora, row_key, text_sha256

    by_key = {row.key: row.review for row in read_corpora(corpus_dir)}
    with open(labels_csv, encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle):
            review = by_key.get(row_key(record["corpus"], int(record["row"])))
            if review is None or text_sha256(review) != record["text_sha256"]:
                raise ValueError(f"{labels_csv.name}: {record['item_id']} does not name its corpus row")
            yield record["item_id"], review


def format_hits(hits: Iterable[Hit]) -> str:
    return "\n".join(f"  {h.eval_set} {h.item}: {h.piece!r} in {h.target}" for h in hits)
