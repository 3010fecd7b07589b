"""`voc`: run the pipeline, open the Dagster UI, print the warehouse summary, resolve alert
deliveries, show or roll back the marts' publication."""

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
@click.option("--full-refresh", is_flag=True, help="Rebuild the incremental dbt models from scratch too (after a new VOC_HASH_SALT).")
def run(full_refresh: bool) -> None:
    """Run the whole pipeline once: all loads, all dbt models and tests, all checks."""
    from orchestration.pipeline_run import run_everything

    settings = VocSettings.from_env()
    started = time.perf_counter()
    if not settings.landing_has_source_files():
        click.echo(f"{settings.landing_dir} holds no source files: put exports there (or `make generate` for demo data)", err=True)
        sys.exit(2)
    if problem := settings.pseudonym_key_problem():
        click.echo(problem, err=True)
        sys.exit(2)
    try:
        result = run_everything(settings, full_refresh=full_refresh)
    except (WarehouseBusyError, WarehouseInUseError) as exc:
        click.echo(f"voc run: {exc}", err=True)
        _exit_without_teardown(3)
    elapsed = time.perf_counter() - started
    if not result.success:
        failed = [event.step_key for event in result.all_events if event.is_step_failure]
        click.echo(f"Pipeline FAILED after {elapsed:.0f}s in steps: {', '.join(sorted(set(failed)))}", err=True)
        click.echo(_publication_line(settings, result), err=True)
        _exit_without_teardown(1)
    click.echo(f"Pipeline finished in {elapsed:.0f}s")
    click.echo(_publication_line(settings, result))
    click.echo(_summary_text(settings))
    _exit_without_teardown(0)


def _publication_line(settings: VocSettings, result) -> str:
    """Whether this run published the marts, and what readers open."""
    from orchestration.publish.asset import PUBLISHED_MARTS_KEY
    from orchestration.publish.publication import DATABASE_NAME, current_publication

    current = current_publication(settings.publish_dir)
    published = any(event.asset_key == PUBLISHED_MARTS_KEY for event in result.get_asset_materialization_events())
    if published and current is not None:
        return f"Published: {current.path} (readers open {settings.publish_dir / DATABASE_NAME})"
    kept = f"readers keep {current.name} (run {current.run_id})" if current else "nothing is published yet"
    return f"NOT published: a step or blocking check before published_marts failed; {kept}"


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
    click.echo(_summary_text(VocSettings.from_env()))


def _summary_text(settings: VocSettings) -> str:
    """The warehouse summary, read through the engine's marts reader."""
    from orchestration.engine.readers import engine_reader
    from orchestration.marts_reader import WarehouseUnavailable
    from orchestration.summary import summarize_warehouse

    label = settings.spark_warehouse_dir if settings.uses_spark else str(settings.warehouse_path)
    try:
        with engine_reader(settings) as reader:
            return summarize_warehouse(reader, label=label).render()
    except WarehouseUnavailable as exc:
        # DuckDB's lock error names the file and the other process, never a secret
        missing = not settings.warehouse_path.exists()
        click.echo(str(exc) if missing else f"{exc}; try again when it ends", err=True)
        sys.exit(2 if missing else 3)


# --- voc publish: the marts readers open ------------------------------------------------------


@main.command("publish")
@click.option("--status", "action", flag_value="status", default=True, help="Show the current publication and the kept ones (default).")
@click.option("--rollback", "action", flag_value="rollback", help="Make the previous kept publication current again.")
def publish_command(action: str) -> None:
    """The marts readers open (docs/publishing.md): show the current publication, or roll back."""
    from orchestration.publish.publication import PublicationError, rollback

    settings = VocSettings.from_env()
    if action == "rollback":
        try:
            left, now_current = rollback(settings.publish_dir)
        except PublicationError as exc:
            click.echo(f"voc publish --rollback: {exc}", err=True)
            sys.exit(2)
        from orchestration.publish.asset import after_publish
        from orchestration.publish.publication import current_publication

        click.echo(f"Rolled back from {left.name} (run {left.run_id}) to {now_current.name} (run {now_current.run_id})")
        after_publish(settings, current_publication(settings.publish_dir), _EchoLog())
    _print_publication_status(settings)


