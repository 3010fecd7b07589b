"""Publications of the public marts: built complete, made current by one rename, kept for rollback.

Layout under the publish folder (``VocSettings.publish_dir``, ``data/published`` by default)::

    publications/<UTC time>-<run id>/      one complete publication per night that passed its checks
        voc_marts.duckdb                   one table per public mart + _publication, with comments
        parquet/<mart>.parquet             one Parquet file per mart
        manifest.json                      run id, git revision, time, checks, marts (rows, columns, keys)
    current -> publications/<...>          the current publication (a symlink, swapped with os.replace)
    voc_marts.duckdb -> current/voc_marts.duckdb     what readers open (stable path)
    manifest.json    -> current/manifest.json
    parquet          -> current/parquet

A publication is built in a hidden ``.building-*`` folder beside ``publications/`` (same file
system), synced to disk, renamed into ``publications/`` and only then made current by replacing
the ``current`` symlink in one ``rename(2)``. A reader resolves ``voc_marts.duckdb`` through
``current`` when it opens the file, so it opens the previous or the new publication, never a mix;
a reader that has a file open keeps reading it (a publication is never written again, and one
deleted by retention stays readable while open). Only this module writes the publish folder; it
reads the working warehouse read-only (``ATTACH ... (READ_ONLY)``) and never writes it.

No Dagster here: the ``published_marts`` asset, ``voc publish`` and the benchmark call it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from orchestration.marts_reader import MartsReader

FORMAT_VERSION = 1
DATABASE_NAME = "voc_marts.duckdb"
MANIFEST_NAME = "manifest.json"
PARQUET_DIR = "parquet"
PUBLICATIONS_DIR = "publications"
CURRENT_LINK = "current"
# the stable paths beside `current` that readers use; each resolves through `current`
STABLE_NAMES = (DATABASE_NAME, MANIFEST_NAME, PARQUET_DIR)
PUBLICATION_TABLE = "_publication"
ROLLED_BACK_MARKER = "rolled_back.json"
LOCK_NAME = ".publish.lock"
BUILD_PREFIX = ".building-"
MART_SCHEMA = "marts"
WORKING_ALIAS = "working"
PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd"
UNIQUE_COMBINATION_TESTS = {"unique_combination": "columns", "unique_combination_of_columns": "combination_of_columns"}
# the columns BI tools filter by, by name: dates / weeks / periods, source and channel, store, tag, region
FILTER_COLUMN = re.compile(
    r"(.+_)?(date|week|week_start|month|period_start|period_type)"
    r"|source|source_family|channel"
    r"|(.+_)?store_id"
    r"|(primary_)?tag|tag_l[12]|l[12]"
    r"|(.+_)?region"
)


class PublicationError(RuntimeError):
    """A publication could not be made, found or rolled back; the current one is unchanged."""


# --- what is published: the marts layer of the dbt manifest -------------------------------------


@dataclass(frozen=True)
class MartSpec:
    """One public mart as dbt documents it."""

    name: str  # the dbt model, and the table name in the publication
    relation: str  # the table's name in the working warehouse's marts schema (dbt alias)
    description: str
    columns: Mapping[str, str]  # column -> description, in the order of the YAML
    primary_key: tuple[str, ...]


def _test_name(test: Mapping[str, Any]) -> str | None:
    return (test.get("test_metadata") or {}).get("name")


def _test_column(test: Mapping[str, Any]) -> str | None:
    return test.get("column_name") or ((test.get("test_metadata") or {}).get("kwargs") or {}).get("column_name")


def primary_key_of(node: Mapping[str, Any], tests: Sequence[Mapping[str, Any]]) -> list[str]:
    """The mart's primary key: its contract's ``primary_key`` constraint (model or column level),
    else the first column with both a ``unique`` test and a ``not_null`` test or constraint, else
    the columns of a unique-combination test; ``[]`` when it declares none."""
    for constraint in node.get("constraints") or []:
        if constraint.get("type") == "primary_key" and constraint.get("columns"):
            return list(constraint["columns"])
    columns = {column.get("name", key): column for key, column in (node.get("columns") or {}).items()}
    declared = [name for name, column in columns.items()
                if any(c.get("type") == "primary_key" for c in column.get("constraints") or [])]
    if declared:
        return declared
    unique = {_test_column(test) for test in tests if _test_name(test) == "unique"}
    not_null = {_test_column(test) for test in tests if _test_name(test) == "not_null"}
    not_null |= {name for name, column in columns.items()
                 if any(c.get("type") == "not_null" for c in column.get("constraints") or [])}
    single = [name for name in columns if name in unique and name in not_null]
    single += sorted(name for name in unique & not_null if name and name not in columns)
    if single:
        return [single[0]]
    for test in tests:
        argument = UNIQUE_COMBINATION_TESTS.get(_test_name(test) or "")
        combination = ((test.get("test_metadata") or {}).get("kwargs") or {}).get(argument) if argument else None
        if combination:
            return list(combination)
    return []


def public_marts(manifest: Mapping[str, Any]) -> list[MartSpec]:
    """Every dbt model of the marts layer (``schema: marts``), sorted by name: a new mart is
    published without a change here."""
    nodes = manifest.get("nodes", {})
    tests: dict[str, list[Mapping[str, Any]]] = {}
    for node in nodes.values():
        if node.get("resource_type") == "test":
            for attached in [node.get("attached_node")] if node.get("attached_node") else []:
                tests.setdefault(attached, []).append(node)
    marts = []
    for unique_id, node in nodes.items():
        config = node.get("config") or {}
        if node.get("resource_type") != "model" or config.get("schema") != MART_SCHEMA:
            continue
        if config.get("materialized") == "ephemeral":
            continue  # nothing in the warehouse to copy
        marts.append(MartSpec(
            name=node["name"],
            relation=node.get("alias") or node["name"],
            description=(node.get("description") or "").strip(),
            columns={column.get("name", key): (column.get("description") or "").strip()
                     for key, column in (node.get("columns") or {}).items()},
            primary_key=tuple(primary_key_of(node, tests.get(unique_id, []))),
        ))
    return sorted(marts, key=lambda mart: mart.name)


def filter_columns(columns: Sequence[str]) -> list[str]:
    """The columns of a mart that BI tools filter by (name rule ``FILTER_COLUMN``), in table order."""
    return [name for name in columns if FILTER_COLUMN.fullmatch(name)]


def git_revision(repo_root: Path) -> str:
    """The commit the code runs at (``-dirty`` with uncommitted changes to tracked files), or
    ``unknown`` outside a git checkout."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=repo_root, capture_output=True, text=True, timeout=30,
                              check=True).stdout.strip()

    try:
        revision = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return revision + ("-dirty" if dirty else "")


