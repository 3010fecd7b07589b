"""The Dagster side of write-audit-publish: ``published_marts`` and the hook that says why not.

``published_marts`` depends on every mart, so Dagster runs it only when the dbt build (with its
data tests) succeeded and every blocking check upstream (``gx_errors`` of raw, staging and marts)
passed; otherwise the step is not executed and the current publication stays as it is. The
failure hook ``publication_withheld`` then logs, for each failed step upstream of the
publication, that this run publishes nothing, which checks failed, and which publication
readers keep, and records the same as an observation of ``published_marts`` (its asset page).
"""

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

import dagster as dg

from orchestration.engine.readers import warehouse_source
from orchestration.project import voc_dbt_project
from orchestration.publish.publication import (
    DATABASE_NAME,
    Publication,
    current_publication,
    git_revision,
    list_publications,
    public_marts,
    publish,
)
from orchestration.resources import DUCKDB_WRITER_POOL, SettingsResource, VocWarehouse
from orchestration.settings import REPO_ROOT, VocSettings

PUBLISHED_MARTS_KEY = dg.AssetKey(["published_marts"])
PUBLISH_GROUP = "publication"


def after_publish(settings: VocSettings, publication: Publication, log) -> dict[str, object]:
    """Runs whenever a publication has become current (a night's publish or `voc publish
    --rollback`): the ONE place where copies that serve it elsewhere are refreshed from it.

    With ``settings.serve_postgres_url`` set, the publication is served to PostgreSQL
    (``orchestration.serving.postgres``). A serving that fails leaves PostgreSQL on the previous
    publication and is logged as an error naming host:port/database only; the DuckDB publication
    stays current either way. Returns metadata for the UI (``postgres/...``).
    """
    log.info(f"publication {publication.name} (run {publication.run_id}) is current in {settings.publish_dir}")
    if not settings.serve_postgres_url:
        return {}
    from orchestration.serving.postgres import ServingError, serve_publication

    try:
        served = serve_publication(publication.path, settings.serve_postgres_url)
    except ServingError as exc:
        log.error(f"PostgreSQL keeps its previous publication: {exc}")
        return {"postgres/served": False, "postgres/error": str(exc)}
    log.info(
        f"Served run {served.run_id} to PostgreSQL {served.target} (schema voc_marts) in {served.seconds:.1f} s"
    )
    return {"postgres/served": True, **{f"postgres/{key}": value for key, value in served.metadata().items()}}