class _EchoLog:
    """The logger ``after_publish`` writes to, on the terminal."""

    def info(self, message: str) -> None:
        click.echo(message)

    warning = error = info


def _print_publication_status(settings: VocSettings) -> None:
    from orchestration.publish.publication import DATABASE_NAME, current_publication, list_publications

    current = current_publication(settings.publish_dir)
    if current is None:
        click.echo(f"Nothing is published in {settings.publish_dir} yet: a night whose checks pass publishes the marts.")
        return
    click.echo(f"Current publication: {current.path}")
    click.echo(f"  run {current.run_id}, published {current.published_at}, git {current.manifest['git_revision']}")
    click.echo(f"  readers open {settings.publish_dir / DATABASE_NAME} (read-only)")
    for name, rows in current.rows.items():
        click.echo(f"  {name:<30} {rows:>10,}")
    click.echo(f"Kept publications (newest last, {settings.publish_keep} kept):")
    for publication in list_publications(settings.publish_dir):
        flags = " <- current" if publication.path == current.path else (" (rolled back)" if publication.rolled_back else "")
        click.echo(f"  {publication.name}  run {publication.run_id}  published {publication.published_at}{flags}")


# --- voc alerts: deliveries an operator resolves ---------------------------------------------


@main.group()
def alerts() -> None:
    """Alert deliveries: list the open ones, resend one, or settle one as delivered."""


def _open_warehouse(settings: VocSettings, read_only: bool = False):
    """The DuckDB file of the delivery log: the warehouse, or on Spark the ops file (alerts/ops.py)."""
    import duckdb

    from orchestration.alerts.ops import ops_database_path

    path = ops_database_path(settings)
    if not path.exists():
        click.echo(f"No warehouse at {path}: run `voc run` first", err=True)
        sys.exit(2)
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        # DuckDB's lock error names the file and the other process, never a secret
        click.echo(f"The warehouse is in use by another process (a run?); try again when it ends: {exc}", err=True)
        sys.exit(3)


@alerts.command("list")
def alerts_list() -> None:
    """Alerts not delivered yet: unknown outcomes first, then in-flight, pending and failed."""
    from orchestration.alerts.delivery import open_deliveries

    with _open_warehouse(VocSettings.from_env(), read_only=True) as con:
        rows = open_deliveries(con)
    if not rows:
        click.echo("Every alert is delivered.")
        return
    for row in rows:
        when = row["last_attempt_at"].isoformat(timespec="seconds") if row["last_attempt_at"] else "-"
        click.echo(
            f"{row['status']:<8} {row['alert_id']}  webhook={row['webhook'] or '-'}  route={row['route_to'] or '-'}  "
            f"attempts={row['attempts']}  last={when}  {row['last_error'] or ''}"
        )
    unknown = sum(1 for row in rows if row["status"] == "unknown")
    if unknown:
        click.echo(
            f"{unknown} with an unknown outcome: check the chat group, then `voc alerts mark-delivered ALERT_ID` "
            "if it arrived, or `voc alerts resend ALERT_ID` if it did not."
        )


@alerts.command("resend")
@click.argument("alert_id")
@click.option("--webhook", default=None, help="the webhook name, when the alert has deliveries to several")
def alerts_resend(alert_id: str, webhook: str | None) -> None:
    """Post ALERT_ID again now (after checking that the receiver does not have it)."""
    from orchestration.alerts.delivery import OperatorError, resend
    from orchestration.alerts.routes import load_routes
    from orchestration.alerts.senders import Poster

    settings = VocSettings.from_env()
    with _open_warehouse(settings) as con:
        try:
            hook, result = resend(con, alert_id, webhook, load_routes(con, settings.alert_webhook_urls), Poster(settings.alert_delivery))
        except OperatorError as exc:
            click.echo(str(exc), err=True)
            sys.exit(2)
    if result.ok:
        click.echo(f"{alert_id} delivered to {hook}")
        return
    click.echo(f"{alert_id} to {hook}: {result.outcome}: {result.error}", err=True)
    sys.exit(1)


