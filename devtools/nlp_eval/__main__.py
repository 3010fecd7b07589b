"""``python -m devtools.nlp_eval [--data CSV] [--show-errors N]``: print the evaluation report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .report import DEFAULT_EVAL_PATH, evaluate_file, format_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.nlp_eval", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_EVAL_PATH, help="labelled CSV (default: the eval set)")
    parser.add_argument("--show-errors", type=int, default=0, metavar="N", help="also list N wrong items")
    args = parser.parse_args(argv)
    result = evaluate_file(args.data)
    print(format_report(result, show_errors=args.show_errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
