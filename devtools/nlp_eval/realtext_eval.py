"""Tags on real customer text (issue 17): untagged complaints and per-tag scores on the public
corpora (``../shared/corpora``, see ``devtools/corpora.py``).

Two measurements, both with the production code path (``nlp_udfs.enrich.enrich`` with the dbt
seed's taxonomy, as ``int_feedback__enriched`` calls it):

- **Untagged complaints**: the share of negative reviews (corpus label 0) that get no tag, per
  category, on two parts: the labelling-pool rows outside ``labels_dev.csv`` (held out: printed,
  never tuned on) and the ``dev`` half (tunable). Target: <= 20% over the retail categories (all
  but 书籍 and the two hotel corpora).
- **Tag precision, recall and F1** per tag and micro, on the blind-labelled real-text set
  (``devtools/nlp_eval/real_text/labels_dev.csv``; ``labels_test.csv`` only when asked with
  ``--read-test-split``, once per round, by the lead: ``docs/evaluation-protocol.md``).
  The micro figures are also given on two fixed halves of the items (``item_half``, by a hash
  of the item id): a change that holds beyond the wording of the items it was read from moves
  both halves the same way; one that helps only the half whose errors were read was fitted.

Everything skips with its reason when the corpora or the label files are absent. The product
never reads the corpora: only this developer tool does.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from devtools.corpora import CorpusMissing, CorpusRow, read_corpora, row_key, split_rows, text_sha256
from nlp_udfs.enrich import enrich
from nlp_udfs.taxonomy import Taxonomy

from .metrics import PRF, TagReport, tag_report

LABELS_DIR = Path(__file__).with_name("real_text")
LABEL_FILE_NAMES = {"dev": "labels_dev.csv", "test": "labels_test.csv"}
NON_RETAIL = frozenset({"书籍", "酒店", "酒店ChnSenti"})
UNTAGGED_TARGET = 0.20
MICRO_F1_TARGET = 0.80
TAG_F1_FLOOR = 0.60
TAG_FLOOR_SUPPORT = 10

Tagger = Callable[[str], frozenset[str]]


def production_tagger(taxonomy: Taxonomy) -> Tagger:
    """Tags of a text exactly as the warehouse's enrichment gives them."""
    return lambda text: frozenset(enrich(text, taxonomy)["tags"])


@dataclass(frozen=True)
class LabelledRow:
    item_id: str
    corpus: str
    row: int
    category: str
    text_sha256: str
    sentiment: str
    tags: frozenset[str]

    @property
    def key(self) -> str:
        return row_key(self.corpus, self.row)


def read_labels(path: Path) -> list[LabelledRow]:
    """A real-text labels file: ``item_id,corpus,row,category,text_sha256,sentiment,tags,note``."""
    with open(path, encoding="utf-8", newline="") as handle:
        return [
            LabelledRow(
                item_id=record["item_id"],
                corpus=record["corpus"],
                row=int(record["row"]),
                category=record["category"],
                text_sha256=record["text_sha256"],
                sentiment=(record.get("sentiment") or "").strip(),
                tags=frozenset(tag.strip() for tag in (record.get("tags") or "").split("|") if tag.strip()),
            )
            for record in csv.DictReader(handle)
        ]


@dataclass
class UntaggedShare:
    """Negative reviews and those without any tag, per category."""

    part: str
    negatives: dict[str, int] = field(default_factory=dict)
    untagged: dict[str, int] = field(default_factory=dict)

    def add(self, category: str, tagged: bool) -> None:
        self.negatives[category] = self.negatives.get(category, 0) + 1
        self.untagged[category] = self.untagged.get(category, 0) + (0 if tagged else 1)

    def share(self, categories: Iterable[str] | None = None) -> float:
        chosen = list(self.negatives) if categories is None else [c for c in categories if c in self.negatives]
        total = sum(self.negatives[c] for c in chosen)
        return sum(self.untagged[c] for c in chosen) / total if total else 0.0

    @property
    def retail(self) -> list[str]:
        return sorted(c for c in self.negatives if c not in NON_RETAIL)


