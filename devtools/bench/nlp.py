"""``python -m devtools.bench.nlp``: time segmentation and the full enrichment on demo texts.

Stages, all on the same texts in one run:

1. plain ``jieba.lcut`` per row on one core (jieba's default dictionary): the yardstick;
2. ``nlp_udfs.segment`` per row on one core (the configured backend, rjieba by default, with
   the taxonomy user dictionary), plus how often its tokens equal Python jieba's with the
   same user dictionary;
3. the full enrichment (clean, mask, segment, sentiment, tags with evidence, risk, terms) as a
   batched Python step over Arrow record batches (``duckdb_functions.enrich_batch``);
4. the same through DuckDB's ``voc_enrich`` Arrow UDF, exactly as dbt runs it (the result is
   streamed into an aggregate, not kept), the taxonomy passed as its short handle.

Prints rows/s per stage, the ratio full-enrichment / plain-jieba, the share of distinct texts
and the peak resident memory (main process and worker processes) after a quarter of the rows
and after all of them: flat memory means the second figure is not four times the first.
"""

from __future__ import annotations

import argparse
import logging
import math
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

TEXTS_PER_DEMO_ROW = 1.3  # the demo generator yields ~1.37 customer texts per feedback row
AGREEMENT_SAMPLE = 20_000


def peak_rss_mib() -> tuple[float, float]:
    """(peak RSS of this process, peak RSS of the largest finished/waited child) in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def current_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_texts(rows: int, landing: Path | None, seed: int) -> list[str]:
    """``rows`` customer texts from ``landing`` or from a freshly generated demo landing."""
    from devtools.bench.nlp_data import landing_texts

    if landing is not None:
        texts = landing_texts(landing, rows)
    else:
        from devtools.demo.api import generate

        with tempfile.TemporaryDirectory(prefix="voc-bench-") as folder:
            generate(Path(folder), rows=math.ceil(rows / TEXTS_PER_DEMO_ROW), seed=seed)
            texts = landing_texts(Path(folder), rows)
    if len(texts) < rows:
        raise SystemExit(f"only {len(texts)} texts available, {rows} asked")
    return texts


def time_per_row(function, texts: list[str]) -> float:
    """Rows per second of ``function`` called once per text."""
    start = time.perf_counter()
    for text in texts:
        function(text)
    return len(texts) / (time.perf_counter() - start)


def plain_jieba():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba.lcut


def segmentation_agreement(texts: list[str]) -> float:
    """Share of texts whose tokens from the configured backend equal Python jieba's (same user dictionary)."""
    from nlp_udfs.segmentation import base_user_words, ensure_taxonomy_words, new_tokenizer, segment
    from nlp_udfs.taxonomy import Taxonomy
    from orchestration.settings import TAXONOMY_SEED_PATH

    taxonomy = Taxonomy.from_csv(TAXONOMY_SEED_PATH)
    ensure_taxonomy_words(taxonomy)  # as enrichment does before it segments
    reference = new_tokenizer("jieba")
    for word in sorted(base_user_words() | taxonomy.user_words()):
        reference.add_word(word)
    same = sum(
        1 for text in texts
        if segment(text) == [token for token in reference.lcut(text) if not token.isspace()]
    )
    return same / len(texts)


def enrich_through_duckdb(texts: list[str]) -> tuple[float, int]:
    """Rows/s of ``voc_enrich`` over ``texts`` in DuckDB, and the number of tags found."""
    import duckdb
    import pyarrow as pa

    from nlp_udfs.duckdb_functions import register_functions
    from orchestration.settings import TAXONOMY_SEED_PATH

    connection = duckdb.connect()
    register_functions(connection)
    connection.execute("create table taxonomy as select * from read_csv(?, all_varchar = true)", [str(TAXONOMY_SEED_PATH)])
    feedback = pa.table({"body": pa.array(texts, type=pa.string())})  # noqa: F841 - read by DuckDB
    connection.execute("create table feedback as select body from feedback")
    # as the dbt macro taxonomy_handle does: the document is registered once, rows carry its handle
    taxonomy_json = "(select voc_taxonomy_handle(cast(to_json(list(t order by tag)) as varchar)) from taxonomy t)"
    start = time.perf_counter()
    total_tags = connection.execute(
        f"select sum(len(e.tags)) from (select voc_enrich(body, {taxonomy_json}) as e from feedback)"
    ).fetchone()[0]
    elapsed = time.perf_counter() - start
    connection.close()
    return len(texts) / elapsed, int(total_tags or 0)


