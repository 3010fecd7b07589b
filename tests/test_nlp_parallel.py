"""Batched enrichment: distinct texts once, result cache, worker subprocesses, segmentation backends, model."""

import io
import json
from pathlib import Path

import pytest

from nlp_udfs import config, local, parallel
from nlp_udfs.config import NlpConfig
from nlp_udfs.enrich import ENRICH_FIELDS, enrich
from nlp_udfs.model import NgramModel, default_model, normalise_for_model
from nlp_udfs.parallel import enrich_rows, enrich_rows_local
from nlp_udfs.segmentation import backend_name, base_user_words, ensure_taxonomy_words, new_tokenizer, segment
from nlp_udfs.taxonomy import Taxonomy
from nlp_udfs.worker import read_frame, write_frame

SEED_PATH = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "taxonomy.csv"
TEXTS = ["物流挺快的,但是包装破了", None, "客服态度很差", "物流挺快的,但是包装破了", "", "电话13800138000打不通"]


def _seed_json() -> str:
    import csv

    with open(SEED_PATH, encoding="utf-8") as handle:
        return json.dumps(list(csv.DictReader(handle)), ensure_ascii=False)


def _expected(texts, taxonomy):
    rows = []
    for text in texts:
        result = enrich(text, taxonomy) if text is not None else enrich("", taxonomy)
        rows.append(tuple(result[name] for name in ENRICH_FIELDS))
    return rows


def test_rows_equal_enrich_per_text_and_duplicates_are_computed_once(monkeypatch):
    taxonomy_json = _seed_json()
    calls = []
    original = parallel.run_local

    def counting(operation, texts, value):
        calls.append(list(texts))
        return original(operation, texts, value)

    monkeypatch.setattr(parallel, "run_local", counting)
    parallel.result_cache.clear()
    rows = enrich_rows(TEXTS, taxonomy_json)
    assert rows == _expected(TEXTS, Taxonomy.from_json(taxonomy_json))
    assert sum(len(batch) for batch in calls) == 5  # the repeated text once
    enrich_rows(TEXTS[:3], taxonomy_json)
    assert sum(len(batch) for batch in calls) == 5  # served from the result cache


def test_cache_is_keyed_by_taxonomy():
    parallel.result_cache.clear()
    with_tags = enrich_rows(["物流太慢了"], _seed_json())[0]
    without = enrich_rows(["物流太慢了"], None)[0]
    tags = ENRICH_FIELDS.index("tags")
    assert with_tags[tags] == ["物流体验-时效性"] and without[tags] == []


@pytest.fixture
def nlp_config():
    """Configure nlp_udfs for one test, then put the previous configuration back."""
    previous = config.current()
    yield config.configure
    config.configure(previous)


def test_worker_processes_give_the_same_rows(monkeypatch, nlp_config):
    nlp_config(NlpConfig(workers=2))
    monkeypatch.setattr(parallel, "PARALLEL_MIN_TEXTS", 2)
    parallel.result_cache.clear()
    texts = [f"第{i}次买，物流太慢了" if i % 2 else f"客服{i}号态度很好" for i in range(40)]
    try:
        rows = enrich_rows(texts, _seed_json())
        assert parallel._workers and all(worker.alive() for worker in parallel._workers)
    finally:
        parallel.shutdown_pool()
    assert rows == enrich_rows_local(texts, _seed_json())
    assert not parallel._workers


def test_frame_protocol_round_trip():
    buffer = io.BytesIO()
    write_frame(buffer, (["文本", None], "{}"))
    buffer.seek(0)
    assert read_frame(buffer) == (["文本", None], "{}")
    with pytest.raises(EOFError):
        read_frame(buffer)


def test_segmenter_backends_keep_taxonomy_keywords_whole():
    assert backend_name() == "rjieba"
    with pytest.raises(ValueError):
        NlpConfig(segmenter="nonsense")
    taxonomy = Taxonomy.from_csv(SEED_PATH)
    ensure_taxonomy_words(taxonomy)
    reference = new_tokenizer("jieba")
    for word in sorted(base_user_words() | taxonomy.user_words()):
        reference.add_word(word)
    text = "快递员态度恶劣，退货流程太麻烦了"
    assert segment(text) == reference.lcut(text)
    assert "退货流程" in segment(text)


def test_ngram_model_sums_distinct_ngram_weights():
    model = NgramModel({"好": 1.0, "很好": 0.5, "差": -2.0}, intercept=-0.1)
    assert model.logit("很好很好") == pytest.approx(-0.1 + 1.0 + 0.5)
    assert model.logit("") == 0.0
    assert normalise_for_model(" Ａ B好 ") == "ab好"


def test_shipped_model_reads_polarity():
    model = default_model()
    assert model is not None and len(model.weights) > 1000
    assert model.logit(normalise_for_model("质量很好，非常满意")) > 0 > model.logit(normalise_for_model("太差了，再也不买"))


def test_split_gives_this_process_its_share_and_the_workers_the_rest():
    from nlp_udfs.parallel import _split

    items = list(range(100))
    parts = _split(items, 3, 0.2)
    assert [len(part) for part in parts] == [20, 40, 40]
    assert [item for part in parts for item in part] == items
    assert [len(part) for part in _split(items, 2, 0.5)] == [50, 50]
    assert [len(part) for part in _split(items[:3], 3, 0.9)] == [3, 0, 0]