def untagged_shares(
    rows: list[CorpusRow], tagger: Tagger, exclude_keys: frozenset[str] = frozenset(), parts: tuple[str, ...] = ("pool", "dev")
) -> dict[str, UntaggedShare]:
    """Untagged share of the negative rows of each part (``pool`` without ``exclude_keys``, the
    labelled dev items, and ``dev``). The ``test`` half is never read here."""
    shares = {part: UntaggedShare(part) for part in parts}
    for part, row in split_rows(rows):
        if part not in shares or row.label != 0 or row.key in exclude_keys:
            continue
        shares[part].add(row.category, bool(tagger(row.review)))
    return shares


def item_half(item_id: str) -> str:
    """``A`` or ``B``: a fixed split of labelled items by a hash of their id, for a cross-check
    of tuning (read the errors of one half, see whether the other half moves the same way)."""
    return "A" if int(hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:8], 16) % 2 == 0 else "B"


@dataclass
class TagScores:
    split: str
    items: int
    report: TagReport
    missing: list[str]  # labelled items whose corpus row is gone or changed
    halves: dict[str, PRF] = field(default_factory=dict)  # micro counts per ``item_half``

    def weak_tags(self) -> list[tuple[str, PRF]]:
        """Tags with at least ``TAG_FLOOR_SUPPORT`` gold examples and F1 below the floor."""
        return sorted(
            (tag, prf) for tag, prf in self.report.per_tag.items() if prf.tp + prf.fn >= TAG_FLOOR_SUPPORT and prf.f1 < TAG_F1_FLOOR
        )


def tag_scores(split: str, labelled: list[LabelledRow], rows: list[CorpusRow], tagger: Tagger, group_of: dict[str, str]) -> TagScores:
    """Per-tag and micro P/R/F1 of ``tagger`` against the labels (texts looked up by row name and
    checked against the stored fingerprint)."""
    by_key = {row.key: row.review for row in rows}
    expected, predicted, missing = [], [], []
    halves = {"A": PRF(), "B": PRF()}
    for item in labelled:
        review = by_key.get(item.key)
        if review is None or text_sha256(review) != item.text_sha256:
            missing.append(item.item_id)
            continue
        tags = tagger(review)
        expected.append(item.tags)
        predicted.append(tags)
        halves[item_half(item.item_id)].add(set(item.tags), set(tags))
    return TagScores(split, len(expected), tag_report(expected, predicted, group_of), missing, halves)


def _pct(value: float) -> str:
    return f"{100 * value:5.1f}%"


def format_untagged(share: UntaggedShare, title: str) -> list[str]:
    lines = [title]
    for category in sorted(share.negatives):
        n, u = share.negatives[category], share.untagged[category]
        lines.append(f"  {category:<12} {_pct(u / n)}   ({u}/{n})")
    retail = share.share(share.retail)
    verdict = "ok" if retail <= UNTAGGED_TARGET else "MISSED"
    lines.append(f"  retail (all but {', '.join(sorted(NON_RETAIL))}) {_pct(retail)}  target <= {UNTAGGED_TARGET:.0%} {verdict}")
    lines.append(f"  all categories {_pct(share.share())}")
    return lines


