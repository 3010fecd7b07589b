"""Developer tooling command: demo data and the fake vendor server (`python -m devtools --help`).

Not part of the product: it imports the product, the product never imports it.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from orchestration.settings import VocSettings

DEFAULT_DEMO_ROWS = 20_000
DEFAULT_SEED = 42


@click.group()
def main() -> None:
    """VoC warehouse developer tools."""


@main.command()
@click.option("--landing", type=click.Path(path_type=Path), default=None, help="Landing folder (default VOC_LANDING_DIR or data/landing).")
@click.option("--rows", type=int, default=DEFAULT_DEMO_ROWS, show_default=True, help="Approximate number of feedback items.")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
@click.option("--end-date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Last day of the generated period.")
@click.option("--signals/--no-signals", "plant_signals", default=True, show_default=True,
              help="Plant the storylines (spikes, bursts, local problems, a key driver, closed-loop cases); --no-signals gives data without any, to measure false alarms.")
def generate(landing: Path | None, rows: int, seed: int, end_date, plant_signals: bool) -> None:
    """Write demo landing files for all sources, with ground truth under <landing>/_truth/."""
    from devtools.demo.api import generate as generate_demo

    landing = landing or VocSettings.from_env().landing_dir
    kwargs = {"end_date": end_date.date()} if end_date else {}
    kwargs["plant_signals"] = plant_signals
    started = time.perf_counter()
    summary = generate_demo(landing, rows=rows, seed=seed, **kwargs)
    click.echo(f"Wrote demo data to {landing} in {time.perf_counter() - started:.1f}s")
    for source, counts in sorted((k, v) for k, v in summary.items() if isinstance(v, dict)):
        click.echo(f"  {source:<10} {counts}")


@main.command("ensure-demo")
@click.option("--rows", type=int, default=DEFAULT_DEMO_ROWS, show_default=True, help="Size of the demo data generated when the landing folder is empty.")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
def ensure_demo(rows: int, seed: int) -> None:
    """Generate demo data only when the landing folder holds no source files (what `make run` does)."""
    from devtools.demo.api import generate as generate_demo
    from devtools.demo.generator import is_unmarked_demo_landing, mark_demo_landing

    settings = VocSettings.from_env()
    if settings.landing_has_source_files():
        if is_unmarked_demo_landing(settings.landing_dir):  # demo data from before the marker
            mark_demo_landing(settings.landing_dir)
        return
    click.echo(f"{settings.landing_dir} holds no source files: generating {rows:,} demo feedback items")
    generate_demo(settings.landing_dir, rows=rows, seed=seed)


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
    from devtools.fake_api import API_FAMILIES, FakeVendorApi, Fault, VendorStore

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


if __name__ == "__main__":
    main()
