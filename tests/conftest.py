"""Shared fixtures and the test tiers.

Tiers (markers registered in pyproject.toml): a test marked ``e2e`` builds a warehouse with the
pipeline or dbt; ``dbt`` needs dbt or its parsed manifest (the Dagster definitions); ``dagster``
runs Dagster machinery in process (importing it pulls in dagster-dbt and dbt); ``dlt`` loads a
warehouse with the loaders. Every other test is marked ``unit`` here: ``make test-fast`` runs
``pytest -m unit``, ``make test`` runs everything.

dbt is parsed only when something needs the manifest: the first import of the dbt assets module
(directly or through ``orchestration.checks``/``orchestration.definitions``), or the
``dbt_manifest`` fixture. Collecting an NLP test module runs no dbt.

``demo_warehouse`` is one demo warehouse built by the whole pipeline once per session and shared
by the end-to-end modules that only read it; a test that runs the pipeline again or changes the
data takes a private copy (``demo_warehouse.copy_to``).
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
from typing import Any

import pytest

TIER_MARKERS = ("e2e", "dbt", "dagster", "dlt")
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


def _mark_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(marks of the module-level ``pytestmark``, every other ``...mark.NAME`` in the module)."""
    module_marks: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
            for sub in ast.walk(node.value):
                if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Attribute) and sub.value.attr == "mark":
                    module_marks.add(sub.attr)
    mentioned = {
        node.attr for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and node.value.attr == "mark"
    }
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
            if expression.evaluate(lambda name, **kwargs: name in marks):
                return None
    return True


@pytest.fixture(scope="session")
def dbt_manifest():
    from orchestration.project import voc_dbt_project

    _parse_dbt_once()
    return voc_dbt_project.manifest_path


@pytest.fixture(scope="module")
def restore_environ():
    """Pipeline runs export VOC_* paths into os.environ for dbt; put the environment back afterwards."""
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
    duckdb_path: Path
    truth: dict[str, dict[str, str]]  # the generator's ground truth per feedback_id
    summary: dict  # the generator's counts per source family
    instance: Any  # the ephemeral Dagster instance of that run: read its events, run nothing on it

    @property
    def settings(self):
        from orchestration.settings import VocSettings

        return VocSettings(landing_dir=self.landing_dir, duckdb_path=self.duckdb_path)

    def copy_to(self, root: Path):
        """Settings of a private copy (landing folder, warehouse, pipeline state) for a test that
        runs the pipeline again or changes the data."""
        shutil.copytree(self.root, root, dirs_exist_ok=True)
        from orchestration.settings import VocSettings

        return VocSettings(landing_dir=root / self.landing_dir.relative_to(self.root),
                           duckdb_path=root / self.duckdb_path.relative_to(self.root))


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory, dbt_manifest) -> DemoWarehouse:
    """2,500 demo rows (seed 11) through the whole pipeline (loads, checks, dbt build, reports),
    once per session. Shared by several modules: READ ONLY. A test that runs the pipeline again
    or changes the data works on ``demo_warehouse.copy_to(...)``."""
    import dagster as dg

    from devtools.demo.api import generate
    from orchestration.pipeline_run import run_everything
    from orchestration.settings import VocSettings

    root = tmp_path_factory.mktemp("demo_warehouse")
    settings = VocSettings(landing_dir=root / "landing", duckdb_path=root / "warehouse" / "voc.duckdb")
    generate(settings.landing_dir, rows=DEMO_ROWS, seed=DEMO_SEED)
    instance = dg.DagsterInstance.ephemeral()
    saved = dict(os.environ)  # the run exports VOC_* paths for dbt
    try:
        result = run_everything(settings, instance=instance, log_level="WARNING")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]
    truth_dir = settings.landing_dir / "_truth"
    with open(truth_dir / "feedback_truth.csv", encoding="utf-8") as handle:
        truth = {row["feedback_id"]: row for row in csv.DictReader(handle)}
    summary = json.loads((truth_dir / "summary.json").read_text(encoding="utf-8"))
    return DemoWarehouse(root, settings.landing_dir, settings.duckdb_path, truth, summary, instance)