def checks_in_run(instance: dg.DagsterInstance, run_id: str, passed: bool) -> list[str]:
    """``<asset>:<check>`` of every check evaluated in the run that passed (or failed)."""
    names = set()
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.asset_check_evaluation_data
        if evaluation.passed == passed:
            names.add(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    return sorted(names)


def failed_checks(instance: dg.DagsterInstance, check_keys: Iterable[dg.AssetCheckKey]) -> list[str]:
    """``<asset>:<check>`` of the checks among ``check_keys`` whose latest evaluation failed with
    severity ERROR (in any run)."""
    failed = []
    for key in check_keys:
        record = instance.get_latest_asset_check_evaluation_record(key)
        evaluation = record.evaluation if record is not None else None
        # a check planned in a run that skipped it has no evaluation (and no `passed`) yet
        if getattr(evaluation, "passed", True) is False and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            failed.append(f"{key.asset_key.to_user_string()}:{key.name}")
    return sorted(failed)


def publication_metadata(publication: Publication, publish_dir: Path, kept: int) -> dict[str, object]:
    """What the UI shows on the materialization: when, which run and code, rows per mart, paths."""
    rows = publication.rows
    table = ["| mart | rows |", "|---|---:|"] + [f"| {name} | {count:,} |" for name, count in rows.items()]
    return {
        "published_at": dg.MetadataValue.timestamp(datetime.fromisoformat(publication.published_at)),
        "run_id": publication.run_id,
        "git_revision": publication.manifest["git_revision"],
        "path": dg.MetadataValue.path(str(publication.path)),
        "reader_path": dg.MetadataValue.path(str(publish_dir / DATABASE_NAME)),
        "marts_published": len(rows),
        "rows_total": sum(rows.values()),
        "rows_per_mart": dg.MetadataValue.md("\n".join(table)),
        **{f"rows/{name}": dg.MetadataValue.int(count) for name, count in rows.items()},
        "checks_passed": len(publication.manifest["checks_passed"]),
        "publications_kept": kept,
    }


def build_published_marts(
    mart_keys: Sequence[dg.AssetKey], mart_check_keys: Sequence[dg.AssetCheckKey]
) -> dg.AssetsDefinition:
    """The publish asset downstream of ``mart_keys`` (every mart asset of the dbt project).

    In the nightly job Dagster only runs it when the marts' blocking checks passed. Run on its
    own (picked in the UI), it refuses when the latest evaluation of any ERROR check on a mart
    (``mart_check_keys``: GX and dbt tests) failed, so that a rejected night is never published
    by hand either."""

    @dg.asset(
        key=PUBLISHED_MARTS_KEY,
        deps=list(mart_keys),
        group_name=PUBLISH_GROUP,
        kinds={"python", "duckdb", "parquet"},
        owners=["team:data-engineering"],
        # reads the working warehouse (read-only), like the scorecard: never beside a writer
        pool=DUCKDB_WRITER_POOL,
        description=(
            "Write-audit-publish: runs only when every mart is built and every blocking check upstream "
            "passed. Copies the marts (schema marts of the dbt manifest) into a new read-only DuckDB file "
            "plus one Parquet file per mart, with comments from the dbt docs and a manifest, and makes it "
            "current with one rename: readers open <VOC_PUBLISH_DIR>/voc_marts.duckdb "
            "(data/published by default). See docs/publishing.md."
        ),
    )
    def published_marts(
        context: dg.AssetExecutionContext, warehouse: VocWarehouse, settings: SettingsResource
    ) -> dg.MaterializeResult:
        failed = failed_checks(context.instance, mart_check_keys)
        if failed:
            current = current_publication(settings.publish_dir)
            kept = f"readers keep {current.name} (run {current.run_id})" if current else "nothing is published yet"
            raise dg.Failure(
                description=(
                    f"Not published: the latest evaluation of these checks on the marts failed: {', '.join(failed)}. "
                    f"Run the night (or these checks) again once the data is fixed; {kept}."
                ),
                allow_retries=False,
            )
        manifest = json.loads(Path(voc_dbt_project.manifest_path).read_text("utf-8"))
        # DuckDB: the warehouse file, attached read-only; Spark: the marts through a reader session
        with warehouse_source(settings, warehouse.warehouse_path) as source:
            publication = publish(
                source,
                settings.publish_dir,
                public_marts(manifest),
                run_id=context.run.run_id,
                git_revision=git_revision(REPO_ROOT),
                checks_passed=checks_in_run(context.instance, context.run.run_id, passed=True),
                keep=settings.publish_keep,
            )
        context.log.info(
            f"Published {len(publication.rows)} marts ({sum(publication.rows.values()):,} rows) as "
            f"{publication.path}; readers open {settings.publish_dir / DATABASE_NAME}"
        )
        served = after_publish(settings, publication, context.log)
        kept = len(list_publications(settings.publish_dir))
        return dg.MaterializeResult(metadata={**publication_metadata(publication, settings.publish_dir, kept), **served})

    return published_marts


def steps_before_publication(
    assets: Iterable[dg.AssetsDefinition], checks: Iterable[dg.AssetChecksDefinition]
) -> frozenset[str]:
    """Names of the ops (step keys of an unpartitioned run) whose failure keeps the publication
    from running: those that materialize or check an asset upstream of ``published_marts``."""
    assets, checks = list(assets), list(checks)
    parents = {spec.key: {dep.asset_key for dep in spec.deps} for definition in assets for spec in definition.specs}
    upstream: set[dg.AssetKey] = set()
    pending = list(parents.get(PUBLISHED_MARTS_KEY, ()))
    while pending:
        key = pending.pop()
        if key not in upstream:
            upstream.add(key)
            pending.extend(parents.get(key, ()))
    steps = set()
    for definition in [*assets, *checks]:
        if set(definition.keys) & upstream or any(key.asset_key in upstream for key in definition.check_keys):
            steps.add(definition.node_def.name)
    return frozenset(steps)


def withheld_message(step: str, failed_checks: Sequence[str], current: "Publication | None", run_id: str) -> str:
    """Why this run publishes nothing, and what readers keep."""
    text = f"Run {run_id} publishes nothing: step {step} failed before published_marts"
    if failed_checks:
        text += f" (failed checks: {', '.join(failed_checks)})"
    if current is None:
        return text + ". Nothing has been published yet."
    return (text + f". Readers keep the current publication {current.name} "
            f"(run {current.run_id}, published {current.published_at}).")


def build_publication_withheld_hook(steps: frozenset[str]) -> dg.HookDefinition:
    """A failure hook for the nightly job: a failed step in ``steps`` means no publication."""

    @dg.failure_hook(name="publication_withheld", required_resource_keys={"settings"})
    def publication_withheld(context: dg.HookContext) -> None:
        if context.op.name not in steps:
            return
        failed = [
            f"{e.dagster_event.asset_check_evaluation_data.asset_key.to_user_string()}:"
            f"{e.dagster_event.asset_check_evaluation_data.check_name}"
            for e in context.instance.all_logs(context.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
            if e.step_key == context.step_key and not e.dagster_event.asset_check_evaluation_data.passed
            and e.dagster_event.asset_check_evaluation_data.severity == dg.AssetCheckSeverity.ERROR
        ]
        publish_dir = context.resources.settings.publish_dir
        current = current_publication(publish_dir)
        message = withheld_message(context.step_key, sorted(set(failed)), current, context.run_id)
        context.log.error(message)
        context.instance.report_runless_asset_event(dg.AssetObservation(
            asset_key=PUBLISHED_MARTS_KEY,
            description=message,
            metadata={
                "published": False,
                "withheld_by_run": context.run_id,
                "failed_step": context.step_key,
                "failed_checks": dg.MetadataValue.json(sorted(set(failed))),
                "current_run_id": current.run_id if current else "none",
            },
        ))

    return publication_withheld
