"""Where the pipeline reads and writes: resolved at run time, never at import time."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from loaders.families import FAMILIES

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DEFAULT_LANDING_DIR = REPO_ROOT / "data" / "landing"
DEFAULT_DUCKDB_PATH = REPO_ROOT / "data" / "warehouse" / "voc.duckdb"


@dataclass(frozen=True)
class VocSettings:
    """Paths of one deployment: a landing folder and the warehouse file it loads into."""

    landing_dir: Path
    duckdb_path: Path

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "VocSettings":
        """Read VOC_LANDING_DIR and VOC_DUCKDB_PATH (relative paths are taken from the repo root)."""
        environ = os.environ if environ is None else environ
        return cls(
            landing_dir=_resolve(environ.get("VOC_LANDING_DIR"), DEFAULT_LANDING_DIR),
            duckdb_path=_resolve(environ.get("VOC_DUCKDB_PATH"), DEFAULT_DUCKDB_PATH),
        )

    @property
    def dagster_home(self) -> Path:
        """Run history lives beside its warehouse, so `voc run` and `voc ui` share it."""
        return self.duckdb_path.parent / "dagster_home"

    def export(self, environ: dict[str, str] | None = None) -> None:
        """Make the resolved paths visible to subprocesses (dbt, dagster dev)."""
        environ = os.environ if environ is None else environ
        environ["VOC_LANDING_DIR"] = str(self.landing_dir)
        environ["VOC_DUCKDB_PATH"] = str(self.duckdb_path)
        environ.setdefault("DAGSTER_HOME", str(self.dagster_home))
        # dbt and dagster live beside this interpreter; `voc` may run without an activated venv.
        bin_dir = str(Path(sys.executable).parent)
        if bin_dir not in environ.get("PATH", "").split(os.pathsep):
            environ["PATH"] = bin_dir + os.pathsep + environ.get("PATH", "")

    def landing_has_source_files(self) -> bool:
        """True when any source folder of the landing dir holds a file (then no demo data is added)."""
        return any(
            path.is_file()
            for family in FAMILIES
            if (self.landing_dir / family).is_dir()
            for path in (self.landing_dir / family).iterdir()
        )


def _resolve(value: str | None, default: Path) -> Path:
    if not value:
        return default
    path = Path(value).expanduser()
    return path if path.is_absolute() else (REPO_ROOT / path).resolve()
