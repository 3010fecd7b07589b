"""One writer, always: how `voc run`, Dagster runs and the Dagster instance share the warehouse.

* Every run holds the warehouse's writer lock (``loaders.writer_lock``) for the whole run, not per
  step: the steps of one run (loads, checks, dbt, delivery, report) follow each other and a run
  of another process must not slip in between them. ``voc run`` takes it in
  ``pipeline_run.run_everything``; a run that Dagster launches (schedule, sensor, UI) takes it in
  its executor, :func:`single_writer_executor`, before its first step. After the lock, the run
  waits for readers of other processes to close the DuckDB file (bounded), so that a BI tool
  holding the file stops the run before anything is written, with a message naming it.
* The Dagster instance (``dagster.yaml`` in DAGSTER_HOME, written from the template beside this
  module by :func:`install_dagster_yaml`) queues runs one at a time, so runs of the UI, schedule
  and sensors wait in the queue instead of on the lock.
* A run whose process died holding the lock (killed, out of memory) stays ``STARTED`` in the run
  history and would hold the queue; the next writer finds its run id in the lock file and marks
  it failed.

Dagster is imported lazily: the lock itself must stay cheap to import.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loaders.writer_lock import (
    Holder,
    WarehouseBusyError,
    WarehouseInUseError,
    hold_writer_lock,
    wait_until_writable,
)

if TYPE_CHECKING:
    import dagster as dg

DAGSTER_YAML_TEMPLATE = Path(__file__).with_name("dagster.yaml")
MANAGED_MARKER = "# voc-managed"
WRITER_TAG = "voc/warehouse_writer"
"""Run tag of the jobs that write the warehouse; dagster.yaml limits it to one run at a time."""


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@contextmanager
def hold_warehouse(
    warehouse_path: Path,
    wait_seconds: float,
    *,
    run_id: str = "",
    command: str | None = None,
    instance: Any = None,
    log: Callable[[str], None] = _stderr,
) -> Iterator[None]:
    """The warehouse for one run: the writer lock, then no reader of another process.

    Raises ``WarehouseBusyError`` (another writer) or ``WarehouseInUseError`` (a reader) after
    waiting up to ``wait_seconds`` for each.
    """

    def waiting_for_writer(holder: Holder | None) -> None:
        who = holder.describe() if holder else "another process"
        log(f"The warehouse {warehouse_path} is being written by {who}; waiting up to {wait_seconds:g}s for it")

    def waiting_for_reader(who: str) -> None:
        log(f"The warehouse {warehouse_path} is open in another process ({who}); waiting up to {wait_seconds:g}s for it to close the file")

    with hold_writer_lock(
        warehouse_path, wait_seconds=wait_seconds, command=command, run_id=run_id, on_wait=waiting_for_writer
    ) as left_behind:
        if left_behind is not None and instance is not None:
            fail_abandoned_run(instance, left_behind, log)
        wait_until_writable(warehouse_path, wait_seconds, on_wait=waiting_for_reader)
        yield


def fail_abandoned_run(instance: dg.DagsterInstance, holder: Holder, log: Callable[[str], None] = _stderr) -> bool:
    """Mark failed the run a dead process left in progress while it held the lock."""
    if not holder.run_id:
        return False
    run = instance.get_run_by_id(holder.run_id)
    if run is None or run.is_finished:
        return False
    message = (
        f"Run {holder.run_id} ended without finishing: its process ({holder.describe()}) died while it "
        "held the warehouse's writer lock. Marked failed by the next writer."
    )
    instance.report_run_failed(run, message)
    log(message)
    return True


def single_writer_executor(warehouse_path: Path, wait_seconds: float) -> dg.ExecutorDefinition:
    """Dagster's in-process executor that holds the warehouse for the whole run (see module doc).

    ``execute_in_process`` replaces a job's executor with its own, so ``run_everything`` takes
    the same lock itself.
    """
    import dagster as dg
    from dagster._core.events import DagsterEvent, EngineEventData

    class SingleWriterExecutor(dg.Executor):
        def __init__(self, inner: dg.Executor):
            self._inner = inner

        @property
        def retries(self):
            return self._inner.retries

        @property
        def step_dependency_config(self):
            return self._inner.step_dependency_config

        def execute(self, plan_context, execution_plan) -> Iterator[DagsterEvent]:
            run = plan_context.dagster_run
            try:
                with hold_warehouse(
                    warehouse_path,
                    wait_seconds,
                    run_id=run.run_id,
                    command=f"Dagster run of {run.job_name}",
                    instance=plan_context.instance,
                    log=plan_context.log.warning,
                ):
                    yield DagsterEvent.engine_event(
                        plan_context, f"Holding the writer lock of {warehouse_path}", EngineEventData()
                    )
                    yield from self._inner.execute(plan_context, execution_plan)
            except (WarehouseBusyError, WarehouseInUseError) as exc:
                plan_context.log.error(str(exc))
                raise

    @dg.executor(name="voc_single_writer", config_schema=dg.in_process_executor.config_schema)
    def voc_single_writer(init_context):
        """In-process execution holding the warehouse's writer lock for the whole run."""
        return SingleWriterExecutor(dg.in_process_executor.executor_creation_fn(init_context))

    return voc_single_writer


def install_dagster_yaml(dagster_home: Path) -> bool:
    """Write the shipped ``dagster.yaml`` into ``dagster_home`` unless the one there is the
    user's own (it lacks the ``voc-managed`` first line). True when the shipped one is in place."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    target = dagster_home / "dagster.yaml"
    template = DAGSTER_YAML_TEMPLATE.read_text(encoding="utf-8")
    if target.exists():
        current = target.read_text(encoding="utf-8")
        if current == template:
            return True
        if not current.startswith(MANAGED_MARKER):
            return False
    target.write_text(template, encoding="utf-8")
    return True