def format_tag_scores(scores: TagScores) -> list[str]:
    micro = scores.report.micro
    lines = [f"REAL-TEXT TAGS on the labelled {scores.split} half ({scores.items} reviews)"]
    if scores.missing:
        lines.append(f"  {len(scores.missing)} labelled items no longer match their corpus row: {', '.join(scores.missing[:5])}")
    verdict = "ok" if micro.f1 >= MICRO_F1_TARGET else "MISSED"
    lines.append(
        f"  micro          P {micro.precision:6.3f}  R {micro.recall:6.3f}  F1 {micro.f1:6.3f}"
        f"   (tp {micro.tp}, fp {micro.fp}, fn {micro.fn})  target >= {MICRO_F1_TARGET:.2f} {verdict}"
    )
    if scores.halves:
        lines.append(
            "  halves by item id (a tuning change should move both): "
            + ", ".join(f"{half} F1 {prf.f1:.3f} (P {prf.precision:.3f}, R {prf.recall:.3f})" for half, prf in sorted(scores.halves.items()))
        )
    for tag, prf in sorted(scores.report.per_tag.items(), key=lambda item: (-(item[1].tp + item[1].fn), item[0])):
        lines.append(
            f"  {tag:<16} P {prf.precision:6.3f}  R {prf.recall:6.3f}  F1 {prf.f1:6.3f}"
            f"   (support {prf.tp + prf.fn}, tp {prf.tp}, fp {prf.fp}, fn {prf.fn})"
        )
    weak = scores.weak_tags()
    lines.append(
        f"  tags with >= {TAG_FLOOR_SUPPORT} examples below F1 {TAG_F1_FLOOR:.2f}: "
        + (", ".join(f"{tag} {prf.f1:.2f}" for tag, prf in weak) if weak else "none")
    )
    return lines


def real_text_report(
    taxonomy: Taxonomy,
    corpus_dir: Path | None = None,
    read_test_split: bool = False,
    labels_dir: Path = LABELS_DIR,
    pool_share: bool = True,
) -> str:
    """The real-text section of ``make eval`` (a reason instead when the corpora are absent)."""
    try:
        rows = read_corpora(corpus_dir)
    except CorpusMissing as missing:
        return f"REAL TEXT: skipped ({missing}; the public corpora live beside the clone, see devtools/corpora.py)"
    tagger = production_tagger(taxonomy)
    group_of = {definition.tag: definition.l1 for definition in taxonomy.tags}
    lines: list[str] = []
    label_files = {split: labels_dir / name for split, name in LABEL_FILE_NAMES.items()}
    dev_labels = read_labels(label_files["dev"]) if label_files["dev"].is_file() else []
    parts = ("pool", "dev") if pool_share else ("dev",)
    shares = untagged_shares(rows, tagger, exclude_keys=frozenset(item.key for item in dev_labels), parts=parts)
    if pool_share:
        title = "UNTAGGED NEGATIVE REVIEWS, labelling pool without the labelled dev items (held out: do not tune on it)"
        lines += format_untagged(shares["pool"], title) + [""]
    else:
        lines += ["UNTAGGED NEGATIVE REVIEWS, labelling pool: not shown (--no-pool-share)", ""]
    lines += format_untagged(shares["dev"], "UNTAGGED NEGATIVE REVIEWS, corpus dev half (tunable)")
    for split in ("dev", "test"):
        path = label_files[split]
        lines.append("")
        if split == "test" and not read_test_split:
            lines.append("REAL-TEXT TAGS on the labelled test half: not read (--read-test-split, once per round, by the lead)")
            continue
        if not path.is_file():
            lines.append(f"REAL-TEXT TAGS on the labelled {split} half: skipped (no {path.name} yet)")
            continue
        lines += format_tag_scores(tag_scores(split, read_labels(path), rows, tagger, group_of))
    return "\n".join(lines)


def add_real_text_arguments(parser) -> None:
    """The real-text options of ``python -m devtools.nlp_eval``."""
    parser.add_argument("--corpus-dir", type=Path, default=None, help="folder of the public corpora (default: ../shared/corpora)")
    parser.add_argument(
        "--read-test-split", action="store_true", help="also score the labelled real-text test half (once per round, by the lead)"
    )
    parser.add_argument("--no-real-text", action="store_true", help="leave out the real-text figures")
    parser.add_argument("--real-text-only", action="store_true", help="only the real-text figures (no labelled set, no masking)")
    parser.add_argument(
        "--no-pool-share", action="store_true", help="leave out the held-out pool's untagged share (for tuning runs)"
    )


def print_real_text(args) -> None:
    if args.no_real_text or (args.no_nlp and not args.real_text_only):
        return
    from .report import seed_taxonomy

    print()
    print(real_text_report(seed_taxonomy(), args.corpus_dir, read_test_split=args.read_test_split, pool_share=not args.no_pool_share))
