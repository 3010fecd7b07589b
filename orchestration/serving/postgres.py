"""Load a publication into PostgreSQL (schema ``voc_marts``) so BI readers never see it half done.

``serve_publication(publication_dir, url)`` reads the publication's ``manifest.json`` and Parquet
files (the format is in docs/serving.md) and:

1. takes a session advisory lock, so two servings of one database run one after the other;
2. builds a fresh schema ``voc_marts__loading``: one table per mart with PostgreSQL types mapped
   from the DuckDB types (``pg_type``), filled by ADBC's binary ``COPY`` from Arrow batches (the
   faster of the mechanisms measured by ``devtools/bench/serving_copy.py``), row counts checked
   against the manifest, primary keys (manifest ``primary_key``), an index per filter column
   (GIN for arrays), ``COMMENT ON`` every table and column, ``ANALYZE``, a one-row
   ``_publication`` table, and ``USAGE``/``SELECT`` for every registered read-only role;
3. swaps it in, in ONE transaction: ``LOCK`` every table of the served schema in ACCESS
   EXCLUSIVE mode, ``_publication`` first, then rename ``voc_marts`` away, rename the new schema
   to ``voc_marts`` and drop the old one.

What a reader sees: a statement, or a READ COMMITTED transaction, that touched the old schema
holds its ACCESS SHARE locks until it ends, so the swap waits for it and the reader finishes on
the old publication; a reader that comes after waits for the swap (at most ``lock_timeout``)
and then resolves ``voc_marts.<mart>`` to the new tables. Readers that read ``_publication``
first never see a mix. The swap never waits long: its ``lock_timeout`` (500 ms) is below
PostgreSQL's ``deadlock_timeout`` (1 s), so when a reader holds a lock the swap needs (a long BI
query, or one that reads the marts in another order) the swap gives up first, its waiting
readers go on, and it tries again after a pause, up to ``swap_attempts`` times; then it fails
and the previous publication stays served. (A REPEATABLE READ transaction whose snapshot was
taken before the swap would see the new tables empty: BI tools use READ COMMITTED.)

The URL is a secret (it may hold a password): errors name ``host:port/database`` only.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA = "voc_marts"
LOADING_SCHEMA = "voc_marts__loading"
RETIRED_SCHEMA = "voc_marts__retired"
REGISTRY_SCHEMA = "voc_serving"
REGISTRY_TABLE = "readonly_roles"
PUBLICATION_TABLE = "_publication"
MANIFEST_FORMAT = 1
# below PostgreSQL's default deadlock_timeout (1 s): the swap, not a reader, gives way
DEFAULT_LOCK_TIMEOUT_MS = 500
DEFAULT_SWAP_ATTEMPTS = 40
DEFAULT_BATCH_ROWS = 100_000
# pg_advisory_lock key of "one serving at a time per database" (any constant bigint)
ADVISORY_LOCK_KEY = 7_310_215_001


class ServingError(RuntimeError):
    """Serving failed; the message names the server by host:port/database only, never the URL."""


# --- the publication -----------------------------------------------------------------------


@dataclass(frozen=True)
class MartColumn:
    name: str
    duckdb_type: str
    description: str = ""


@dataclass(frozen=True)
class MartSpec:
    name: str
    rows: int
    parquet: Path
    description: str
    primary_key: tuple[str, ...]
    filter_columns: tuple[str, ...]
    columns: tuple[MartColumn, ...]


@dataclass(frozen=True)
class Publication:
    directory: Path
    run_id: str
    git_revision: str
    published_at: str
    marts: tuple[MartSpec, ...]


def read_publication(publication_dir: Path) -> Publication:
    """The publication's manifest, checked: format 1, every mart's Parquet file present."""
    publication_dir = Path(publication_dir)
    manifest_path = publication_dir / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ServingError(f"cannot read the publication manifest {manifest_path}: {type(exc).__name__}") from None
    if manifest.get("format") != MANIFEST_FORMAT:
        raise ServingError(f"{manifest_path}: format {manifest.get('format')!r} is not {MANIFEST_FORMAT}")
    marts = []
    for name, mart in sorted(manifest.get("marts", {}).items()):
        if name == PUBLICATION_TABLE or not _IDENTIFIER.fullmatch(name):
            raise ServingError(f"{manifest_path}: mart name {name!r} cannot be served")
        parquet = publication_dir / mart["parquet"]
        if not parquet.is_file():
            raise ServingError(f"{manifest_path}: {parquet} is missing")
        columns = tuple(MartColumn(c["name"], c["type"], c.get("description") or "") for c in mart["columns"])
        names = {c.name for c in columns}
        primary_key = tuple(mart.get("primary_key") or ())
        if not set(primary_key) <= names:
            raise ServingError(f"{manifest_path}: primary key {primary_key} of {name} names unknown columns")
        marts.append(MartSpec(
            name=name,
            rows=int(mart["rows"]),
            parquet=parquet,
            description=mart.get("description") or "",
            primary_key=primary_key,
            filter_columns=tuple(c for c in mart.get("filter_columns") or () if c in names),
            columns=columns,
        ))
    if not marts:
        raise ServingError(f"{manifest_path}: the publication has no marts")
    return Publication(publication_dir, str(manifest["run_id"]), str(manifest.get("git_revision") or ""),
                       str(manifest["published_at"]), tuple(marts))


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# --- types ---------------------------------------------------------------------------------

_SCALAR_TYPES = {
    "VARCHAR": "text", "TEXT": "text", "STRING": "text", "CHAR": "text", "BPCHAR": "text",
    "BIGINT": "bigint", "INT8": "bigint", "LONG": "bigint",
    "INTEGER": "integer", "INT": "integer", "INT4": "integer", "SIGNED": "integer",
    "SMALLINT": "smallint", "INT2": "smallint", "SHORT": "smallint", "TINYINT": "smallint", "INT1": "smallint",
    "UTINYINT": "smallint", "USMALLINT": "integer", "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)", "HUGEINT": "numeric(38,0)", "UHUGEINT": "numeric(39,0)",
    "DOUBLE": "double precision", "FLOAT8": "double precision",
    "FLOAT": "real", "FLOAT4": "real", "REAL": "real",
    "DECIMAL": "numeric(18,3)", "NUMERIC": "numeric(18,3)",
    "BOOLEAN": "boolean", "BOOL": "boolean", "LOGICAL": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp", "DATETIME": "timestamp", "TIMESTAMP_US": "timestamp",
    "TIMESTAMP_MS": "timestamp", "TIMESTAMP_S": "timestamp", "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz", "TIMESTAMPTZ": "timestamptz",
    "TIME": "time", "INTERVAL": "interval", "UUID": "uuid", "BLOB": "bytea", "BYTEA": "bytea",
    "JSON": "jsonb",
}
# DuckDB types Arrow hands over as types ADBC's COPY writer does not take: cast in DuckDB first
_DUCKDB_CASTS = {"UTINYINT": "SMALLINT", "USMALLINT": "INTEGER", "UINTEGER": "BIGINT",
                 "UBIGINT": "DECIMAL(20,0)", "UHUGEINT": "DECIMAL(38,0)", "TINYINT": "SMALLINT", "INT1": "SMALLINT",
                 "TIMESTAMP_NS": "TIMESTAMP", "TIMESTAMP_MS": "TIMESTAMP", "TIMESTAMP_S": "TIMESTAMP"}
_DECIMAL = re.compile(r"(?:DECIMAL|NUMERIC)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)")


def pg_type(duckdb_type: str) -> str:
    """The PostgreSQL type of a column of DuckDB type ``duckdb_type``: VARCHAR -> text,
    DOUBLE -> double precision, DECIMAL(p,s) -> numeric(p,s), TIMESTAMPTZ -> timestamptz,
    VARCHAR[] -> text[], STRUCT/MAP/UNION and lists of those or of lists -> jsonb."""
    text = " ".join(duckdb_type.strip().upper().split())
    if text.endswith("[]"):
        element = text[:-2]
        if element.endswith("]") or element.startswith(("STRUCT", "MAP", "UNION", "JSON")):
            return "jsonb"
        return pg_type(element) + "[]"
    if re.fullmatch(r".+\[\d+\]", text):  # DuckDB fixed-size ARRAY: a list of that element
        return pg_type(re.sub(r"\[\d+\]$", "[]", text))
    if text.startswith(("STRUCT", "MAP", "UNION")):
        return "jsonb"
    if match := _DECIMAL.fullmatch(text):
        precision, scale = match.group(1), match.group(2) or "0"
        return f"numeric({precision},{scale})"
    if text.startswith(("VARCHAR(", "CHAR(")):
        return "text"
    try:
        return _SCALAR_TYPES[text]
    except KeyError:
        raise ServingError(f"no PostgreSQL type for the DuckDB type {duckdb_type!r}") from None


def _select_expression(column: MartColumn) -> str:
    """How DuckDB hands the column to the copy: as it is, JSON text for jsonb, or cast to a
    type the Arrow -> COPY writer takes."""
    quoted = '"' + column.name.replace('"', '""') + '"'
    target = pg_type(column.duckdb_type)
    upper = " ".join(column.duckdb_type.strip().upper().split())
    if target == "jsonb":
        return f"CAST({quoted} AS VARCHAR) AS {quoted}" if upper == "JSON" else f"CAST(to_json({quoted}) AS VARCHAR) AS {quoted}"
    if upper in _DUCKDB_CASTS:
        return f"CAST({quoted} AS {_DUCKDB_CASTS[upper]}) AS {quoted}"
    return quoted


# --- the server, named without its secrets --------------------------------------------------


def describe_target(url: str) -> str:
    """``host:port/database`` of a PostgreSQL URL or conninfo string: no user, no password."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(url)
    except Exception:  # a malformed URL's error message would quote it
        return "?"
    host = str(parts.get("host") or parts.get("hostaddr") or "localhost")
    if host.startswith("/"):
        host = "local socket"
    return f"{host}:{parts.get('port') or 5432}/{parts.get('dbname') or '?'}"


