"""Regular expressions from data: compiled once per distinct pattern, SQL NULL semantics."""

from nlp_udfs.patterns import compiled_pattern, regex_contains_many


def test_each_row_is_matched_against_its_own_pattern():
    texts = ["建议增加夜间配送", "物流太慢", "希望能送货上门", None, "x"]
    patterns = ["建议|希望", "建议|希望", "建议|希望", "建议", None]
    assert regex_contains_many(texts, patterns) == [True, False, True, None, None]


def test_a_pattern_is_compiled_once():
    compiled_pattern.cache_clear()
    regex_contains_many(["a"] * 1000, ["^a$"] * 1000)
    assert compiled_pattern.cache_info().misses == 1
