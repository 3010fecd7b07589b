"""Snapshot the marts of a warehouse and compare two snapshots, column by column.

Used to show that a refactoring leaves the marts unchanged::

    python -m devtools.compare_marts snapshot data/warehouse/voc.duckdb /tmp/before
    ... change the code, make run again ...
    python -m devtools.compare_marts snapshot data/warehouse/voc.duckdb /tmp/after
    python -m devtools.compare_marts diff /tmp/before /tmp/after

A snapshot is one Parquet file per mart, rows in a canonical order (every column, as text), so two
runs of the same data compare equal whatever order the engine wrote them in.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

SCHEMA = "marts"


def snapshot(warehouse: Path, out_dir: Path) -> list[str]:
    """Write every table of the marts schema to ``out_dir/<table>.parquet``; returns the names."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        tables = [row[0] for row in conn.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1", [SCHEMA],
        ).fetchall()]
        for table in tables:
            target = out_dir / f"{table}.parquet"
            conn.execute(
                f"copy (select * from {SCHEMA}.\"{table}\" order by all) to '{target}' (format parquet)"
            )
    return tables


def _columns(conn: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    return [row[0] for row in conn.execute(f"describe select * from read_parquet('{path}')").fetchall()]


def _comparable(conn: duckdb.DuckDBPyConnection, path: Path, columns: list[str]) -> str:
    """Select list with floating-point columns printed to 10 significant digits: parallel sums
    differ in the last bits from run to run."""
    types = {name: kind for name, kind, *_ in conn.execute(f"describe select * from read_parquet('{path}')").fetchall()}
    return ", ".join(
        f"printf('%.10g', \"{c}\") as \"{c}\"" if types[c] in ("DOUBLE", "FLOAT") else f'"{c}"'
        for c in columns
    )


def diff(before: Path, after: Path) -> list[str]:
    """Lines describing every difference: marts added or gone, columns added or gone, and per
    shared column the number of rows whose value differs (rows matched by position after sorting
    on the shared columns)."""
    lines: list[str] = []
    names_before = {p.stem for p in before.glob("*.parquet")}
    names_after = {p.stem for p in after.glob("*.parquet")}
    for name in sorted(names_before - names_after):
        lines.append(f"{name}: mart gone")
    for name in sorted(names_after - names_before):
        lines.append(f"{name}: new mart")
    conn = duckdb.connect()
    for name in sorted(names_before & names_after):
        old, new = before / f"{name}.parquet", after / f"{name}.parquet"
        cols_old, cols_new = _columns(conn, old), _columns(conn, new)
        shared = [c for c in cols_old if c in cols_new]
        for col in cols_old:
            if col not in cols_new:
                lines.append(f"{name}.{col}: column gone")
        for col in cols_new:
            if col not in cols_old:
                lines.append(f"{name}.{col}: new column")
        n_old = conn.execute(f"select count(*) from read_parquet('{old}')").fetchone()[0]
        n_new = conn.execute(f"select count(*) from read_parquet('{new}')").fetchone()[0]
        if n_old != n_new:
            lines.append(f"{name}: {n_old} rows before, {n_new} after")
        sel_old, sel_new = _comparable(conn, old, shared), _comparable(conn, new, shared)
        only_old = conn.execute(
            f"select count(*) from (select {sel_old} from read_parquet('{old}') except all select {sel_new} from read_parquet('{new}'))"
        ).fetchone()[0]
        if only_old:
            # a column whose multiset of values changed; rows are not matched, so a change that
            # only swaps values between rows goes unnamed
            changed = [
                col for col in shared
                if conn.execute(
                    f"select count(*) from (select {_comparable(conn, old, [col])} from read_parquet('{old}') "
                    f"except all select {_comparable(conn, new, [col])} from read_parquet('{new}'))"
                ).fetchone()[0]
            ]
            lines.append(f"{name}: {only_old} of {n_old} rows differ" + (f" (in {', '.join(changed)})" if changed else ""))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    snap = sub.add_parser("snapshot", help="write the marts of a warehouse to Parquet")
    snap.add_argument("warehouse", type=Path)
    snap.add_argument("out_dir", type=Path)
    cmp_ = sub.add_parser("diff", help="compare two snapshots")
    cmp_.add_argument("before", type=Path)
    cmp_.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "snapshot":
        tables = snapshot(args.warehouse, args.out_dir)
        print(f"{len(tables)} marts written to {args.out_dir}")
        return 0
    lines = diff(args.before, args.after)
    print("\n".join(lines) if lines else "no differences")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
