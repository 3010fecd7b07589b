"""The blind-labelled real-text tag set (devtools/nlp_eval/real_text): shape, tags, halves, and,
when the public corpora are beside the clone, that every label still names the text it was
given for and that the sample is the one the labelling pool prescribes."""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from devtools import corpora
from devtools.nlp_eval.real_text import labels

REPO = Path(__file__).resolve().parents[1]
TAXONOMY_SEED = REPO / "dbt_project" / "seeds" / "taxonomy.csv"
CATEGORIES = {"书籍", "平板", "手机", "水果", "洗发水", "热水器", "蒙牛", "衣服", "计算机", "酒店", corpora.HOTEL_CATEGORY}
PER_CATEGORY = 55


@pytest.fixture(scope="module")
def halves() -> dict[str, list[labels.LabelledItem]]:
    return {half: labels.read_labels(half) for half in labels.HALVES}


@pytest.fixture(scope="module")
def corpus_rows() -> list[corpora.CorpusRow]:
    try:
        return corpora.read_corpora()
    except corpora.CorpusMissing as missing:
        pytest.skip(f"real-text checks need the public corpora: {missing}")


def test_the_files_have_the_agreed_columns_and_no_text():
    for half in labels.HALVES:
        with labels.label_path(half).open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            assert tuple(next(reader)) == labels.COLUMNS
            for record in reader:
                assert len(record) == len(labels.COLUMNS)
                assert len(record[-1]) <= 12, f"{record[0]}: notes are short reasons, not quotes"


def test_items_are_well_formed(halves):
    items = [item for half in halves.values() for item in half]
    assert len(items) >= 600
    assert len({item.item_id for item in items}) == len(items)
    for item in items:
        assert re.fullmatch(r"RT\d{4}", item.item_id), item.item_id
        assert item.corpus in (corpora.SHOPPING_FILE, corpora.HOTEL_FILE), item.item_id
        assert (item.corpus == corpora.HOTEL_FILE) == (item.category == corpora.HOTEL_CATEGORY), item.item_id
        assert re.fullmatch(r"[0-9a-f]{64}", item.text_sha256), item.item_id
        assert item.sentiment in labels.SENTIMENTS, item.item_id
        assert len(set(item.tags)) == len(item.tags), f"{item.item_id}: a tag twice"


def test_every_tag_is_a_seed_tag_or_one_of_the_six_new_ones(halves):
    with TAXONOMY_SEED.open(encoding="utf-8", newline="") as handle:
        seed = {record["tag"] for record in csv.DictReader(handle)}
    assert len(labels.NEW_TAGS) == 6 and all(tag.startswith("产品质量-") for tag in labels.NEW_TAGS)
    allowed = seed | set(labels.NEW_TAGS)
    used = Counter(tag for half in halves.values() for item in half for tag in item.tags)
    assert set(used) <= allowed, sorted(set(used) - allowed)
    assert {tag for tag in labels.NEW_TAGS if used[tag]} == set(labels.NEW_TAGS), "every new tag has examples"


def test_every_category_is_in_both_halves_and_the_halves_are_disjoint(halves):
    for half, items in halves.items():
        counts = Counter(item.category for item in items)
        assert set(counts) == CATEGORIES, half
        assert set(counts.values()) <= {PER_CATEGORY // 2, PER_CATEGORY - PER_CATEGORY // 2}, (half, counts)
        assert {item.sentiment for item in items} == set(labels.SENTIMENTS), half
    dev, test = ({(item.corpus, item.row) for item in items} for items in (halves["dev"], halves["test"]))
    assert len(dev) == len(halves["dev"]) and len(test) == len(halves["test"])
    assert dev.isdisjoint(test)
    assert {item.item_id for item in halves["dev"]}.isdisjoint(item.item_id for item in halves["test"])


def test_read_labels_refuses_an_unknown_half():
    with pytest.raises(ValueError, match="half"):
        labels.read_labels("train")


def test_load_says_why_when_the_corpora_are_absent(tmp_path):
    with pytest.raises(corpora.CorpusMissing, match="not found"):
        labels.load("dev", tmp_path)


def test_every_label_names_the_text_it_was_given_for(corpus_rows):
    loaded = {half: labels.load(half) for half in labels.HALVES}
    for items in loaded.values():
        for item in items:
            assert item.text and corpora.text_sha256(item.text) == item.text_sha256


def test_a_changed_text_is_refused(corpus_rows, tmp_path, monkeypatch):
    original = labels.read_labels("dev")
    wrong = [labels.LabelledItem(**{**vars(original[0]), "text_sha256": "0" * 64}), *original[1:]]
    monkeypatch.setattr(labels, "read_labels", lambda half: wrong)
    with pytest.raises(labels.LabelTextMismatch, match=original[0].item_id):
        labels.load("dev")


def test_the_sample_is_the_pool_head_per_category_split_by_position(halves, corpus_rows):
    pool = corpora.labelling_pool(corpus_rows)
    by_key = {row.key: row for row in corpus_rows}
    half_of = {corpora.row_key(item.corpus, item.row): half for half, items in halves.items() for item in items}
    assert set(half_of) <= pool, "every labelled row is in the labelling pool"
    skipped = {corpora.row_key(corpus, row): category for corpus, row, category, _ in labels.SKIPPED}
    assert set(skipped) <= pool and skipped.keys().isdisjoint(half_of)
    ranked: dict[str, list[str]] = defaultdict(list)
    for key in sorted(pool, key=lambda k: corpora.row_hash(by_key[k].corpus, by_key[k].row)):
        ranked[by_key[key].category].append(key)
    for category, keys in ranked.items():
        assert all(skipped[k] == category for k in keys if k in skipped)
        head = [k for k in keys if k not in skipped][:PER_CATEGORY]
        assert set(head) == {k for k in half_of if by_key[k].category == category}, category
        assert [half_of[k] for k in head] == ["dev", "test"] * (PER_CATEGORY // 2) + ["dev"] * (PER_CATEGORY % 2), category
