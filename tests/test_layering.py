"""The layers of the project depend on each other in one direction only.

* runtime code (orchestration, loaders, nlp_udfs, expectations) never imports devtools (tooling
  kept out of the wheel: demo data, fake vendor API, benchmarks, training, NLP evaluation);
* nlp_udfs is pure NLP: it imports nothing of the project;
* expectations (the GX suites and runner) imports neither orchestration nor Dagster: the Dagster
  checks wrap it, not the other way round (it may use loaders, e.g. their table specs);
* loaders (the layer below orchestration) imports neither orchestration nor devtools;
* orchestration/settings.py is the only module that reads the environment;
* a dbt model in models/intermediate never refs a model in models/marts.

Python imports are read with the AST, every form: ``import a.b``, ``from a import b``,
``from . import b``, ``from ..a import b``, imports inside functions, and
``importlib.import_module("a.b")``/``__import__("a")`` with a literal name.
"""

from __future__ import annotations

import ast
import gc
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RUNTIME_PACKAGES = ("orchestration", "loaders", "nlp_udfs", "expectations")
PROJECT_PACKAGES = (*RUNTIME_PACKAGES, "devtools")
MODELS_DIR = REPO_ROOT / "dbt_project" / "models"
# ref('model'), ref("model"), ref('package', 'model'), dbt.ref("model") in Python models
REF = re.compile(r"""\bref\(\s*(['"])([^'"]+)\1(?:\s*,\s*(['"])([^'"]+)\3)?""")


def parse_file(path: Path) -> ast.Module:
    """``ast.parse`` of a file with the garbage collector paused: on CPython 3.11.7 a collection
    that runs finalizers in the middle of building the tree (objects left by earlier tests in the
    same worker) raises "AST constructor recursion depth mismatch" (fixed in 3.11.8)."""
    gc.collect()
    gc.disable()
    try:
        return ast.parse(path.read_bytes(), filename=str(path))
    finally:
        gc.enable()


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute name of ``from <level dots><target> import ...`` written in ``module``."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join([*base, *([target] if target else [])])


