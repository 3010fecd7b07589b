"""False alarms of the root-cause verdicts: demo data WITHOUT planted signals, several seeds.

    python -m devtools.root_cause_false_alarms --seeds 1,2,3,4,5 --rows 2500

For each seed: generate the demo with plant_signals=False, run the whole pipeline into a
temporary warehouse, and count the episodes of marts.root_cause_verdicts by verdict. Data without
a planted signal has no local problem, so every `local` verdict is a false alarm. This measures;
it does not pass or fail (docs/root-cause.md quotes the figures).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import click
import duckdb


def measure_seed(seed: int, rows: int, root: Path) -> dict:
    """Generate without signals, run the pipeline, and return the verdict counts of one seed."""
    import dagster as dg

    from devtools.demo.api import generate
    from orchestration.pipeline_run import run_everything
    from orchestration.settings import VocSettings

    settings = VocSettings(landing_dir=root / "landing", warehouse_path=root / "warehouse" / "voc.duckdb")
    generate(settings.landing_dir, rows=rows, seed=seed, plant_signals=False)
    started = time.perf_counter()
    result = run_everything(settings, instance=dg.DagsterInstance.ephemeral(), log_level="ERROR")
    if not result.success:
        raise RuntimeError(f"seed {seed}: the pipeline failed")
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        counts = dict(connection.execute(
            "select verdict, count(*) from marts.root_cause_verdicts group by verdict").fetchall())
        local = connection.execute(
            "select episode_key, local_cells, local_share_of_excess, local_max_q_value "
            "from marts.root_cause_verdicts where verdict = 'local' order by episode_key").fetchall()
        spikes = connection.execute("select count(*) from marts.root_cause_verdicts where is_spike").fetchone()[0]
        cells = connection.execute("select count(*) from marts.root_cause").fetchone()[0]
    return {"seed": seed, "rows": rows, "spike_episodes": spikes, "cells_tested": cells, "verdicts": counts,
            "local": [list(row) for row in local], "pipeline_seconds": round(time.perf_counter() - started, 1)}


@click.command()
@click.option("--seeds", default="1,2,3,4,5", show_default=True, help="Comma-separated seeds.")
@click.option("--rows", type=int, default=2500, show_default=True, help="Demo rows per seed.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Also write the results as JSON here.")
def main(seeds: str, rows: int, out: Path | None) -> None:
    results = []
    for seed in (int(s) for s in seeds.split(",") if s.strip()):
        with tempfile.TemporaryDirectory(prefix=f"voc-false-alarms-{seed}-") as folder:
            result = measure_seed(seed, rows, Path(folder))
        results.append(result)
        click.echo(json.dumps(result, ensure_ascii=False))
    spikes = sum(r["spike_episodes"] for r in results)
    local = sum(len(r["local"]) for r in results)
    click.echo(f"{len(results)} seeds x {rows} rows without signals: {local} local verdicts "
               f"among {spikes} spike episodes")
    if out:
        out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