@alerts.command("mark-delivered")
@click.argument("alert_id")
@click.option("--webhook", default=None, help="the webhook name, when the alert has deliveries to several")
def alerts_mark_delivered(alert_id: str, webhook: str | None) -> None:
    """Record ALERT_ID as delivered (the receiver has it); it is never posted again."""
    from orchestration.alerts.delivery import OperatorError, mark_delivered

    with _open_warehouse(VocSettings.from_env()) as con:
        try:
            hook = mark_delivered(con, alert_id, webhook)
        except OperatorError as exc:
            click.echo(str(exc), err=True)
            sys.exit(2)
    click.echo(f"{alert_id} to {hook} marked delivered")


# --- voc serve: the PostgreSQL copy of the publications for BI tools -------------------------


@main.group()
def serve() -> None:
    """The PostgreSQL schema voc_marts that BI tools read (VOC_SERVE_POSTGRES_URL)."""


def _serve_url(settings: VocSettings) -> str:
    if not settings.serve_postgres_url:
        click.echo("VOC_SERVE_POSTGRES_URL is not set: set it to the PostgreSQL database the marts are served from", err=True)
        sys.exit(2)
    return settings.serve_postgres_url


@serve.command("grant-readonly")
@click.argument("role")
@click.option("--login", is_flag=True,
              help="Let the role log in, with the password from VOC_SERVE_READONLY_PASSWORD or asked for here (never an argument).")
def serve_grant_readonly(role: str, login: bool) -> None:
    """Create ROLE if missing (NOLOGIN unless --login) and let it read voc_marts, now and after every swap."""
    from orchestration.serving.postgres import ServingError, describe_target, grant_readonly

    settings = VocSettings.from_env()
    url = _serve_url(settings)
    password = None
    if login:
        password = settings.serve_readonly_password or click.prompt(
            f"Password for {role}", hide_input=True, confirmation_prompt=True)
    try:
        created = grant_readonly(url, role, password)
    except ServingError as exc:
        click.echo(f"voc serve grant-readonly: {exc}", err=True)
        sys.exit(1)
    how = "can log in" if password else "cannot log in (NOLOGIN): grant it to a login role, or run again with --login"
    click.echo(f"{role} {'created' if created else 'exists'} on {describe_target(url)}; it reads voc_marts "
               f"now and after every publication; it {how}")


@serve.command("status")
def serve_status() -> None:
    """Show the publication voc_marts serves: run id, times, rows per mart, read-only roles."""
    from orchestration.serving.postgres import ServingError, serving_status

    try:
        status = serving_status(_serve_url(VocSettings.from_env()))
    except ServingError as exc:
        click.echo(f"voc serve status: {exc}", err=True)
        sys.exit(1)
    if status.run_id is None:
        click.echo(f"{status.target}: nothing served yet (no voc_marts._publication)")
    else:
        click.echo(f"{status.target}: voc_marts serves run {status.run_id} (git {status.git_revision or '-'}), "
                   f"published {status.published_at}, served {status.served_at}")
        for mart, rows in status.rows.items():
            click.echo(f"  {mart:<32}{rows:>12,}")
    click.echo(f"read-only roles: {', '.join(status.roles) or 'none (voc serve grant-readonly ROLE)'}")


@serve.command("load")
@click.argument("publication_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def serve_load(publication_dir: Path) -> None:
    """Serve the publication in PUBLICATION_DIR now (the night does this after each publication)."""
    from orchestration.serving.postgres import ServingError, serve_publication

    try:
        result = serve_publication(publication_dir, _serve_url(VocSettings.from_env()))
    except ServingError as exc:
        click.echo(f"voc serve load: {exc}", err=True)
        sys.exit(1)
    click.echo(f"{result.target}: voc_marts serves run {result.run_id} ({sum(result.rows.values()):,} rows in "
               f"{len(result.marts)} marts, {result.seconds:.1f} s, swap {result.swap_seconds * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