def enrich_in_arrow_batches(texts: list[str], batch_rows: int = 8192) -> float:
    """Rows/s of the same enrichment as a batched Python step over Arrow record batches (what
    ``voc_enrich`` does per DuckDB chunk, without DuckDB in between)."""
    import pyarrow as pa

    from nlp_udfs.duckdb_functions import enrich_batch
    from orchestration.settings import TAXONOMY_SEED_PATH

    taxonomy_json = taxonomy_json_of_seed(TAXONOMY_SEED_PATH)
    table = pa.table({"body": pa.array(texts, type=pa.string())})
    start = time.perf_counter()
    for batch in table.to_batches(max_chunksize=batch_rows):
        column = batch.column(0).to_pylist()
        enrich_batch(column, [taxonomy_json] * len(column))
    return len(texts) / (time.perf_counter() - start)


def taxonomy_json_of_seed(path: Path) -> str:
    """The seed as the JSON array the dbt macro hands to ``voc_enrich``."""
    import csv
    import json

    with open(path, encoding="utf-8", newline="") as handle:
        return json.dumps(list(csv.DictReader(handle)), ensure_ascii=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.nlp", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000, help="number of texts (default 200000)")
    parser.add_argument("--landing", type=Path, default=None, help="read texts from this landing folder instead of generating")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    from nlp_udfs.parallel import shutdown_pool, worker_count
    from nlp_udfs.segmentation import backend_name, segment

    texts = bench_texts(args.rows, args.landing, args.seed)
    distinct = len(set(texts))
    print(f"texts: {len(texts)} ({distinct / len(texts):.1%} distinct), mean length "
          f"{sum(map(len, texts)) / len(texts):.1f} chars, processes for enrichment: {worker_count()}")

    jieba_rate = time_per_row(plain_jieba(), texts)
    print(f"1. plain jieba.lcut, one core:         {jieba_rate:10,.0f} rows/s")

    segment("预热")
    segment_rate = time_per_row(segment, texts)
    agreement = segmentation_agreement(texts[:AGREEMENT_SAMPLE])
    print(f"2. segment() [{backend_name()}], one core:     {segment_rate:10,.0f} rows/s"
          f"   ({segment_rate / jieba_rate:.1f}x jieba; identical tokens to jieba on {agreement:.1%} of "
          f"{min(AGREEMENT_SAMPLE, len(texts))} texts)")

    from nlp_udfs.parallel import result_cache

    batched_rate = enrich_in_arrow_batches(texts)
    print(f"3. full enrichment, batched Python step over Arrow batches: {batched_rate:10,.0f} rows/s"
          f"   ({batched_rate / jieba_rate:.2f}x plain jieba)")
    result_cache.clear()  # the DuckDB run starts cold too

    quarter = texts[: max(1, len(texts) // 4)]
    quarter_rate, _ = enrich_through_duckdb(quarter)
    rss_quarter = (current_rss_mib(), *peak_rss_mib())
    result_cache.clear()  # the full run starts cold as well
    full_rate, tags = enrich_through_duckdb(texts)
    shutdown_pool()
    rss_full = (current_rss_mib(), *peak_rss_mib())
    print(f"4. full enrichment, voc_enrich UDF in DuckDB as dbt runs it: {full_rate:10,.0f} rows/s   ({tags:,} tags; "
          f"{quarter_rate:,.0f} rows/s on the first quarter, cold)")
    print(f"ratio full enrichment / plain jieba.lcut: batched step {batched_rate / jieba_rate:.2f}x, "
          f"DuckDB UDF {full_rate / jieba_rate:.2f}x  (target >= 3x)")
    print(f"peak RSS after {len(quarter):,} rows: main {rss_quarter[1]:.0f} MiB; after {len(texts):,} rows: "
          f"main {rss_full[1]:.0f} MiB, largest worker {rss_full[2]:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