def _scrub(text: str, url: str) -> str:
    """An error text from the driver with the URL, its password and any URL removed."""
    from loaders.api.safe_errors import redact_urls

    secrets = [url]
    try:
        from psycopg.conninfo import conninfo_to_dict

        password = conninfo_to_dict(url).get("password")
        if password:
            secrets.append(str(password))
    except Exception:
        pass
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return redact_urls(text).strip()


def _failure(url: str, doing: str, exc: BaseException) -> ServingError:
    detail = _scrub(str(exc).splitlines()[0] if str(exc) else "", url)
    return ServingError(f"PostgreSQL {describe_target(url)}: {doing} failed: {type(exc).__name__}" + (f": {detail}" if detail else ""))


def _connect(url: str, autocommit: bool = False):
    import psycopg

    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=10, application_name="voc serve")
    except Exception as exc:
        raise _failure(url, "connecting", exc) from None


# --- serving -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MartLoad:
    name: str
    rows: int
    seconds: float


@dataclass(frozen=True)
class ServeResult:
    """What one serving did: the run served, rows and seconds per mart, and the swap."""

    run_id: str
    target: str
    marts: tuple[MartLoad, ...]
    load_seconds: float
    swap_seconds: float
    swap_attempts: int
    seconds: float
    roles: tuple[str, ...] = field(default=())

    @property
    def rows(self) -> dict[str, int]:
        return {mart.name: mart.rows for mart in self.marts}

    def metadata(self) -> dict[str, object]:
        """Plain values for a Dagster event or a log line (no URL)."""
        return {"served_run_id": self.run_id, "postgres": self.target, "rows": self.rows,
                "load_seconds": round(self.load_seconds, 2), "swap_seconds": round(self.swap_seconds, 3),
                "swap_attempts": self.swap_attempts, "seconds": round(self.seconds, 2), "readonly_roles": list(self.roles)}


