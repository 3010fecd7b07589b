"""``python -m devtools.pii_eval --masker MODULE:FUNCTION [--data dev|eval|CSV] [--show-errors N]``

Mask every row of the set with ``FUNCTION(text) -> str`` and print, per kind, how many rows the
masker got right (PII caught; near-miss left unchanged). The default set is ``dev``: the eval set
is held out and read once per round (README.md).
"""

from __future__ import annotations

import argparse
import csv
import importlib
import sys
from collections.abc import Callable
from pathlib import Path

from .judge import KINDS, Score, score

HERE = Path(__file__).parent
SETS = {"dev": HERE / "dev.csv", "eval": HERE / "eval.csv"}


def load_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def load_masker(spec: str) -> Callable[[str], str]:
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise SystemExit(f"--masker wants MODULE:FUNCTION, got {spec!r}")
    return getattr(importlib.import_module(module), attr)


def format_report(result: Score, rows: list[dict[str, str]], show_errors: int = 0) -> str:
    lines = [f"{'kind':<10} {'right':>5} {'total':>5} {'rate':>7}"]
    for kind in KINDS:
        if result.total.get(kind):
            lines.append(f"{kind:<10} {result.right.get(kind, 0):>5} {result.total[kind]:>5} {result.rate(kind):>7.1%}")
    lines.append(f"PII caught (all kinds but near_miss): {result.pii_recall:.1%}")
    lines.append(f"near-misses changed: {result.near_miss_changed:.1%}")
    if show_errors:
        by_id = {row["id"]: row for row in rows}
        wrong = [by_id[i] for ids in result.wrong_ids.values() for i in ids][:show_errors]
        lines.append("")
        lines.extend(f"{row['id']} {row['kind']}: {row['text']}" for row in wrong)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.pii_eval", description=__doc__)
    parser.add_argument("--masker", required=True, help="MODULE:FUNCTION taking a text and returning it masked")
    parser.add_argument("--data", default="dev", help="dev, eval or a CSV path (default: dev)")
    parser.add_argument("--show-errors", type=int, default=0, metavar="N", help="also list N wrong rows")
    args = parser.parse_args(argv)
    rows = load_rows(SETS.get(args.data) or Path(args.data))
    result = score(rows, load_masker(args.masker))
    print(format_report(result, rows, show_errors=args.show_errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
