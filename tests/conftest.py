"""Shared fixtures and the test tiers.

Tiers (markers registered in pyproject.toml): a test marked ``e2e`` builds a warehouse with the
pipeline or dbt; ``dbt`` needs dbt or its parsed manifest (the Dagster definitions); ``dagster``
runs Dagster machinery in process (importing it pulls in dagster-dbt and dbt); ``dlt`` loads a
warehouse with the loaders. Every other test is marked ``unit`` here: ``make test-fast`` runs ``pytest -m unit``, ``make test`` runs everything.

dbt is parsed only when something needs the manifest: the first import of the dbt assets module
(directly or through ``orchestration.checks``/``orchestration.definitions``), or the
``dbt_manifest`` fixture. Collecting an NLP test module runs no dbt.
"""

from __future__ import annotations

import ast
import itertools
import os
import shutil
import sys
from pathlib import Path

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
    whichever test module (at collection) or fixture imports it. Finds nothing itself."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == _MODULE_NEEDING_MANIFEST:
            sys.meta_path.remove(self)
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