def serve_publication(
    publication_dir: Path,
    url: str,
    *,
    lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
    swap_attempts: int = DEFAULT_SWAP_ATTEMPTS,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> ServeResult:
    """Load every mart of the publication in ``publication_dir`` into PostgreSQL at ``url`` and
    make it the contents of schema ``voc_marts`` in one transaction (see the module's doc).

    Raises ``ServingError`` (naming host:port/database only) when the publication cannot be read,
    the server cannot be reached, a copy does not match the manifest's row count, or the swap
    cannot take its locks within ``swap_attempts`` tries; ``voc_marts`` is then left as it was."""
    started = time.perf_counter()
    publication = read_publication(publication_dir)
    target = describe_target(url)
    conn = _connect(url)
    try:
        try:
            conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
            conn.commit()
            _ensure_registry(conn)
            _drop_schema(conn, LOADING_SCHEMA, lock_timeout_ms)
            _create_tables(conn, publication)
        except ServingError:
            raise
        except Exception as exc:
            raise _failure(url, "preparing the load", exc) from None
        loads = _copy_marts(url, publication, batch_rows)
        try:
            roles = _finish_schema(conn, publication)
        except Exception as exc:
            raise _failure(url, "building keys, indexes and grants", exc) from None
        load_seconds = time.perf_counter() - started
        swap_started = time.perf_counter()
        attempts = _swap(conn, url, lock_timeout_ms, swap_attempts)
        swap_seconds = time.perf_counter() - swap_started
    except BaseException:
        _drop_loading_quietly(conn, lock_timeout_ms)
        raise
    finally:
        _close_quietly(conn)
    return ServeResult(publication.run_id, target, loads, load_seconds, swap_seconds, attempts,
                       time.perf_counter() - started, roles)


def _ident(*parts: str):
    from psycopg import sql

    return sql.Identifier(*parts)


def _ensure_registry(conn) -> None:
    """``voc_serving.readonly_roles``: the roles every swap grants read access to."""
    from psycopg import sql

    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(_ident(REGISTRY_SCHEMA)))
    conn.execute(sql.SQL(
        "CREATE TABLE IF NOT EXISTS {} (role_name text PRIMARY KEY, registered_at timestamptz NOT NULL DEFAULT now())"
    ).format(_ident(REGISTRY_SCHEMA, REGISTRY_TABLE)))
    conn.commit()