def test_share_balancer_moves_work_towards_the_faster_side():
    from nlp_udfs.parallel import ShareBalancer

    balancer = ShareBalancer()
    assert balancer.share(2) == 0.5
    for _ in range(30):  # this process enriches 1,000 texts/s, the worker 3,000
        balancer.observe(1000.0, [3000.0])
    assert abs(balancer.share(2) - 0.25) < 0.01
    balancer.observe(None, [3000.0])  # nothing measured: unchanged
    assert abs(balancer.share(2) - 0.25) < 0.01
    for _ in range(100):  # a stalled worker cannot push the share outside its bounds
        balancer.observe(1000.0, [1e-9])
    assert balancer.share(2) <= ShareBalancer.BOUNDS[1]


def test_enrichment_version_follows_what_decides_results_not_plumbing(tmp_path):
    """Incremental enrichment re-enriches history when the version changes: a lexicon, model or
    scoring-code edit must change it; an edit of batching or UDF plumbing must not."""
    import shutil
    from pathlib import Path

    import nlp_udfs
    from nlp_udfs.parallel import enrichment_fingerprint, fingerprint_of_package

    package = tmp_path / "nlp_udfs"
    shutil.copytree(Path(nlp_udfs.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__", "eval"))
    original = fingerprint_of_package(package, "rjieba")
    assert fingerprint_of_package(package, "rjieba") == original
    assert fingerprint_of_package(package, "jieba") != original  # another segmenter, other terms

    (package / "parallel.py").write_text((package / "parallel.py").read_text() + "\n# tuning\n")
    (package / "duckdb_functions.py").write_text((package / "duckdb_functions.py").read_text() + "\n")
    (package / "progress.py").write_text((package / "progress.py").read_text() + "\n")
    assert fingerprint_of_package(package, "rjieba") == original

    lexicon = package / "lexicons" / "negative.txt"
    lexicon.write_text(lexicon.read_text(encoding="utf-8") + "\n拉胯 -1.5\n", encoding="utf-8")
    after_lexicon = fingerprint_of_package(package, "rjieba")
    assert after_lexicon != original
    (package / "sentiment.py").write_text((package / "sentiment.py").read_text() + "\n")
    assert fingerprint_of_package(package, "rjieba") != after_lexicon
    assert len(enrichment_fingerprint()) == 32


def test_the_cyclic_gc_is_paused_only_while_a_batch_is_enriched(monkeypatch):
    import gc

    seen = []
    real_enrich = local.enrich
    monkeypatch.setattr(local, "enrich", lambda text, taxonomy: seen.append(gc.isenabled()) or real_enrich(text, taxonomy))
    assert gc.isenabled()
    rows = enrich_rows_local(["物流很快", None, "客服态度差"], None)
    assert len(rows) == 3 and seen == [False, False]
    assert gc.isenabled()  # restored after the batch

    def broken(text, taxonomy):
        raise RuntimeError("boom")

    monkeypatch.setattr(local, "enrich", broken)
    with pytest.raises(RuntimeError):
        enrich_rows_local(["物流很快"], None)
    assert gc.isenabled()  # restored after a failure too
    gc.disable()
    try:
        with parallel.cyclic_gc_paused():
            pass
        assert not gc.isenabled()  # a caller that had paused it keeps it paused
    finally:
        gc.enable()


def test_split_batches_from_several_threads_run_one_at_a_time(monkeypatch):
    """DuckDB calls the UDF from a thread per row group; their split batches must not overlap
    (an overlapping one would find the workers busy and crowd this process)."""
    import threading
    import time

    running, most = [0], [0]
    guard = threading.Lock()

    def split(operation, texts, taxonomy_json, processes):
        with guard:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with guard:
            running[0] -= 1
        return [(text,) for text in texts]

    monkeypatch.setattr(parallel, "_run_split", split)
    monkeypatch.setattr(parallel, "worker_count", lambda: 2)
    texts = [f"文本{i}" for i in range(parallel.PARALLEL_MIN_TEXTS)]
    results = [None] * 4

    def call(slot):
        results[slot] = parallel._enrich_distinct(texts, None)

    threads = [threading.Thread(target=call, args=(slot,)) for slot in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1
    assert all(result == [(text,) for text in texts] for result in results)


def test_config_comes_from_text_values_with_defaults_for_empty_ones():
    assert NlpConfig.from_strings({}) == NlpConfig()
    assert NlpConfig.from_strings({"segmenter": "", "sentiment_model": "", "workers": "", "cache_size": ""}) == NlpConfig()
    configured = NlpConfig.from_strings({"segmenter": " JIEBA ", "sentiment_model": "off", "workers": "3", "cache_size": "0"})
    assert configured == NlpConfig(segmenter="jieba", sentiment_model=False, workers=3, cache_size=0)
    assert NlpConfig.from_strings({"TimeZone": "UTC", "memory_limit": "2GB"}) == NlpConfig()  # dbt-duckdb's fallback


def test_configure_switches_the_model_and_the_cache_size(nlp_config):
    from nlp_udfs.model import default_pair

    assert default_pair() is not None and parallel.result_cache.size == config.DEFAULT_CACHE_SIZE
    nlp_config(NlpConfig(sentiment_model=False, cache_size=0))
    assert default_pair() is None and default_model() is None
    assert parallel.result_cache.size == 0
    parallel.result_cache.put_many("k", ["x"], [("row",)])
    assert parallel.result_cache.get_many("k", ["x"]) == [None]


def test_workers_run_under_the_parents_configuration(monkeypatch, nlp_config):
    nlp_config(NlpConfig(workers=2, sentiment_model=False, cache_size=0))
    monkeypatch.setattr(parallel, "PARALLEL_MIN_TEXTS", 2)
    texts = [f"第{i}次买，等了五六天" for i in range(20)]
    try:
        rows = enrich_rows(texts, _seed_json())
    finally:
        parallel.shutdown_pool()
    assert rows == enrich_rows_local(texts, _seed_json())  # both lexicon only