# --- one publication ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Publication:
    """A complete publication folder and its manifest."""

    path: Path
    manifest: Mapping[str, Any]

    @classmethod
    def read(cls, path: Path) -> Publication:
        return cls(path, json.loads((path / MANIFEST_NAME).read_text("utf-8")))

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def run_id(self) -> str:
        return self.manifest["run_id"]

    @property
    def published_at(self) -> str:
        return self.manifest["published_at"]

    @property
    def rows(self) -> dict[str, int]:
        return {name: mart["rows"] for name, mart in self.manifest["marts"].items()}

    @property
    def rolled_back(self) -> bool:
        """True once `voc publish --rollback` has moved away from it (it is never made current by a rollback again)."""
        return (self.path / ROLLED_BACK_MARKER).exists()

    @property
    def order(self) -> tuple[str, str]:
        return (self.published_at, self.name)


@contextmanager
def publish_lock(publish_dir: Path) -> Iterator[None]:
    """One writer of the publish folder at a time (a night's publish, a rollback)."""
    publish_dir.mkdir(parents=True, exist_ok=True)
    with open(publish_dir / LOCK_NAME, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def list_publications(publish_dir: Path) -> list[Publication]:
    """Every kept publication, oldest first."""
    folder = publish_dir / PUBLICATIONS_DIR
    if not folder.is_dir():
        return []
    found = [Publication.read(path) for path in folder.iterdir()
             if path.is_dir() and (path / MANIFEST_NAME).is_file()]
    return sorted(found, key=lambda publication: publication.order)


def current_publication(publish_dir: Path) -> Publication | None:
    """The publication ``current`` points at, or None before the first one."""
    link = publish_dir / CURRENT_LINK
    if not link.is_symlink():
        return None
    target = (publish_dir / os.readlink(link)).resolve()
    return Publication.read(target) if (target / MANIFEST_NAME).is_file() else None


def publish(
    warehouse_path: Path | MartsReader,
    publish_dir: Path,
    marts: Sequence[MartSpec],
    run_id: str,
    git_revision: str,
    checks_passed: Sequence[str],
    keep: int,
    now: datetime | None = None,
) -> Publication:
    """Copy ``marts`` from the working warehouse (the DuckDB file, read-only, or a marts reader of
    either engine) into a new publication, make it current atomically and delete all but the ``keep`` newest (the current one is always kept).

    Raises ``PublicationError`` (the current publication untouched) when a mart is missing from
    the warehouse; any other failure leaves the current publication untouched as well.
    """
    if not marts:
        raise PublicationError("the dbt manifest has no model in the marts layer: nothing to publish")
    published_at = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    with publish_lock(publish_dir):
        _remove_unfinished_builds(publish_dir)
        name = _publication_name(publish_dir, published_at, run_id)
        build = publish_dir / f"{BUILD_PREFIX}{name}"
        build.mkdir()
        try:
            manifest = _build(warehouse_path, build, marts, run_id, git_revision, checks_passed, published_at,
                              previous=current_publication(publish_dir))
            _sync_tree(build)
            final = publish_dir / PUBLICATIONS_DIR / name
            final.parent.mkdir(exist_ok=True)
            os.rename(build, final)
            _sync_dir(final.parent)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
        _make_current(publish_dir, final)
        prune(publish_dir, keep)
    return Publication(final, manifest)


def rollback(publish_dir: Path) -> tuple[Publication, Publication]:
    """Make the newest kept publication before the current one current again (skipping any that
    a rollback already left); returns (the one left, the one now current). The one left is
    marked so that a later rollback does not return to it. Raises ``PublicationError`` when
    there is no current publication or no earlier one."""
    with publish_lock(publish_dir):
        current = current_publication(publish_dir)
        if current is None:
            raise PublicationError(f"nothing is published in {publish_dir} yet: there is nothing to roll back")
        earlier = [p for p in list_publications(publish_dir)
                   if p.order < current.order and not p.rolled_back]
        if not earlier:
            raise PublicationError(
                f"no earlier publication is kept in {publish_dir / PUBLICATIONS_DIR} (current: run {current.run_id}, "
                f"published {current.published_at}); nothing was changed"
            )
        previous = earlier[-1]
        marker = current.path / ROLLED_BACK_MARKER
        marker.write_text(json.dumps({"rolled_back_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                      "now_current": previous.name}), "utf-8")
        _sync_file(marker)
        _make_current(publish_dir, previous.path)
    return current, previous


def prune(publish_dir: Path, keep: int) -> list[Path]:
    """Delete every publication but the ``keep`` newest and the current one; returns the deleted.
    A reader that has a deleted file open keeps reading it until it closes it."""
    current = current_publication(publish_dir)
    kept = list_publications(publish_dir)
    doomed = [p.path for p in kept[:-keep] if current is None or p.path != current.path] if keep > 0 else []
    for path in doomed:
        shutil.rmtree(path)
    return doomed


# --- building ----------------------------------------------------------------------------------------


def _publication_name(publish_dir: Path, published_at: datetime, run_id: str) -> str:
    stem = f"{published_at:%Y%m%dT%H%M%S}Z-{re.sub(r'[^A-Za-z0-9_-]', '_', run_id)[:64]}"
    name, n = stem, 1
    while (publish_dir / PUBLICATIONS_DIR / name).exists():
        n += 1
        name = f"{stem}-{n}"
    return name


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _build(
    warehouse_path: Path | MartsReader,
    build: Path,
    marts: Sequence[MartSpec],
    run_id: str,
    git_revision: str,
    checks_passed: Sequence[str],
    published_at: datetime,
    previous: Publication | None = None,
) -> dict[str, Any]:
    """Write the DuckDB file, the Parquet files and the manifest into ``build``; returns the manifest.

    What did not change since ``previous`` (the current publication) is not copied again. Each
    mart's content fingerprint (:func:`_fingerprint`) is taken in the working warehouse first;
    when some equal the ones ``previous`` recorded, the build starts from a copy of its DuckDB
    file (a file copy, not a re-encoding), keeps those marts' tables, and replaces only the
    others; their Parquet files become hard links to ``previous``'s (a publication is never
    written again, so the two share a file that does not change). Comments are set afresh on
    every table. Where a link cannot be made (another file system) the file is written anew.
    """
    (build / PARQUET_DIR).mkdir()
    manifest_marts: dict[str, Any] = {}
    # another engine's marts come through its reader as Arrow and are copied whole; from the
    # DuckDB warehouse, what did not change since ``previous`` is reused
    reader = None if isinstance(warehouse_path, (str, Path)) else warehouse_path
    fingerprints = _working_fingerprints(warehouse_path, marts) if reader is None else {}
    previous_marts = (previous.manifest.get("marts") or {}) if previous is not None else {}
    unchanged = {mart.name for mart in marts if mart.name in fingerprints
                 and (previous_marts.get(mart.name) or {}).get("fingerprint") == fingerprints[mart.name][2]}
    if unchanged and previous is not None and (previous.path / DATABASE_NAME).is_file():
        shutil.copyfile(previous.path / DATABASE_NAME, build / DATABASE_NAME)
    else:
        unchanged = set()
    with duckdb.connect(str(build / DATABASE_NAME)) as con:
        if reader is None:
            con.execute(f"ATTACH {_literal(str(warehouse_path))} AS {WORKING_ALIAS} (READ_ONLY)")
        else:
            missing = [mart.relation for mart in marts if not reader.exists(f"{MART_SCHEMA}.{mart.relation}")]
            if missing:
                raise PublicationError(f"marts missing from {warehouse_path}: {', '.join(missing)} (was dbt built?)")
        kept = {row[0] for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'"
        ).fetchall()}
        unchanged &= kept
        for stale in sorted(kept - unchanged):  # marts that changed or left, and the old _publication
            con.execute(f"DROP TABLE main.{_quote(stale)}")
        for mart in marts:
            table = _quote(mart.name)
            if mart.name in unchanged:
                pass
            elif reader is None:
                con.execute(
                    f"CREATE TABLE main.{table} AS SELECT * FROM {WORKING_ALIAS}.{MART_SCHEMA}.{_quote(mart.relation)}"
                )
            else:
                con.register("voc_source_mart", reader.table(f"{MART_SCHEMA}.{mart.relation}"))
                con.execute(f"CREATE TABLE main.{table} AS SELECT * FROM voc_source_mart")
                con.unregister("voc_source_mart")
                fingerprints[mart.name] = _fingerprint(con, f"main.{table}")
            columns = con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() "
                "AND schema_name = 'main' AND table_name = ? ORDER BY column_index", [mart.name]
            ).fetchall()
            described = {name.lower(): text for name, text in mart.columns.items()}
            con.execute(f"COMMENT ON TABLE main.{table} IS {_literal(mart.description) if mart.description else 'NULL'}")
            for column, _ in columns:
                text = described.get(column.lower())
                if text or mart.name in unchanged:  # a kept table may hold a comment since removed
                    con.execute(f"COMMENT ON COLUMN main.{table}.{_quote(column)} IS {_literal(text) if text else 'NULL'}")
            rows, _, fingerprint = fingerprints[mart.name]
            parquet = f"{PARQUET_DIR}/{mart.name}.parquet"
            if mart.name not in unchanged or not _link_unchanged_parquet(previous, mart.name, fingerprint, build / parquet):
                con.execute(f"COPY main.{table} TO {_literal(str(build / parquet))} ({PARQUET_OPTIONS})")
            manifest_marts[mart.name] = {
                "rows": int(rows),
                "fingerprint": fingerprint,
                "parquet": parquet,
                "description": mart.description,
                "primary_key": list(mart.primary_key),
                "filter_columns": filter_columns([name for name, _ in columns]),
                "columns": [{"name": name, "type": data_type, "description": described.get(name.lower(), "")}
                            for name, data_type in columns],
            }
        if reader is None:
            con.execute(f"DETACH {WORKING_ALIAS}")
        con.execute(f"CREATE TABLE main.{PUBLICATION_TABLE} (run_id VARCHAR, git_revision VARCHAR, published_at TIMESTAMPTZ)")
        con.execute(f"INSERT INTO main.{PUBLICATION_TABLE} VALUES (?, ?, ?)", [run_id, git_revision, published_at])
        con.execute(f"COMMENT ON TABLE main.{PUBLICATION_TABLE} IS "
                    "'The night this publication comes from: Dagster run id, git revision of the code, when it was published.'")
        con.execute("CHECKPOINT")
    manifest = {
        "format": FORMAT_VERSION,
        "run_id": run_id,
        "git_revision": git_revision,
        "published_at": published_at.isoformat(timespec="seconds"),
        "checks_passed": sorted(checks_passed),
        "marts": manifest_marts,
    }
    (build / MANIFEST_NAME).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", "utf-8")
    for path in [build / DATABASE_NAME, build / MANIFEST_NAME, *(build / PARQUET_DIR).iterdir()]:
        path.chmod(0o444)  # a publication is never written again
    return manifest


def _working_fingerprints(warehouse_path: Path, marts: Sequence[MartSpec]) -> dict[str, tuple[int, list, str]]:
    """``mart -> (rows, columns with their types, content fingerprint)`` read from the working
    warehouse (read only). Raises ``PublicationError`` when a mart is missing.

    The fingerprint covers the columns and their types, the row count and the sum of the rows'
    hashes (a multiset hash: row order does not count, a changed, added or removed row does),
    with the Parquet options and the DuckDB version the files are written with.
    """
    found: dict[str, tuple[int, list, str]] = {}
    with duckdb.connect() as con:
        con.execute(f"ATTACH {_literal(str(warehouse_path))} AS {WORKING_ALIAS} (READ_ONLY)")
        available = {row[0] for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? "
            "UNION ALL SELECT view_name FROM duckdb_views() WHERE database_name = ? AND schema_name = ?",
            [WORKING_ALIAS, MART_SCHEMA, WORKING_ALIAS, MART_SCHEMA],
        ).fetchall()}
        missing = [mart.relation for mart in marts if mart.relation not in available]
        if missing:
            raise PublicationError(f"marts missing from {warehouse_path}: {', '.join(missing)} (was dbt built?)")
        for mart in marts:
            relation = f"{WORKING_ALIAS}.{MART_SCHEMA}.{_quote(mart.relation)}"
            found[mart.name] = _fingerprint(con, relation)
    return found


def _fingerprint(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[int, list, str]:
    """``(rows, columns with their types, content fingerprint)`` of one relation (see above)."""
    typed = [[row[0], row[1]] for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
    rows, hashed = con.execute(f"SELECT count(*), coalesce(sum(hash(t)), 0) FROM {relation} AS t").fetchone()
    text = json.dumps([PARQUET_OPTIONS, duckdb.__version__, typed, int(rows), str(hashed)])
    return int(rows), typed, hashlib.sha256(text.encode("utf-8")).hexdigest()


def _link_unchanged_parquet(previous: Publication | None, mart: str, fingerprint: str, target: Path) -> bool:
    """Hard-link the previous publication's Parquet file of ``mart`` to ``target`` when that
    publication recorded the same content fingerprint; False when there is nothing to link."""
    recorded = (previous.manifest.get("marts") or {}).get(mart) if previous is not None else None
    if not recorded or recorded.get("fingerprint") != fingerprint or not recorded.get("parquet"):
        return False
    source = previous.path / recorded["parquet"]
    try:
        os.link(source, target)
    except OSError:
        return False
    return True


def _remove_unfinished_builds(publish_dir: Path) -> None:
    """Builds left by a publish that died (under the lock, so none is in progress)."""
    for path in publish_dir.glob(f"{BUILD_PREFIX}*"):
        shutil.rmtree(path, ignore_errors=True)


def _replace_symlink(link: Path, target: str) -> None:
    """Point ``link`` at ``target`` in one rename: a reader sees the old target or the new one."""
    temporary = link.with_name(f".{link.name}.{uuid.uuid4().hex}")
    os.symlink(target, temporary)
    os.replace(temporary, link)


def _make_current(publish_dir: Path, publication: Path) -> None:
    """Swap ``current`` to ``publication`` and make sure the stable reader paths exist."""
    _replace_symlink(publish_dir / CURRENT_LINK, os.path.relpath(publication, publish_dir))
    for name in STABLE_NAMES:
        link, target = publish_dir / name, f"{CURRENT_LINK}/{name}"
        if link.is_symlink() and os.readlink(link) == target:
            continue
        if link.exists() and not link.is_symlink():
            raise PublicationError(f"{link} exists and is not the publication's link to {target}: move it away")
        _replace_symlink(link, target)
    _sync_dir(publish_dir)


def _sync_file(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _sync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _sync_tree(root: Path) -> None:
    """Every file and folder under ``root`` on disk before the publication is renamed into place."""
    for folder, _, files in os.walk(root, topdown=False):
        for name in files:
            _sync_file(Path(folder) / name)
        _sync_dir(Path(folder))