def _drop_schema(conn, schema: str, lock_timeout_ms: int) -> None:
    from psycopg import sql

    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{max(lock_timeout_ms, 1000)}ms")))
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(_ident(schema)))


def _create_tables(conn, publication: Publication) -> None:
    """The loading schema and one empty table per mart (jsonb columns as text until loaded)."""
    from psycopg import sql

    with conn.transaction():
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(_ident(LOADING_SCHEMA)))
        for mart in publication.marts:
            columns = []
            for column in mart.columns:
                target = pg_type(column.duckdb_type)
                load_type = "text" if target == "jsonb" else target
                columns.append(sql.SQL("{} {}").format(_ident(column.name), sql.SQL(load_type)))
            conn.execute(sql.SQL("CREATE TABLE {} ({})").format(_ident(LOADING_SCHEMA, mart.name), sql.SQL(", ").join(columns)))


def _copy_marts(url: str, publication: Publication, batch_rows: int) -> tuple[MartLoad, ...]:
    """Every mart's Parquet file into its table: DuckDB reads it as Arrow batches, ADBC writes
    them with binary COPY. Each table's row count must equal the manifest's."""
    import adbc_driver_postgresql.dbapi as adbc
    import duckdb

    loads = []
    try:
        adbc_conn = adbc.connect(url)
    except Exception as exc:
        raise _failure(url, "connecting (ADBC)", exc) from None
    reader_db = duckdb.connect()
    try:
        for mart in publication.marts:
            mart_started = time.perf_counter()
            select = ", ".join(_select_expression(column) for column in mart.columns)
            path = str(mart.parquet).replace("'", "''")
            try:
                batches = reader_db.sql(f"SELECT {select} FROM read_parquet('{path}')").to_arrow_reader(batch_rows)
                with adbc_conn.cursor() as cursor:
                    rows = cursor.adbc_ingest(mart.name, batches, mode="append", db_schema_name=LOADING_SCHEMA)
                adbc_conn.commit()
            except Exception as exc:
                raise _failure(url, f"copying {mart.name}", exc) from None
            if rows is None or rows < 0:
                with adbc_conn.cursor() as cursor:
                    cursor.execute(f'SELECT count(*) FROM "{LOADING_SCHEMA}"."{mart.name}"')
                    rows = int(cursor.fetchone()[0])
            if rows != mart.rows:
                raise ServingError(f"PostgreSQL {describe_target(url)}: {mart.name} got {rows} rows, the manifest says {mart.rows}")
            loads.append(MartLoad(mart.name, int(rows), time.perf_counter() - mart_started))
    finally:
        reader_db.close()
        _close_quietly(adbc_conn)
    return tuple(loads)


