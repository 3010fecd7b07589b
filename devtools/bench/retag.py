"""The re-tag stage of ``devtools.bench.pipeline``: what a taxonomy edit costs after a full run.

A business user who edits ``taxonomy.csv`` should pay for the tag matching over history, not for
a new analysis of every text (issue 16: <= 25% of the full enrichment's time at 1M rows). After
the benchmark's runs, this copies the dbt project (the repository's seed stays untouched), edits
the copy's taxonomy seed and runs the pipeline's ``dbt build`` from the copy on the same
warehouse, twice:

* ``keyword``: one new keyword on the first tag. Its words enter jieba's user dictionary, so the
  hot terms are segmented again as well as the tags matched;
* ``veto``: one new veto word on the first tag. No dictionary word changes: tags only.

The enrichment's time in a build is the wall time its models cover (``ENRICHMENT_MODELS``,
overlapping spans counted once: dbt runs two threads, and the tags and the terms may run side by
side), read from dbt's run_results.json; the ratio is that time over the full run's.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from orchestration.settings import DBT_PROJECT_DIR

if TYPE_CHECKING:
    from devtools.bench.pipeline import Workspace

ENRICHMENT_MODELS = (
    "int_feedback__text_analysis",
    "int_feedback__text_tags",
    "int_feedback__text_terms",
    "int_feedback__enriched",
)
ENRICHMENT_NODES = tuple(f"model.voc.{name}" for name in ENRICHMENT_MODELS)
BENCH_KEYWORD = "包装压得稀烂"  # not in the seed: a new word for jieba's user dictionary
BENCH_VETO = "只是开玩笑"
VARIANTS = ("keyword", "veto")


def union_seconds(spans: list[tuple[float, float]]) -> float:
    """Seconds covered by the spans, overlaps counted once."""
    covered, end = 0.0, float("-inf")
    for start, stop in sorted(spans):
        if stop <= end:
            continue
        covered += stop - max(start, end)
        end = stop
    return covered


def enrichment_spans(run_results: dict) -> dict[str, tuple[float, float]]:
    """(start, end) of each enrichment model that ran in a dbt invocation."""
    from devtools.bench.pipeline import node_span

    ran = {result["unique_id"] for result in run_results["results"]}
    return {node.split(".")[-1]: node_span(run_results, node) for node in ENRICHMENT_NODES if node in ran}


def edit_seed(seed: Path, variant: str) -> None:
    """One business edit of the first tag of ``seed``: a new keyword or a new veto word."""
    with open(seed, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    column, word = ("keywords", BENCH_KEYWORD) if variant == "keyword" else ("negative_keywords", BENCH_VETO)
    rows[0][column] = "|".join(part for part in (rows[0][column], word) if part)
    with open(seed, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def copy_project(target: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(DBT_PROJECT_DIR, target, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    return target


def retag_build(workspace: Workspace, project: Path, variant: str) -> dict:
    """Edit the copy's seed (``variant``) and run the pipeline's dbt build from the copy; the
    enrichment models' seconds, the build's, and the peak memory of its process tree."""
    from devtools.bench.pipeline import MIB, dbt_command, run_sampled
    from orchestration.project import DBT_PIPELINE_BUILD_ARGS

    edit_seed(project / "seeds" / "taxonomy.csv", variant)
    command = dbt_command(workspace, *DBT_PIPELINE_BUILD_ARGS)
    command[command.index(str(DBT_PROJECT_DIR))] = str(project)  # --project-dir
    command[command.index(str(DBT_PROJECT_DIR))] = str(project)  # --profiles-dir
    seconds, memory = run_sampled(f"dbt build retag {variant}", command, workspace)
    run_results = json.loads((workspace.dbt_target / "run_results.json").read_text("utf-8"))
    spans = enrichment_spans(run_results)
    return {
        "build_s": round(seconds, 3),
        "enrichment_s": round(union_seconds(list(spans.values())), 3),
        "models_s": {name: round(end - start, 3) for name, (start, end) in spans.items()},
        "peak_mib": round(memory.peak / MIB, 1),
    }


def retag_stages(workspace: Workspace, full_enrichment_s: float) -> dict:
    """Both variants in order (the veto lands on top of the keyword), printed as they finish."""
    project = copy_project(workspace.root / "retag_dbt_project")
    figures: dict = {"full_enrichment_s": round(full_enrichment_s, 3)}
    print(f"\n== re-tag: taxonomy edits after the runs above (full enrichment {full_enrichment_s:.2f}s) ==")
    print(f"  {'edit':10} {'enrich s':>9} {'ratio':>7} {'analysis':>9} {'tags':>7} {'terms':>7} {'build s':>8} {'peak MiB':>9}")
    for variant in VARIANTS:
        result = retag_build(workspace, project, variant)
        ratio = result["enrichment_s"] / full_enrichment_s if full_enrichment_s > 0 else 0.0
        result["over_full_enrichment"] = round(ratio, 4)
        models = result["models_s"]
        print(f"  {variant:10} {result['enrichment_s']:9.2f} {ratio:7.1%} "
              f"{models.get('int_feedback__text_analysis', 0.0):9.2f} {models.get('int_feedback__text_tags', 0.0):7.2f} "
              f"{models.get('int_feedback__text_terms', 0.0):7.2f} {result['build_s']:8.2f} {result['peak_mib']:9.0f}",
              flush=True)
        figures[variant] = result
    print("  (ratio = enrichment models' wall time / the full run's; target <= 25% at 1M rows)")
    return figures
