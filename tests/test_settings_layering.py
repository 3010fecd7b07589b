"""orchestration/settings.py is the only reader of the environment, and the lower layers do not
import the upper ones (nlp_udfs imports nothing of the project; loaders no orchestration)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("orchestration", "loaders", "nlp_udfs", "expectations")
SETTINGS = REPO / "orchestration" / "settings.py"
PROJECT_PACKAGES = {*PACKAGES, "devtools", "dbt_project", "tests"}


def _modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text("utf-8"), filename=str(path))


def environment_reads(tree: ast.Module) -> list[str]:
    """``os.environ`` / ``os.getenv`` / ``os.putenv`` uses and ``from os import environ`` style
    imports, as ``line: text`` of each."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}:
            if isinstance(node.value, ast.Name) and node.value.id == "os":
                found.append(f"{node.lineno}: os.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            names = {alias.name for alias in node.names} & {"environ", "environb", "getenv", "getenvb", "putenv"}
            found.extend(f"{node.lineno}: from os import {name}" for name in sorted(names))
    return found


def project_imports(tree: ast.Module) -> set[str]:
    """The top-level project packages a module imports (relative imports stay inside its package)."""
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    return imported & PROJECT_PACKAGES


@pytest.mark.parametrize("package", PACKAGES)
def test_only_the_settings_module_reads_the_environment(package):
    offenders = {
        str(path.relative_to(REPO)): reads
        for path in _modules(package)
        if path != SETTINGS and (reads := environment_reads(_tree(path)))
    }
    assert not offenders, f"read the environment outside orchestration/settings.py: {offenders}"


def test_the_settings_module_does_read_it():
    assert environment_reads(_tree(SETTINGS))  # the scan itself finds what it looks for


def test_nlp_udfs_imports_nothing_of_the_project():
    offenders = {
        str(path.relative_to(REPO)): sorted(imports - {"nlp_udfs"})
        for path in _modules("nlp_udfs")
        if (imports := project_imports(_tree(path))) - {"nlp_udfs"}
    }
    assert not offenders, offenders


def test_loaders_and_expectations_do_not_import_orchestration_or_devtools():
    offenders = {
        str(path.relative_to(REPO)): sorted(imports & {"orchestration", "devtools"})
        for package in ("loaders", "expectations")
        for path in _modules(package)
        if (imports := project_imports(_tree(path))) & {"orchestration", "devtools"}
    }
    assert not offenders, offenders


def test_the_scans_catch_what_they_look_for():
    code = "import os\nfrom os import getenv\nimport orchestration.settings\nx = os.environ.get('A')\ny = os.getenv('B')\n"
    tree = ast.parse(code)
    assert sorted(environment_reads(tree)) == ["2: from os import getenv", "4: os.environ", "5: os.getenv"]
    assert project_imports(tree) == {"orchestration"}
