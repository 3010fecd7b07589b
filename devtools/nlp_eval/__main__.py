"""``python -m devtools.nlp_eval [--data CSV] [--show-errors N] [--masking SETS]``: print the
evaluation report, then leave-one-domain-out sentiment on the public corpora (``lodo.py``; the
held-out domain's dev half), then the PII masking figures (recall per kind, near-misses masked) on
the PII sets: by default the dev set (labelled as dev) and the held-out eval set; then the
real-text tag figures on the public corpora (``realtext_eval``). The corpus parts are skipped with
the reason when the corpora are absent; ``--read-test-split`` scores their test splits instead
(read once, at the end of a round)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from devtools.corpora import DEFAULT_CORPUS_DIR, CorpusMissing

from .lodo import format_lodo, leave_one_domain_out
from .masking import MASKING_SETS, format_masking, masking_figures, set_path
from .realtext_eval import add_real_text_arguments, print_real_text
from .report import DEFAULT_EVAL_PATH, evaluate_file, format_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.nlp_eval", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_EVAL_PATH, help="labelled CSV (default: the eval set)")
    parser.add_argument("--show-errors", type=int, default=0, metavar="N", help="also list N wrong items")
    parser.add_argument(
        "--masking",
        default=",".join(MASKING_SETS),
        metavar="SETS",
        help="comma-separated PII sets for the masking figures: dev, eval or CSV paths ('' for none; default: dev,eval)",
    )
    parser.add_argument("--no-nlp", action="store_true", help="only the masking figures")
    add_real_text_arguments(parser)
    parser.add_argument("--no-lodo", action="store_true", help="skip leave-one-domain-out sentiment")
    args = parser.parse_args(argv)
    if not args.no_nlp and not args.real_text_only:
        result = evaluate_file(args.data)
        print(format_report(result, show_errors=args.show_errors))
    if not args.no_nlp and not args.real_text_only and not args.no_lodo:
        part = "test" if args.read_test_split else "dev"
        print()
        try:
            print(format_lodo(leave_one_domain_out(args.corpus_dir or DEFAULT_CORPUS_DIR, part), part))
        except CorpusMissing as missing:
            print(f"LEAVE-ONE-DOMAIN-OUT SENTIMENT skipped: {missing}")
    print_real_text(args)
    for name in () if args.real_text_only else filter(None, (part.strip() for part in args.masking.split(","))):
        print()
        print(format_masking(masking_figures(name, set_path(name))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