def _finish_schema(conn, publication: Publication) -> tuple[str, ...]:
    """jsonb columns, primary keys, indexes, comments, statistics, ``_publication`` and the
    read-only roles' grants, all in the loading schema (nobody reads it yet)."""
    from psycopg import sql

    with conn.transaction():
        for mart in publication.marts:
            table = _ident(LOADING_SCHEMA, mart.name)
            for column in mart.columns:
                if pg_type(column.duckdb_type) == "jsonb":
                    conn.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE jsonb USING {}::jsonb").format(
                        table, _ident(column.name), _ident(column.name)))
            if mart.primary_key:
                conn.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({})").format(
                    table, _ident(_index_name(mart.name, "pkey")), sql.SQL(", ").join(_ident(c) for c in mart.primary_key)))
            types = {column.name: pg_type(column.duckdb_type) for column in mart.columns}
            for column in mart.filter_columns:
                if mart.primary_key[:1] == (column,):
                    continue  # the primary key's index already leads with it
                method = sql.SQL("gin") if types[column].endswith("[]") or types[column] == "jsonb" else sql.SQL("btree")
                conn.execute(sql.SQL("CREATE INDEX {} ON {} USING {} ({})").format(
                    _ident(_index_name(mart.name, column)), table, method, _ident(column)))
            if mart.description:
                conn.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(table, sql.Literal(mart.description)))
            for column in mart.columns:
                if column.description:
                    conn.execute(sql.SQL("COMMENT ON COLUMN {} IS {}").format(
                        _ident(LOADING_SCHEMA, mart.name, column.name), sql.Literal(column.description)))
        publication_table = _ident(LOADING_SCHEMA, PUBLICATION_TABLE)
        conn.execute(sql.SQL(
            "CREATE TABLE {} (run_id text NOT NULL, git_revision text, published_at timestamptz NOT NULL, "
            "served_at timestamptz NOT NULL DEFAULT now())").format(publication_table))
        conn.execute(sql.SQL("INSERT INTO {} (run_id, git_revision, published_at) VALUES (%s, %s, %s)").format(publication_table),
                     (publication.run_id, publication.git_revision, publication.published_at))
        conn.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(
            publication_table, sql.Literal("The publication served here: its run id, git revision and publication time.")))
        roles = _grant_registered_roles(conn, LOADING_SCHEMA)
    for mart in publication.marts:  # statistics for the planner; outside the transaction's locks
        conn.execute(sql.SQL("ANALYZE {}").format(_ident(LOADING_SCHEMA, mart.name)))
    conn.commit()
    return roles


def _index_name(table: str, suffix: str) -> str:
    name = f"{table}_{suffix}" if suffix == "pkey" else f"{table}_{suffix}_idx"
    return name if len(name) <= 63 else name[:54] + "_" + hashlib.sha1(name.encode()).hexdigest()[:8]


def registered_roles(conn) -> list[str]:
    """Registered read-only roles that exist in the server."""
    from psycopg import sql

    rows = conn.execute(sql.SQL(
        "SELECT r.role_name FROM {} r JOIN pg_roles p ON p.rolname = r.role_name ORDER BY r.role_name"
    ).format(_ident(REGISTRY_SCHEMA, REGISTRY_TABLE))).fetchall()
    return [row[0] for row in rows]


def _grant_registered_roles(conn, schema: str) -> tuple[str, ...]:
    roles = registered_roles(conn)
    for role in roles:
        _grant(conn, schema, role)
    return tuple(roles)


def _grant(conn, schema: str, role: str) -> None:
    from psycopg import sql

    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(_ident(schema), _ident(role)))
    conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(_ident(schema), _ident(role)))


