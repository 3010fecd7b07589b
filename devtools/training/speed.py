"""``python -m devtools.training.speed OLD_POLARITY OLD_GATE [NEW_POLARITY NEW_GATE]``: compare the
scoring speed of two model sets (default new set: the shipped files, review model included) in one
process. ``--old-review`` / ``--new-review`` name the whole-review models (none for the old set
unless given).

The texts are ``--rows`` generated demo texts (as ``make bench-nlp`` uses), cleaned and masked as
``enrich`` does. Each round scores them all with ``analyze_sentiment`` (clause memo cleared, so
every clause asks the models) and, separately, times the model lookup alone
(``ModelPair.logits`` over every distinct clause). The pairs take turns, ``--rounds`` times each,
so load on a shared machine hits both alike; the best round of each is reported with the ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from nlp_udfs.model import DEFAULT_GATE_PATH, DEFAULT_MODEL_PATH, DEFAULT_REVIEW_PATH, load_pair, normalise_for_model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.training.speed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old_polarity", type=Path)
    parser.add_argument("old_gate", type=Path)
    parser.add_argument("new_polarity", type=Path, nargs="?", default=DEFAULT_MODEL_PATH)
    parser.add_argument("new_gate", type=Path, nargs="?", default=DEFAULT_GATE_PATH)
    parser.add_argument("--old-review", type=Path, default=None)
    parser.add_argument("--new-review", type=Path, default=DEFAULT_REVIEW_PATH)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    from devtools.bench.nlp import bench_texts
    from nlp_udfs.clauses import split_clauses
    from nlp_udfs.pii import mask_pii
    from nlp_udfs.sentiment import analyze_sentiment, use_models
    from nlp_udfs.text_cleaning import clean_text

    raw = bench_texts(args.rows, None, args.seed)
    texts = [(mask_pii(cleaned), text) for text in raw if (cleaned := clean_text(text))]
    clauses = sorted({normalise_for_model(c.text) for masked, _ in texts for c in split_clauses(masked)})
    pairs = {"old": load_pair(args.old_polarity, args.old_gate, args.old_review),
             "new": load_pair(args.new_polarity, args.new_gate, args.new_review)}
    best: dict[str, list[float]] = {name: [float("inf"), float("inf")] for name in pairs}
    for _ in range(args.rounds):
        for name, pair in pairs.items():
            with use_models(pair):
                start = time.perf_counter()
                for masked, text in texts:
                    analyze_sentiment(masked, raw_text=text)
                best[name][0] = min(best[name][0], time.perf_counter() - start)
            logits = pair.logits
            start = time.perf_counter()
            for clause in clauses:
                logits(clause)
            best[name][1] = min(best[name][1], time.perf_counter() - start)
    for name in pairs:
        print(f"{name}: sentiment {len(texts) / best[name][0]:,.0f} texts/s; model lookup "
              f"{len(clauses) / best[name][1]:,.0f} clauses/s ({len(pairs[name]._paired):,} n-grams)")
    print(f"new/old rate: sentiment {best['old'][0] / best['new'][0]:.3f}, "
          f"model lookup {best['old'][1] / best['new'][1]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
