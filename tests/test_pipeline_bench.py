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
from devtools.bench import retag

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
    # dlt's own steps, the stage process's start-up and the pipelines' set-up outside dlt's steps
    assert set(figures["full"]["dlt load"]["steps"]) == {"start-up", "pipeline set-up", "extract", "normalize", "load"}
    steps = figures["full"]["dlt load"]["steps"]
    assert all(steps[step] > 0 for step in ("extract", "normalize", "load")), steps
    assert steps["start-up"] >= 0 and steps["pipeline set-up"] >= 0, steps  # the set-up is what is left over
    assert figures["full_total_s"] == pytest.approx(sum(v["seconds"] for v in figures["full"].values()), abs=0.01)
    assert figures["plain_jieba"]["texts"] > ROWS and figures["plain_jieba"]["seconds"] > 0
    assert figures["pipeline_over_plain_jieba"] == pytest.approx(
        figures["full_total_without_generate_s"] / figures["plain_jieba"]["seconds"], rel=1e-2)
    assert figures["incremental_over_full"] == pytest.approx(
        figures["incremental_total_s"] / figures["full_total_without_generate_s"], rel=1e-2)
    assert figures["publish_share_of_full"] == pytest.approx(
        figures["full"]["publish"]["seconds"] / figures["full_total_without_generate_s"], rel=1e-2)


@pytest.mark.e2e
def test_the_retag_stage_times_the_enrichment_after_taxonomy_edits(run):
    """Both edits rebuild the tags; only the new keyword re-segments the terms."""
    figures, workspace = run
    retagged = figures["retag"]
    assert retagged["full_enrichment_s"] == figures["full"]["nlp enrichment"]["seconds"]
    for variant in retag.VARIANTS:
        result = retagged[variant]
        assert set(result["models_s"]) == set(retag.ENRICHMENT_MODELS), variant
        assert 0 < result["enrichment_s"] <= result["build_s"]
        assert result["over_full_enrichment"] == pytest.approx(
            result["enrichment_s"] / retagged["full_enrichment_s"], rel=1e-2)
    with duckdb.connect(str(workspace.warehouse), read_only=True) as con:
        versions = con.execute("select count(distinct enrichment_version) from intermediate.int_feedback__text_tags").fetchone()
    assert versions == (1,)  # all history re-tagged under the edited seed


@pytest.mark.e2e
def test_increment_reaches_the_marts(run):
    figures, workspace = run
    families = figures["increment"]["families"]
    assert set(families) == {"surveys", "tickets", "reviews", "social"}
    assert figures["increment"]["rows"] == sum(c["new"] + c["changed"] for c in families.values())
    assert all(c["new"] > 0 and c["changed"] > 0 for c in families.values())
    second = figures["second_increment"]["families"]
    assert figures["second_increment"]["rows"] == sum(c["new"] + c["changed"] for c in second.values()) > 0
    new_items = sum(c["new_feedback_items"] for increment in (families, second) for c in increment.values())
    with duckdb.connect(str(workspace.warehouse), read_only=True) as con:
        (after,) = con.execute("select count(*) from marts.fct_feedback").fetchone()
        (newest,) = con.execute("select max(created_date) from marts.fct_feedback").fetchone()
    # the stage-by-stage night and then the night as one Dagster run each added their increment
    assert after == figures["full"]["dbt models"]["rows"] + new_items
    assert str(newest) >= "2026-11-16"  # the increments' days, after the generated window
    # the last night's publication is current and holds both increments
    from orchestration.publish.publication import current_publication

    publication = current_publication(workspace.root / "published")
    assert publication.rows["fct_feedback"] == after


