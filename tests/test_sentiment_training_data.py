"""The hand-written neutral training data and the gate's corpus and model file format."""

import gzip

from devtools.nlp_eval.report import DEFAULT_EVAL_PATH, read_labelled
from devtools.training.train import (
    NEUTRAL_DATA_PATH,
    gate_corpus,
    handwritten_neutral_texts,
    handwritten_polar_corpus,
    write_weights,
)
from nlp_udfs.clauses import split_clauses
from nlp_udfs.model import DEFAULT_GATE_PATH, NgramModel, char_ngrams, normalise_for_model
from nlp_udfs.text_cleaning import clean_text


def _texts_and_clauses(path):
    found = set()
    for item in read_labelled(path):
        found.add(normalise_for_model(item.text))
        found.update(normalise_for_model(clause.text) for clause in split_clauses(clean_text(item.text)))
    return found


def test_handwritten_neutral_texts_are_many_and_not_from_the_labelled_sets():
    texts = handwritten_neutral_texts()
    assert len(texts) >= 200 and len(set(texts)) == len(texts)
    labelled = _texts_and_clauses(DEFAULT_EVAL_PATH) | _texts_and_clauses(DEFAULT_EVAL_PATH.with_name("dev_feedback.csv"))
    assert not set(texts) & labelled


def test_handwritten_implicit_judgements_are_labelled_and_not_from_the_labelled_sets():
    texts, labels = handwritten_polar_corpus()
    assert len(texts) >= 100 and set(labels) == {0, 1} and len(set(texts)) == len(texts)
    labelled = _texts_and_clauses(DEFAULT_EVAL_PATH) | _texts_and_clauses(DEFAULT_EVAL_PATH.with_name("dev_feedback.csv"))
    assert not set(texts) & labelled


def test_gate_corpus_has_both_classes():
    texts, labels = gate_corpus()
    assert len(texts) == len(labels)
    assert labels.count(0) >= 250 and labels.count(1) > labels.count(0)
    assert normalise_for_model("麻烦帮我查一下订单状态") in {t for t, label in zip(texts, labels) if label == 0}


def test_written_weights_load_back(tmp_path):
    path = tmp_path / "gate.tsv.gz"
    write_weights(path, ["# test model"], -0.5, {"请问": -2.0, "慢": 1.5})
    model = NgramModel.load(path)
    assert model.intercept == -0.5 and model.weights == {"请问": -2.0, "慢": 1.5}
    assert model.logit("请问慢") == model.logit_of_ngrams(char_ngrams("请问慢")) == -0.5 - 2.0 + 1.5
    assert gzip.open(path, "rt").readline().startswith("# test model")


def test_shipped_models_are_small():
    assert DEFAULT_GATE_PATH.exists() and NEUTRAL_DATA_PATH.exists()
    total = DEFAULT_GATE_PATH.stat().st_size + DEFAULT_GATE_PATH.with_name("sentiment_char_ngrams.tsv.gz").stat().st_size
    assert total < 2 * 1024 * 1024