def imported_modules(path: Path, root: Path = REPO_ROOT) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a Python file, wherever it is written."""
    module = _module_name(path, root)
    is_package = path.name == "__init__.py"
    found: list[tuple[int, str]] = []
    for node in ast.walk(parse_file(path)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _resolve_relative(module, is_package, node.level, node.module)
            else:
                base = node.module or ""
            # `from pkg import name` may import the submodule pkg.name: count both
            found.append((node.lineno, base))
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            function = node.func
            name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
            if name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value))
    return found


def _python_files(package: str) -> list[Path]:
    return sorted(path for path in (REPO_ROOT / package).rglob("*.py") if "__pycache__" not in path.parts)


def _violations(packages, forbidden) -> list[str]:
    """``file:line imports module`` for every import whose top-level name ``forbidden`` rejects."""
    found = []
    for package in packages:
        for path in _python_files(package):
            for line, name in imported_modules(path):
                if name and forbidden(name.split(".")[0]):
                    found.append(f"{path.relative_to(REPO_ROOT)}:{line} imports {name}")
    return sorted(set(found))


def test_runtime_code_does_not_import_devtools():
    assert _violations(RUNTIME_PACKAGES, lambda top: top == "devtools") == []


def test_nlp_udfs_imports_nothing_of_the_project():
    project = set(PROJECT_PACKAGES) - {"nlp_udfs"}
    assert _violations(["nlp_udfs"], lambda top: top in project) == []


def test_expectations_imports_neither_orchestration_nor_dagster():
    def forbidden(top: str) -> bool:
        return top in ("orchestration", "dagster") or top.startswith("dagster_")

    assert _violations(["expectations"], forbidden) == []


def test_loaders_import_neither_orchestration_nor_devtools():
    assert _violations(["loaders"], lambda top: top in ("orchestration", "devtools")) == []


SETTINGS_MODULE = REPO_ROOT / "orchestration" / "settings.py"
_ENVIRONMENT_NAMES = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def environment_reads(tree: ast.Module) -> list[str]:
    """``line: os.NAME`` for every use of the process environment, and ``from os import environ``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in _ENVIRONMENT_NAMES:
            if isinstance(node.value, ast.Name) and node.value.id == "os":
                found.append(f"{node.lineno}: os.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found.extend(f"{node.lineno}: from os import {a.name}" for a in node.names if a.name in _ENVIRONMENT_NAMES)
    return found


def test_only_the_settings_module_reads_the_environment():
    offenders = {
        str(path.relative_to(REPO_ROOT)): reads
        for package in RUNTIME_PACKAGES
        for path in _python_files(package)
        if path != SETTINGS_MODULE and (reads := environment_reads(parse_file(path)))
    }
    assert not offenders, f"read the environment outside orchestration/settings.py: {offenders}"
    assert environment_reads(parse_file(SETTINGS_MODULE))  # the scan finds what it looks for


def test_the_environment_scan_sees_every_form():
    tree = ast.parse("import os\nfrom os import getenv\nx = os.environ.get('A')\ny = os.getenv('B')\n")
    assert sorted(environment_reads(tree)) == ["2: from os import getenv", "3: os.environ", "4: os.getenv"]


def _model_folders() -> dict[str, str]:
    """Model name -> its first folder under models/ (staging, intermediate, marts)."""
    folders = {}
    for path in sorted(MODELS_DIR.rglob("*")):
        if path.suffix in (".sql", ".py"):
            folders[path.stem] = path.relative_to(MODELS_DIR).parts[0]
    return folders


def _refs(path: Path) -> list[str]:
    return [match.group(4) or match.group(2) for match in REF.finditer(path.read_text(encoding="utf-8"))]


def test_intermediate_models_do_not_ref_marts():
    folders = _model_folders()
    assert folders, MODELS_DIR
    intermediate = [p for p in sorted((MODELS_DIR / "intermediate").rglob("*")) if p.suffix in (".sql", ".py")]
    assert intermediate
    upward = [
        f"{path.relative_to(REPO_ROOT)} refs the mart {name}"
        for path in intermediate
        for name in _refs(path)
        if folders.get(name) == "marts"
    ]
    # Known on main when this test was written: int_feedback__priority refs the mart tag_trends
    # (its fix lands separately). Not an xfail: this must fail until the model is moved or fixed.
    assert not upward, "intermediate models must not depend on marts (move the logic down a layer): " + "; ".join(upward)


# --- the checker itself, on hand-written files ----------------------------------------------------


def test_every_import_form_is_seen(tmp_path):
    package = tmp_path / "nlp_udfs" / "sub"
    package.mkdir(parents=True)
    (tmp_path / "nlp_udfs" / "__init__.py").write_text("from . import sub\n", encoding="utf-8")
    (package / "__init__.py").write_text("from .. import taxonomy\nfrom ..enrich import enrich\n", encoding="utf-8")
    (package / "mod.py").write_text(
        "import os, devtools.demo as demo\n"
        "from loaders import families\n"
        "from ...orchestration import settings\n"
        "def later():\n"
        "    from expectations.suites import ERROR\n"
        "    import importlib\n"
        "    return importlib.import_module('dagster_dbt'), __import__('orchestration.cli')\n",
        encoding="utf-8",
    )
    names = {name for _, name in imported_modules(package / "mod.py", tmp_path)}
    init_names = {name for _, name in imported_modules(package / "__init__.py", tmp_path)}
    top_names = {name for _, name in imported_modules(tmp_path / "nlp_udfs" / "__init__.py", tmp_path)}
    assert {"os", "devtools.demo", "loaders", "loaders.families", "expectations.suites", "dagster_dbt",
            "orchestration.cli", "importlib"} <= names
    assert "orchestration.settings" in names  # three dots from nlp_udfs/sub/mod.py: the repository root
    assert {"nlp_udfs", "nlp_udfs.taxonomy", "nlp_udfs.enrich", "nlp_udfs.enrich.enrich"} <= init_names
    assert {"nlp_udfs", "nlp_udfs.sub"} <= top_names


def test_refs_are_read_in_every_spelling():
    text = "{{ ref('a') }} {{ ref(\"b\") }} {{ ref('pkg', 'c') }} dbt.ref(\"d\")"
    assert [m.group(4) or m.group(2) for m in REF.finditer(text)] == ["a", "b", "c", "d"]
