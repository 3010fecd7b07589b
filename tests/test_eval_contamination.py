"""No evaluation text, nor any 8-character piece of one, in what the NLP is built from (issue 17).

The rule and its reasons are in ``devtools/nlp_eval/contamination.py`` and
``docs/evaluation-protocol.md``. A hit is cleaned by retiring the eval item into the dev set, or
by removing the copied phrase from the lexicon or keyword list; never by loosening the rule.
"""

from __future__ import annotations

import pytest

from devtools.corpora import DEFAULT_CORPUS_DIR, CorpusMissing
from devtools.nlp_eval.contamination import (
    FEEDBACK_EVAL,
    LABELS_DIR,
    PII_EVAL,
    Hit,
    Target,
    default_targets,
    find_hits,
    format_hits,
    labelled_texts,
    read_items,
    windows,
)

TARGETS = default_targets()


def _assert_clean(hits: list[Hit]) -> None:
    assert not hits, f"{len(hits)} evaluation texts leaked (retire the item or remove the phrase):\n" + format_hits(hits)


def test_targets_cover_lexicons_seed_training_tests_and_demo():
    kinds = {target.kind for target in TARGETS}
    assert kinds == {"lexicon", "seed", "training", "tests", "demo"}
    names = {target.name for target in TARGETS}
    assert "nlp_udfs/lexicons/risk.txt" in names and "devtools/demo/phrases.py" in names
    assert "tests/test_eval_contamination.py" in names  # this file is scanned too
    assert all(target.lines for target in TARGETS if target.kind in {"lexicon", "seed", "training"})


def test_windows_need_six_han_characters():
    assert windows("甲乙丙丁戊己庚辛") == {"甲乙丙丁戊己庚辛"}
    assert windows("发到abc[at]qq.com") == set()  # Latin, digits, punctuation: generic
    assert windows("手机13800138000坏了") == set()
    assert "甲乙丙丁,戊己庚" in windows("甲乙丙丁,戊己庚辛壬")  # punctuation allowed up to 2 characters


def test_the_rule_finds_windows_whole_entries_and_nothing_generic():
    target = Target("lexicon.txt", "lexicon", ("甲乙丙丁戊己庚辛", "子丑寅卯", "privacy隐私|泄露", "天地玄黄宇宙洪荒"))
    items = [
        ("a", "希望甲乙丙丁戊己庚辛"),  # window in an entry
        ("b", "子丑寅卯"),  # short text equal to an entry
        ("c", "隐私"),  # too short to say anything
        ("d", "我的邮箱是abc@qq.com谢谢"),  # nothing with 6 Han characters in 8
        ("e", "天地玄黄 宇宙洪荒日月"),  # whitespace does not hide a copy
    ]
    hits = find_hits("set", items, [target])
    assert [(h.item, h.piece) for h in hits] == [("a", "甲乙丙丁戊己庚辛"), ("b", "子丑寅卯"), ("e", "天地玄黄宇宙洪荒")]


def test_windows_do_not_span_lines():
    target = Target("lexicon.txt", "lexicon", ("甲乙丙丁", "戊己庚辛"))
    assert find_hits("set", [("a", "买了甲乙丙丁戊己庚辛的东西")], [target]) == []


def test_feedback_eval_set_is_clean():
    _assert_clean(find_hits("feedback_eval", read_items(FEEDBACK_EVAL), TARGETS))


def test_pii_eval_set_is_clean():
    # The sentiment models' training data teaches the masker nothing, so it is not compared.
    targets = [target for target in TARGETS if target.kind != "training"]
    _assert_clean(find_hits("pii_eval", read_items(PII_EVAL), targets))


def test_real_text_test_half_is_clean():
    labels = LABELS_DIR / "labels_test.csv"
    if not labels.is_file():
        pytest.skip(f"no real-text labelled test half yet ({labels.relative_to(LABELS_DIR.parents[2])})")
    try:
        items = list(labelled_texts(labels))
    except CorpusMissing:
        pytest.skip(f"public corpora not found in {DEFAULT_CORPUS_DIR}: the labelled texts live there")
    assert items
    _assert_clean(find_hits("real_text_test", items, TARGETS))
