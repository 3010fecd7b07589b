"""Tests of the pipeline benchmark (devtools/bench/pipeline.py) on a small run.

One full benchmark on 1,500 rows (about three minutes): its JSON figures must cover every stage
of both runs, and the warehouse it leaves behind must hold the increment's new feedback.
"""

from __future__ import annotations

import json
import sys

import duckdb
import pytest

from devtools.bench import pipeline as bench

ROWS = 1500


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """(figures, workspace) of one benchmark run kept in a temp work folder."""
    workdir = tmp_path_factory.mktemp("bench") / "work"
    capture = pytest.MonkeyPatch()
    lines: list[str] = []
    # the figures are the last line bench prints; stage and dbt output goes to logs or subprocesses
    capture.setattr("builtins.print", lambda *args, **kwargs: lines.append(" ".join(map(str, args))))
    try:
        assert bench.main(["--rows", str(ROWS), "--nlp-rows", "300", "--workdir", str(workdir)]) == 0
    finally:
        capture.undo()
    return json.loads(lines[-1]), bench.Workspace(workdir)


@pytest.mark.e2e
def test_every_stage_has_time_rows_and_memory(run):
    figures, _ = run
    assert list(figures["full"]) == list(bench.FULL_STAGES)
    assert list(figures["incremental"]) == list(bench.INCREMENTAL_STAGES)
    for part in ("full", "incremental"):
        for stage, values in figures[part].items():
            assert values["seconds"] > 0 and values["rows"] > 0 and values["rows_per_s"] > 0, (part, stage)
            assert values["peak_mib"] > 10, (part, stage)  # a Python process tree, not nothing
    assert set(figures["full"]["dlt load"]["steps"]) == {"extract", "normalize", "load"}
    assert all(seconds > 0 for seconds in figures["full"]["dlt load"]["steps"].values())
    assert figures["full_total_s"] == pytest.approx(sum(v["seconds"] for v in figures["full"].values()), abs=0.01)
    assert figures["plain_jieba"]["texts"] > ROWS and figures["plain_jieba"]["seconds"] > 0
    assert figures["pipeline_over_plain_jieba"] == pytest.approx(
        figures["full_total_without_generate_s"] / figures["plain_jieba"]["seconds"], rel=1e-2)
    assert figures["incremental_over_full"] == pytest.approx(
        figures["incremental_total_s"] / figures["full_total_without_generate_s"], rel=1e-2)
    assert figures["publish_share_of_full"] == pytest.approx(
        figures["full"]["publish"]["seconds"] / figures["full_total_without_generate_s"], rel=1e-2)


@pytest.mark.e2e
def test_increment_reaches_the_marts(run):
    figures, workspace = run
    families = figures["increment"]["families"]
    assert set(families) == {"surveys", "tickets", "reviews", "social"}
    assert figures["increment"]["rows"] == sum(c["new"] + c["changed"] for c in families.values())
    assert all(c["new"] > 0 and c["changed"] > 0 for c in families.values())
    new_items = sum(c["new_feedback_items"] for c in families.values())
    with duckdb.connect(str(workspace.warehouse), read_only=True) as con:
        (after,) = con.execute("select count(*) from marts.fct_feedback").fetchone()
        (newest,) = con.execute("select max(created_date) from marts.fct_feedback").fetchone()
    assert after == figures["full"]["dbt models"]["rows"] + new_items
    assert str(newest) == "2026-11-16"  # the increment's day, after the generated window
    # the incremental run's publication is current and holds the increment too
    from orchestration.publish.publication import current_publication

    publication = current_publication(workspace.root / "published")
    assert publication.rows["fct_feedback"] == after
    assert figures["incremental"]["publish"]["rows"] == sum(publication.rows.values())


def test_the_enrichment_span_splits_the_dbt_build():
    """The NLP stage is the enrichment node's compile-to-execute span; memory splits at it."""
    def node(unique_id, start, end):
        return {"unique_id": unique_id, "timing": [
            {"name": "compile", "started_at": f"2026-12-01T10:00:{start:02d}.000000Z",
             "completed_at": f"2026-12-01T10:00:{start:02d}.500000Z"},
            {"name": "execute", "started_at": f"2026-12-01T10:00:{start:02d}.500000Z",
             "completed_at": f"2026-12-01T10:00:{end:02d}.000000Z"}]}

    results = {"results": [node("model.voc.stg_x", 1, 3), node(bench.ENRICHED_NODE, 3, 9),
                           {"unique_id": "model.voc.skipped", "timing": []}]}
    start, end = bench.node_span(results, bench.ENRICHED_NODE)
    assert end - start == pytest.approx(6.0)
    samples = [(start - 1, 100 * bench.MIB), (start + 2, 700 * bench.MIB), (end + 1, 300 * bench.MIB)]
    assert bench.split_peak(samples, (start, end)) == (700, 300)
    with pytest.raises(RuntimeError, match="no timing"):
        bench.node_span(results, "model.voc.skipped")


def test_peak_memory_counts_the_whole_process_tree(tmp_path):
    """A parent that only waits for a child holding 300 MiB: the child's memory must be counted."""
    child = "b = bytearray(300 * 2**20); import time; time.sleep(1.0)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}], check=True)"
    seconds, peak = bench.run_measured("tree", [sys.executable, "-c", parent], bench.Workspace(tmp_path))
    assert seconds >= 1.0
    assert peak >= 300


def test_a_failing_stage_raises_with_its_log(tmp_path):
    with pytest.raises(RuntimeError, match="exit 3"):
        bench.run_measured("boom", [sys.executable, "-c", "print('broken'); raise SystemExit(3)"], bench.Workspace(tmp_path))