@pytest.mark.e2e
def test_the_night_as_one_dagster_run_is_split_by_stage(run):
    """The second night runs the Dagster job in one process: its wall time splits into the
    process's start-up, the job's steps by stage and Dagster's time between them."""
    figures, _ = run
    night = figures["night_job"]
    steps = night["steps"]
    assert set(steps) >= {"start-up", "dlt load", "dbt build", "checks", "publish", "between steps"}, steps
    assert all(steps[stage] > 0 for stage in ("start-up", "dlt load", "dbt build", "checks", "publish")), steps
    assert sum(steps.values()) == pytest.approx(night["seconds"], rel=1e-3)
    assert figures["night_job_s"] == pytest.approx(night["seconds"], abs=0.01)
    assert night["rows"] == figures["second_increment"]["rows"] and night["peak_mib"] > 10


def test_the_enrichment_spans_split_the_dbt_build():
    """The NLP stage is the time the enrichment nodes' compile-to-execute spans cover (overlaps
    once); memory splits at them."""
    def node(unique_id, start, end):
        return {"unique_id": unique_id, "timing": [
            {"name": "compile", "started_at": f"2026-12-01T10:00:{start:02d}.000000Z",
             "completed_at": f"2026-12-01T10:00:{start:02d}.500000Z"},
            {"name": "execute", "started_at": f"2026-12-01T10:00:{start:02d}.500000Z",
             "completed_at": f"2026-12-01T10:00:{end:02d}.000000Z"}]}

    analysis, tags, terms, view = retag.ENRICHMENT_NODES
    results = {"results": [node("model.voc.stg_x", 1, 3), node(analysis, 3, 9), node(tags, 9, 12),
                           node(terms, 9, 11), node(view, 14, 15), {"unique_id": "model.voc.skipped", "timing": []}]}
    start, end = bench.node_span(results, analysis)
    assert end - start == pytest.approx(6.0)
    spans = retag.enrichment_spans(results)
    assert set(spans) == set(retag.ENRICHMENT_MODELS)
    assert retag.union_seconds(list(spans.values())) == pytest.approx(10.0)  # 3-12 and 14-15
    samples = [(start - 1, 100 * bench.MIB), (start + 2, 700 * bench.MIB), (end + 4, 300 * bench.MIB),
               (end + 5.5, 500 * bench.MIB)]
    assert bench.split_peak(samples, list(spans.values())) == (700, 300)  # 500 MiB falls in the view's span
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


def test_the_retag_edits_add_one_keyword_then_one_veto_word(tmp_path):
    seed = tmp_path / "taxonomy.csv"
    seed.write_text("tag,keywords,negative_keywords,owner_team\na-b,物流慢|快递慢,,物流部\nc-d,客服,,客服\n", "utf-8")
    retag.edit_seed(seed, "keyword")
    retag.edit_seed(seed, "veto")
    lines = seed.read_text("utf-8").splitlines()
    assert lines[1] == f"a-b,物流慢|快递慢|{retag.BENCH_KEYWORD},{retag.BENCH_VETO},物流部"
    assert lines[2] == "c-d,客服,,客服"


def test_a_spark_workspace_shares_the_landing_and_names_its_lake_and_spark_warehouse(tmp_path):
    spark = bench.Workspace(tmp_path / "spark", engine="spark", landing_dir=tmp_path / "landing")
    env = spark.env()
    assert (env["VOC_ENGINE"], env["VOC_LANDING_DIR"]) == ("spark", str(tmp_path / "landing"))
    assert env["VOC_LAKE_DIR"] == str(tmp_path / "spark" / "lake")
    assert env["VOC_SPARK_WAREHOUSE_DIR"] == str(tmp_path / "spark" / "spark-warehouse")
    assert bench.dbt_command(spark, "build")[0].endswith("voc-spark-dbt")
    duck = bench.Workspace(tmp_path / "duckdb", landing_dir=tmp_path / "landing")
    assert duck.env()["VOC_ENGINE"] == "duckdb" and bench.dbt_command(duck, "build")[0].endswith("/dbt")
    # a view dbt kept in its metastore has no files: counted as fct_feedback's rows
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "spark" / "spark-warehouse" / "marts.db" / "fct_feedback"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"feedback_id": ["a", "b", "c"]}), folder / "part-0.parquet")
    assert bench.spark_table_count(spark, "fct_feedback") == 3
    assert bench.spark_table_count(spark, "int_feedback__enriched") == 3