def _swap(conn, url: str, lock_timeout_ms: int, attempts: int) -> int:
    """Put the loading schema in ``voc_marts``'s place in one transaction; returns the attempt
    that succeeded. Each attempt waits at most ``lock_timeout_ms`` for readers' locks."""
    import psycopg
    from psycopg import sql

    for attempt in range(1, attempts + 1):
        try:
            with conn.transaction():
                conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{lock_timeout_ms}ms")))
                served = [row[0] for row in conn.execute(
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname <> %s, c.relname",
                    (SCHEMA, PUBLICATION_TABLE)).fetchall()]
                for table in served:  # _publication first: readers read it first
                    conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(_ident(SCHEMA, table)))
                exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (SCHEMA,)).fetchone()
                if exists:
                    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(_ident(RETIRED_SCHEMA)))
                    conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(_ident(SCHEMA), _ident(RETIRED_SCHEMA)))
                conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(_ident(LOADING_SCHEMA), _ident(SCHEMA)))
                if exists:
                    conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(_ident(RETIRED_SCHEMA)))
            return attempt
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
            time.sleep(min(0.05 * attempt, 1.0))
        except Exception as exc:
            raise _failure(url, "swapping the schema", exc) from None
    raise ServingError(
        f"PostgreSQL {describe_target(url)}: readers held {SCHEMA} through {attempts} attempts of {lock_timeout_ms} ms; "
        "the previous publication stays served"
    )


def _drop_loading_quietly(conn, lock_timeout_ms: int) -> None:
    try:
        if not conn.closed:
            conn.rollback()
            _drop_schema(conn, LOADING_SCHEMA, lock_timeout_ms)
    except Exception:
        pass


def _close_quietly(conn) -> None:
    try:
        conn.close()
    except Exception:
        pass


# --- read-only roles and status --------------------------------------------------------------


def grant_readonly(url: str, role: str, password: str | None = None) -> bool:
    """Create ``role`` if missing (NOLOGIN, or LOGIN with ``password``), grant it read access to
    ``voc_marts`` now and register it so every later swap grants it again. The password reaches
    the server only as a SCRAM verifier made here. Returns True when the role was created."""
    from psycopg import sql

    if not _IDENTIFIER.fullmatch(role) or len(role) > 63:
        raise ServingError(f"role name {role!r}: use letters, digits and _ (at most 63)")
    conn = _connect(url)
    try:
        try:
            _ensure_registry(conn)
            with conn.transaction():
                created = not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
                if created:
                    conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(_ident(role)))
                if password:
                    verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
                    conn.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(_ident(role), sql.Literal(verifier)))
                conn.execute(sql.SQL("INSERT INTO {} (role_name) VALUES (%s) ON CONFLICT DO NOTHING").format(
                    _ident(REGISTRY_SCHEMA, REGISTRY_TABLE)), (role,))
                if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (SCHEMA,)).fetchone():
                    _grant(conn, SCHEMA, role)
        except Exception as exc:
            raise _failure(url, f"granting read access to {role}", exc) from None
    finally:
        _close_quietly(conn)
    return created


@dataclass(frozen=True)
class ServingStatus:
    target: str
    run_id: str | None
    git_revision: str | None
    published_at: object
    served_at: object
    rows: dict[str, int]
    roles: tuple[str, ...]


def serving_status(url: str, marts: Iterable[str] | None = None) -> ServingStatus:
    """What ``voc_marts`` serves now: the run id and times from ``_publication``, the row count
    of every table, and the registered read-only roles."""
    from psycopg import sql

    conn = _connect(url, autocommit=True)
    try:
        try:
            roles: Sequence[str] = ()
            if conn.execute("SELECT to_regclass(%s)", (f"{REGISTRY_SCHEMA}.{REGISTRY_TABLE}",)).fetchone()[0]:
                roles = registered_roles(conn)
            if not conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.{PUBLICATION_TABLE}",)).fetchone()[0]:
                return ServingStatus(describe_target(url), None, None, None, None, {}, tuple(roles))
            with conn.transaction():
                run_id, git_revision, published_at, served_at = conn.execute(sql.SQL(
                    "SELECT run_id, git_revision, published_at, served_at FROM {}").format(_ident(SCHEMA, PUBLICATION_TABLE))).fetchone()
                tables = list(marts) if marts is not None else [row[0] for row in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename <> %s ORDER BY tablename",
                    (SCHEMA, PUBLICATION_TABLE)).fetchall()]
                rows = {table: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(_ident(SCHEMA, table))).fetchone()[0]
                        for table in tables}
        except Exception as exc:
            raise _failure(url, "reading the status", exc) from None
    finally:
        _close_quietly(conn)
    return ServingStatus(describe_target(url), run_id, git_revision, published_at, served_at, rows, tuple(roles))
