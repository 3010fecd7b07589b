"""The real-text measurements of ``make eval`` (issue 17) on a small made-up corpus folder; the
public corpora themselves are only needed by the last test, which skips without them."""

from __future__ import annotations

import csv
import gzip

import pytest

from devtools.corpora import HOTEL_FILE, SHOPPING_FILE, CorpusMissing, read_corpora, split_rows, text_sha256
from devtools.nlp_eval.realtext_eval import (
    LabelledRow,
    item_half,
    read_labels,
    real_text_report,
    tag_scores,
    untagged_shares,
)
from nlp_udfs.taxonomy import Taxonomy

TAXONOMY = Taxonomy.from_rows(
    [
        {"tag": "物流体验-时效性", "keywords": "物流*慢|物流*快"},
        {"tag": "产品质量-新鲜度", "keywords": "新鲜|烂了"},
    ]
)
REVIEWS = {
    "水果": ["物流太慢了，等了一周", "烂了好几个，很失望", "就是不满意", "再也不买了", "水果很新鲜", "物流很快"],
    "衣服": ["穿着不舒服", "物流慢得要命", "颜色挺好看", "还会回购"],
}


def _write_corpora(folder):
    folder.mkdir()
    with gzip.open(folder / SHOPPING_FILE, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["cat", "label", "review"])
        for category, texts in REVIEWS.items():
            for i, text in enumerate(texts):
                writer.writerow([category, 0 if i < len(texts) // 2 + 1 else 1, text])
    with gzip.open(folder / HOTEL_FILE, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "review"])
        writer.writerow([0, "房间很小"])
    return read_corpora(folder)


def _tagger(text):
    return frozenset(match for match, words in (("物流体验-时效性", ("物流",)), ("产品质量-新鲜度", ("新鲜", "烂"))) if any(w in text for w in words))


def _labels_file(path, rows, tags_by_text, sha_override=None):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item_id", "corpus", "row", "category", "text_sha256", "sentiment", "tags", "note"])
        for n, row in enumerate(rows):
            sha = sha_override if sha_override and n == 0 else text_sha256(row.review)
            writer.writerow([f"R{n:04d}", row.corpus, row.row, row.category, sha, "negative", "|".join(tags_by_text.get(row.review, ())), ""])


def test_untagged_shares_per_part_exclude_labelled_items_and_never_read_the_test_half(tmp_path, monkeypatch):
    monkeypatch.setattr("devtools.corpora.POOL_PER_CATEGORY", 2)
    rows = _write_corpora(tmp_path / "corpora")
    parts = {row.key: part for part, row in split_rows(rows)}
    seen = []

    def tagger(text):
        seen.append(text)
        return _tagger(text)

    pool_negative = [r for r in rows if parts[r.key] == "pool" and r.label == 0]
    excluded = frozenset({pool_negative[0].key}) if pool_negative else frozenset()
    shares = untagged_shares(rows, tagger, exclude_keys=excluded)
    test_texts = {r.review for r in rows if parts[r.key] == "test"}
    assert test_texts and not test_texts & set(seen)
    assert excluded and all(sum(shares[part].negatives.values()) for part in ("pool", "dev"))
    for part in ("pool", "dev"):
        expected = [r for r in rows if parts[r.key] == part and r.label == 0 and r.key not in excluded]
        assert sum(shares[part].negatives.values()) == len(expected)
        assert sum(shares[part].untagged.values()) == sum(1 for r in expected if not _tagger(r.review))


def test_retail_share_leaves_out_books_and_hotels():
    from devtools.nlp_eval.realtext_eval import UntaggedShare

    share = UntaggedShare("dev")
    for category, tagged in [("水果", True), ("水果", False), ("衣服", True), ("酒店ChnSenti", False), ("书籍", False)]:
        share.add(category, tagged)
    assert share.retail == ["水果", "衣服"]
    assert share.share(share.retail) == pytest.approx(1 / 3)
    assert share.share() == pytest.approx(3 / 5)


def _three_gold_labels(tmp_path):
    """The corpora, three gold-tagged reviews plus one untagged (物流很快), and their labels file."""
    rows = _write_corpora(tmp_path / "corpora")
    gold = {"物流太慢了，等了一周": ["物流体验-时效性"], "烂了好几个，很失望": ["产品质量-新鲜度"], "就是不满意": ["产品质量-新鲜度"]}
    chosen = [r for r in rows if r.review in gold] + [next(r for r in rows if r.review == "物流很快")]
    path = tmp_path / "labels_dev.csv"
    _labels_file(path, chosen, gold)
    return rows, gold, chosen, path


def test_tag_scores_use_the_tagger_and_flag_rows_that_no_longer_match(tmp_path):
    rows, gold, chosen, path = _three_gold_labels(tmp_path)
    labelled = read_labels(path)
    assert isinstance(labelled[0], LabelledRow) and labelled[0].tags
    scores = tag_scores("dev", labelled, rows, _tagger, {"物流体验-时效性": "物流体验", "产品质量-新鲜度": "产品质量"})
    micro = scores.report.micro
    # 物流很快 has no gold tag but is tagged: one false positive; 就是不满意 is missed
    assert (micro.tp, micro.fp, micro.fn) == (2, 1, 1) and scores.items == 4 and not scores.missing
    _labels_file(path, chosen, gold, sha_override="0" * 64)
    changed = tag_scores("dev", read_labels(path), rows, _tagger, {})
    assert changed.missing == ["R0000"] and changed.items == 3


def test_tag_scores_split_the_micro_counts_into_two_fixed_halves(tmp_path):
    rows, gold, chosen, path = _three_gold_labels(tmp_path)
    scores = tag_scores("dev", read_labels(path), rows, _tagger, {})
    halves = scores.halves
    assert set(halves) == {"A", "B"}
    for count in ("tp", "fp", "fn"):
        assert getattr(halves["A"], count) + getattr(halves["B"], count) == getattr(scores.report.micro, count)
    # each item's counts land in the half of its id, and the split is fixed
    for item in read_labels(path):
        assert item_half(item.item_id) == item_half(item.item_id) in {"A", "B"}
    ids = [f"RT{n:04d}" for n in range(400)]
    share_a = sum(item_half(i) == "A" for i in ids) / len(ids)
    assert 0.4 < share_a < 0.6


def test_report_reads_the_test_labels_only_when_asked(tmp_path):
    rows = _write_corpora(tmp_path / "corpora")
    labels = tmp_path / "labels"
    labels.mkdir()
    gold = {"物流慢得要命": ["物流体验-时效性"]}
    _labels_file(labels / "labels_dev.csv", [r for r in rows if r.review == "烂了好几个，很失望"], {"烂了好几个，很失望": ["产品质量-新鲜度"]})
    _labels_file(labels / "labels_test.csv", [r for r in rows if r.review in gold], gold)
    report = real_text_report(TAXONOMY, tmp_path / "corpora", labels_dir=labels)
    assert "labelled dev half (1 reviews)" in report and "micro" in report
    assert "halves by item id" in report
    assert "labelled test half: not read" in report and "labelled test half (1" not in report
    assert "retail" in report and "corpus dev half" in report
    report = real_text_report(TAXONOMY, tmp_path / "corpora", read_test_split=True, labels_dir=labels)
    assert "labelled test half (1 reviews)" in report
    assert "labelling pool without" in report
    report = real_text_report(TAXONOMY, tmp_path / "corpora", labels_dir=labels, pool_share=False)
    assert "labelling pool without" not in report and "pool: not shown" in report


def test_report_skips_with_a_reason_without_the_corpora(tmp_path):
    report = real_text_report(TAXONOMY, tmp_path / "nowhere", labels_dir=tmp_path)
    assert report.startswith("REAL TEXT: skipped") and "not found" in report


def test_labelled_files_name_pool_rows_when_present():
    from devtools.nlp_eval.realtext_eval import LABEL_FILE_NAMES, LABELS_DIR

    present = [LABELS_DIR / name for name in LABEL_FILE_NAMES.values() if (LABELS_DIR / name).is_file()]
    if not present:
        pytest.skip("no real-text label files yet (devtools/nlp_eval/real_text/labels_*.csv)")
    try:
        rows = read_corpora()
    except CorpusMissing as missing:
        pytest.skip(f"public corpora absent: {missing}")
    parts = {row.key: part for part, row in split_rows(rows)}
    texts = {row.key: row.review for row in rows}
    for path in present:
        for item in read_labels(path):
            assert parts.get(item.key) == "pool", item.item_id
            assert text_sha256(texts[item.key]) == item.text_sha256, item.item_id
