"""`voc`: generate demo data, run the pipeline, open the Dagster UI."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from orchestration.settings import VocSettings

DEFAULT_DEMO_ROWS = 20_000
DEFAULT_SEED = 42


@click.group()
def main() -> None:
    """Voice of Customer warehouse."""


@main.command()
@click.option("--landing", type=click.Path(path_type=Path), default=None, help="Landing folder (default VOC_LANDING_DIR or data/landing).")
@click.option("--rows", type=int, default=DEFAULT_DEMO_ROWS, show_default=True, help="Approximate number of feedback items.")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
@click.option("--end-date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Last day of the generated period.")
def generate(landing: Path | None, rows: int, seed: int, end_date) -> None:
    """Write demo landing files for all sources, with ground truth under <landing>/_truth/."""
    from loaders.demo_data import generate as generate_demo

    landing = landing or VocSettings.from_env().landing_dir
    kwargs = {"end_date": end_date.date()} if end_date else {}
    started = time.perf_counter()
    summary = generate_demo(landing, rows=rows, seed=seed, **kwargs)
    click.echo(f"Wrote demo data to {landing} in {time.perf_counter() - started:.1f}s")
    for source, counts in sorted((k, v) for k, v in summary.items() if isinstance(v, dict)):
        click.echo(f"  {source:<10} {counts}")


@main.command()
@click.option("--demo-rows", type=int, default=DEFAULT_DEMO_ROWS, show_default=True, help="Size of the demo data generated when the landing folder is empty.")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
def run(demo_rows: int, seed: int) -> None:
    """Run the whole pipeline once: all loads, all dbt models and tests, all checks."""
    from orchestration.pipeline_run import run_everything
    from orchestration.summary import summarize_warehouse

    settings = VocSettings.from_env()
    started = time.perf_counter()
    if not settings.landing_has_source_files():
        from loaders.demo_data import generate as generate_demo

        click.echo(f"{settings.landing_dir} holds no source files: generating {demo_rows:,} demo feedback items")
        generate_demo(settings.landing_dir, rows=demo_rows, seed=seed)
    result = run_everything(settings)
    elapsed = time.perf_counter() - started
    if not result.success:
        failed = [event.step_key for event in result.all_events if event.is_step_failure]
        click.echo(f"Pipeline FAILED after {elapsed:.0f}s in steps: {', '.join(sorted(set(failed)))}", err=True)
        sys.exit(1)
    click.echo(f"Pipeline finished in {elapsed:.0f}s")
    click.echo(summarize_warehouse(settings.duckdb_path).render())


@main.command()
@click.option("--port", type=int, default=3000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def ui(port: int, host: str) -> None:
    """Start the Dagster UI (dagster dev) on this project and warehouse."""
    settings = VocSettings.from_env()
    settings.export()
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    dagster = Path(sys.executable).with_name("dagster")
    os.execv(str(dagster), [str(dagster), "dev", "-m", "orchestration.definitions", "-h", host, "-p", str(port)])


@main.command("fake-api")
@click.option("--landing", type=click.Path(path_type=Path), default=None, help="Landing folder whose records are served (default VOC_LANDING_DIR or data/landing).")
@click.option("--port", type=int, default=8765, show_default=True, help="Port on 127.0.0.1 (0 picks a free one).")
@click.option("--token", default=None, help="Bearer token the server requires (default: none).")
@click.option("--page-size", type=int, default=50, show_default=True, help="Largest page the server returns.")
@click.option("--rate-limit-every", type=int, default=0, help="Answer every n-th request 429 with Retry-After.")
@click.option("--retry-after", type=int, default=1, show_default=True, help="Retry-After seconds of a 429.")
@click.option("--fault", "faults", multiple=True, help="family:page:kind[:times], kind 429|500|timeout|hang|malformed; repeatable.")
def fake_api(landing: Path | None, port: int, token: str | None, page_size: int, rate_limit_every: int, retry_after: int, faults: tuple[str, ...]) -> None:
    """Serve the landing folder through fake vendor APIs on 127.0.0.1 (for demos and tests).

    While it runs, `curl -X POST 'http://127.0.0.1:8765/_fake/update?family=tickets&count=5'`
    gives five tickets a newer version, as if they were updated between two pipeline runs.
    """
    from loaders.fake_api import API_FAMILIES, Fault, FakeVendorApi, VendorStore

    landing = landing or VocSettings.from_env().landing_dir
    server = FakeVendorApi(
        VendorStore.from_landing(landing),
        token=token,
        page_sizes={family: page_size for family in API_FAMILIES},
        faults=[Fault.parse(text) for text in faults],
        rate_limit_every=rate_limit_every,
        retry_after_seconds=retry_after,
        port=port,
    ).start()
    counts = ", ".join(f"{family} {len(server.store.entries(family))}" for family in API_FAMILIES)
    click.echo(f"Fake vendor APIs on {server.base_url} serving {landing} ({counts})")
    click.echo("Point the pipeline at it with:")
    for name, value in server.env().items():
        click.echo(f"  export {name}={'<token>' if name.endswith('_TOKEN') else value}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


@main.command()
def summary() -> None:
    """Print the summary of the current warehouse."""
    from orchestration.summary import summarize_warehouse

    click.echo(summarize_warehouse(VocSettings.from_env().duckdb_path).render())


if __name__ == "__main__":
    main()
