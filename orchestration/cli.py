"""`voc`: run the pipeline, open the Dagster UI, print the warehouse summary."""

from __future__ import annotations

import atexit
import os
import sys
import time
from pathlib import Path

import click

from loaders.writer_lock import WarehouseBusyError, WarehouseInUseError
from orchestration.settings import VocSettings


@click.group()
def main() -> None:
    """Voice of Customer warehouse."""


@main.command()
def run() -> None:
    """Run the whole pipeline once: all loads, all dbt models and tests, all checks."""
    from orchestration.pipeline_run import run_everything
    from orchestration.summary import summarize_warehouse

    settings = VocSettings.from_env()
    started = time.perf_counter()
    if not settings.landing_has_source_files():
        click.echo(f"{settings.landing_dir} holds no source files: put exports there (or `make generate` for demo data)", err=True)
        sys.exit(2)
    try:
        result = run_everything(settings)
    except (WarehouseBusyError, WarehouseInUseError) as exc:
        click.echo(f"voc run: {exc}", err=True)
        _exit_without_teardown(3)
    elapsed = time.perf_counter() - started
    if not result.success:
        failed = [event.step_key for event in result.all_events if event.is_step_failure]
        click.echo(f"Pipeline FAILED after {elapsed:.0f}s in steps: {', '.join(sorted(set(failed)))}", err=True)
        _exit_without_teardown(1)
    click.echo(f"Pipeline finished in {elapsed:.0f}s")
    click.echo(summarize_warehouse(settings.warehouse_path).render())
    _exit_without_teardown(0)


def _exit_without_teardown(code: int) -> None:
    """End the process once the run's outcome is printed and its writes are committed.

    At interpreter exit DuckDB's nanobind bindings list every DuckDB object that module-level
    caches (GX's SQLAlchemy engine, dlt's destination clients) still hold: dozens of "leaked
    instance" lines that bury the summary. Nothing is left to flush or commit here, so the
    teardown that prints them is skipped (the atexit handlers still run, so worker pools and
    semaphores are released); errors raised during the run still surface before this.
    """
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@main.command()
@click.option("--port", type=int, default=3000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def ui(port: int, host: str) -> None:
    """Start the Dagster UI (dagster dev) on this project and warehouse."""
    from orchestration.writer_lock import install_dagster_yaml

    settings = VocSettings.from_env()
    if not install_dagster_yaml(settings.dagster_home):
        click.echo(f"{settings.dagster_home}/dagster.yaml is your own: it must queue one run at a time "
                   "(see orchestration/dagster.yaml)", err=True)
    dagster = Path(sys.executable).with_name("dagster")
    # dagster dev and its runs read the settings again from the environment made here
    os.execve(
        str(dagster),
        [str(dagster), "dev", "-m", "orchestration.definitions", "-h", host, "-p", str(port)],
        settings.child_env(),
    )


@main.command()
def summary() -> None:
    """Print the summary of the current warehouse."""
    from orchestration.summary import summarize_warehouse

    click.echo(summarize_warehouse(VocSettings.from_env().warehouse_path).render())


if __name__ == "__main__":
    main()
