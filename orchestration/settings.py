"""Everything a deployment is told through its environment, read in this one module.

``VocSettings.from_env()`` reads every ``VOC_*`` variable the Python code knows, once, into
frozen values with their defaults; every other module receives what it needs (function
arguments, the Dagster ``settings`` resource). Nothing is read at import time, and nothing is
written back into this process's environment: a child process (dbt, ``dagster dev``) gets its
environment from ``child_env``.

Variables (relative paths are taken from the repository root):

========================================  ====================================================
``VOC_LANDING_DIR``                       landing folder (``data/landing``)
``VOC_DUCKDB_PATH``                       the warehouse file (``data/warehouse/voc.duckdb``)
``VOC_REPORTS_DIR``                       scorecard folder (``reports/`` beside the warehouse folder)
``DAGSTER_HOME``                          run history (``dagster_home/`` beside the warehouse)
``VOC_<SOURCE>_MODE``                     ``file`` (default) or ``api``, per vendor source
``VOC_<SOURCE>_BASE_URL`` / ``_TOKEN``    the vendor API (required / optional in api mode)
``VOC_<SOURCE>_PAGE_SIZE``                records per API page (100)
``VOC_API_TIMEOUT_SECONDS`` etc.          HTTP retries, see ``loaders.api.config.HttpRetrySettings``
``VOC_API_STEP_RETRIES`` / ``_SECONDS``   retries of a load step whose vendor page failed (2, 60 s)
``VOC_OPS_WEBHOOK_URL`` / ``_FORMAT``     where failed runs are posted (unset; ``json``)
``VOC_ALERT_WEBHOOK_<NAME>``              URL of the alert webhook ``<name>`` (alert_webhooks seed)
``VOC_ALERT_DELIVERY_DEADLINE_SECONDS``   delivery budgets, see ``orchestration.alerts.policy``
  and the other ``VOC_ALERT_*_SECONDS`` / ``VOC_ALERT_MAX_ATTEMPTS`` / ``VOC_ALERT_HOST_FAILURE_LIMIT``
``VOC_WRITER_WAIT_SECONDS``               how long a writer waits for another writer or a reader (600)
``VOC_LANDING_SETTLE_SECONDS``            a landing file unchanged this long is complete (30)
``VOC_SEGMENTER``, ``VOC_SENTIMENT_MODEL``,
``VOC_NLP_WORKERS``, ``VOC_NLP_CACHE_SIZE``  ``nlp_udfs.config.NlpConfig``, handed to dbt's NLP plugin
``VOC_HASH_SALT``                         the secret key of the identifier pseudonyms (any bytes;
                                          unset = the public demo key, refused on real data)
``VOC_SERVE_POSTGRES_URL``                PostgreSQL that each publication is also served to (a
                                          secret: only host:port/database is ever shown; unset = off)
``VOC_SERVE_READONLY_PASSWORD``           password ``voc serve grant-readonly --login`` gives the role
                                          (else it asks; never on the command line)
``VOC_PUBLISH_DIR``                       where the marts are published (``published/`` beside the
                                          warehouse folder, so ``data/published``)
``VOC_PUBLISH_KEEP``                      how many publications are kept for rollback (7)
``VOC_ENGINE``                            ``duckdb`` (default) or ``spark`` (docs/spark.md)
``VOC_SPARK_MASTER``                      Spark master URL (``local[2]``; ``spark://``, ``yarn``, ``k8s://``)
``VOC_LAKE_DIR``                          the raw layer as Parquet on Spark: a folder or an object-store
                                          URL (``lake/`` beside the warehouse folder, so ``data/lake``)
``VOC_SPARK_REMOTE``                      a Spark Connect endpoint, ``sc://host:port`` (may carry a token: a
                                          secret), used instead of starting a driver here (docs/spark.md)
``VOC_SPARK_WAREHOUSE_DIR``               Spark's tables and metastore (``spark-warehouse/`` beside the
                                          warehouse folder, so ``data/spark-warehouse``)
``VOC_SPARK_CONF``                        more Spark configuration, a JSON object of ``spark.*`` keys (may
                                          hold secrets, e.g. object-store keys: never shown)
========================================  ====================================================

dbt reads one more itself with ``env_var()`` in ``dbt_project``: ``VOC_DUCKDB_MEMORY_LIMIT``; a
child environment passes it through unchanged.

The pseudonym key (``VOC_HASH_SALT``) is a secret: never in ``repr``, never a dbt var. dbt gets it
in ``DBT_ENV_SECRET_VOC_HASH_KEY`` (``nlp_udfs.pseudonyms.encode_key`` text), a variable whose
value dbt scrubs from its logs; ``profiles.yml`` hands it to the plugin that registers
``voc_pseudonym``. A dbt child started with ``child_env`` has it; dagster-dbt starts dbt with a
copy of this process's environment and takes no other, so the dbt steps put it there for the
moment they start dbt (``dbt_key_in_environment``), the one write to this process's environment.

Outside the demo (a landing folder without the demo generator's ``.voc-demo`` marker, or any
source in api mode) a missing or demo key stops a run before anything is written
(``require_pseudonym_key``).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from expectations.report import report_dir_for
from loaders.api.config import (
    API_FAMILIES,
    API_MODE,
    DEFAULT_PAGE_SIZE,
    FILE_MODE,
    ApiConfig,
    ApiConfigError,
    ApiSourceConfig,
    HttpRetrySettings,
)
from loaders.families import FAMILIES
from loaders.pipeline import pipelines_dir_for
from loaders.privacy import RecordGuard, keyed_pseudonymizer
from nlp_udfs.config import NlpConfig
from nlp_udfs.pseudonyms import DEMO_KEY, encode_key
from orchestration.alerts.policy import DeliveryPolicy

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
TAXONOMY_SEED_PATH = DBT_PROJECT_DIR / "seeds" / "taxonomy.csv"
DEFAULT_LANDING_DIR = REPO_ROOT / "data" / "landing"
DEFAULT_WAREHOUSE_PATH = REPO_ROOT / "data" / "warehouse" / "voc.duckdb"
DEFAULT_STEP_RETRIES = 2
DEFAULT_STEP_RETRY_SECONDS = 60
DEFAULT_WRITER_WAIT_SECONDS = 600.0
DEFAULT_LANDING_SETTLE_SECONDS = 30.0
DEFAULT_PUBLISH_KEEP = 7
DUCKDB_ENGINE, SPARK_ENGINE = "duckdb", "spark"
ENGINES = (DUCKDB_ENGINE, SPARK_ENGINE)
DEFAULT_SPARK_MASTER = "local[2]"
DEFAULT_SPARK_CONNECT_PORT = 15002
# a Spark master the session factory can start a driver against (client mode): local threads, a
# standalone cluster, YARN or Kubernetes
_SPARK_MASTER = re.compile(r"local(\[(\*|[1-9][0-9]*)(,[1-9][0-9]*)?\])?|(spark|k8s|mesos)://\S+|yarn")
# a Spark Connect URL: sc://host[:port][/;param=value;...] (the parameters may hold a token)
_SPARK_REMOTE = re.compile(r"sc://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?(?:/(?:;[^;/\s]+=[^;\s]*)*)?")
SPARK_REMOTE_VARIABLE = "VOC_SPARK_REMOTE"
# scheme://... : an object-store or HDFS URL, handed to dlt / Spark unchanged
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://\S*")
ALERT_WEBHOOK_PREFIX = "VOC_ALERT_WEBHOOK_"
# NlpConfig field -> its environment variable; dbt's var of the same setting is the lower-cased name
NLP_VARIABLES = {
    "segmenter": "VOC_SEGMENTER",
    "sentiment_model": "VOC_SENTIMENT_MODEL",
    "workers": "VOC_NLP_WORKERS",
    "cache_size": "VOC_NLP_CACHE_SIZE",
}
HASH_KEY_VARIABLE = "VOC_HASH_SALT"
# dbt scrubs the values of DBT_ENV_SECRET_* variables from its logs; profiles.yml reads this one
DBT_KEY_VARIABLE = "DBT_ENV_SECRET_VOC_HASH_KEY"
# The demo generator (devtools) writes this file into a landing folder it fills: only there may
# the public demo key pseudonymize identifiers.
DEMO_MARKER_NAME = ".voc-demo"


class PseudonymKeyError(RuntimeError):
    """Real data without a secret pseudonym key: the run stops before it writes anything."""


class EngineConfigError(ValueError):
    """A ``VOC_ENGINE`` / ``VOC_SPARK_*`` / ``VOC_LAKE_DIR`` setting that cannot be used."""


@dataclass(frozen=True)
class SparkSettings:
    """Where and how the Spark engine runs (``orchestration.engine.spark_session``).

    ``warehouse_dir`` and ``lake_dir`` are absolute local paths or URLs (``s3a://...``,
    ``hdfs://...``) as text, since Spark and dlt take both. ``conf`` is more Spark configuration;
    it may hold secrets (object-store keys), so it is never in ``repr``.
    """

    master: str = DEFAULT_SPARK_MASTER
    warehouse_dir: str = ""
    lake_dir: str = ""
    conf: Mapping[str, str] = field(default_factory=dict, repr=False)
    # VOC_SPARK_REMOTE: a Spark Connect URL, which may carry a token, so never in repr
    remote: str | None = field(default=None, repr=False)

    @property
    def is_local(self) -> bool:
        """True for a ``local[...]`` master (driver and executors in this process's JVM)."""
        return self.remote is None and self.master.startswith("local")

    @property
    def remote_host(self) -> str | None:
        """The Connect endpoint's host and port, what messages may name (the URL may hold a token)."""
        return remote_host(self.remote) if self.remote else None


@dataclass(frozen=True)
class VocSettings:
    """One deployment: where it reads and writes, which sources come from vendor APIs, where
    alerts go, how the NLP runs. Secrets (tokens, webhook URLs) never show in ``repr``."""

    landing_dir: Path
    warehouse_path: Path
    reports_dir_setting: Path | None = None
    dagster_home_setting: Path | None = None
    api: ApiConfig = field(default_factory=ApiConfig)
    nlp: NlpConfig = field(default_factory=NlpConfig)
    ops_webhook_url: str | None = field(default=None, repr=False)
    ops_webhook_format: str = "json"
    alert_webhook_urls: Mapping[str, str] = field(default_factory=dict, repr=False)
    alert_delivery: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    # VOC_HASH_SALT as bytes; None = not set (the demo key). A secret: never in repr.
    hash_key_setting: bytes | None = field(default=None, repr=False)
    writer_wait_seconds: float = DEFAULT_WRITER_WAIT_SECONDS
    landing_settle_seconds: float = DEFAULT_LANDING_SETTLE_SECONDS
    # VOC_SERVE_POSTGRES_URL / VOC_SERVE_READONLY_PASSWORD: secrets, never in repr
    serve_postgres_url: str | None = field(default=None, repr=False)
    serve_readonly_password: str | None = field(default=None, repr=False)
    publish_dir_setting: Path | None = None
    publish_keep: int = DEFAULT_PUBLISH_KEEP
    engine: str = DUCKDB_ENGINE
    spark_master: str = DEFAULT_SPARK_MASTER
    lake_dir_setting: str | None = None
    spark_warehouse_dir_setting: str | None = None
    # VOC_SPARK_CONF: may hold object-store keys, never in repr
    spark_conf: Mapping[str, str] = field(default_factory=dict, repr=False)
    # VOC_SPARK_REMOTE: a Spark Connect URL that may carry a token, never in repr
    spark_remote: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise EngineConfigError(f"VOC_ENGINE must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        if not _SPARK_MASTER.fullmatch(self.spark_master):
            raise EngineConfigError(
                "VOC_SPARK_MASTER must be local, local[N], local[*], spark://host:port, yarn or k8s://..."
                f", got {self.spark_master!r} (docs/spark.md)"
            )
        if self.spark_remote is not None and not _SPARK_REMOTE.fullmatch(self.spark_remote):
            # never repeat the value: its parameters may hold a token
            raise EngineConfigError(
                f"{SPARK_REMOTE_VARIABLE} must be a Spark Connect URL, sc://host:port[/;param=value...] (docs/spark.md)"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> VocSettings:
        """Read the settings from ``environ`` (this process's environment when None).

        Raises ``ApiConfigError`` for an API setting it cannot use (a mode other than file or
        api, api mode without a base URL, a page size or retry budget that is not a number).
        """
        environ = os.environ if environ is None else environ
        reports_dir = _text(environ, "VOC_REPORTS_DIR")
        dagster_home = _text(environ, "DAGSTER_HOME")
        publish_dir = _text(environ, "VOC_PUBLISH_DIR")
        ops_format = _text(environ, "VOC_OPS_WEBHOOK_FORMAT").lower() or "json"
        return cls(
            landing_dir=_resolve(_text(environ, "VOC_LANDING_DIR"), DEFAULT_LANDING_DIR),
            warehouse_path=_resolve(_text(environ, "VOC_DUCKDB_PATH"), DEFAULT_WAREHOUSE_PATH),
            reports_dir_setting=Path(reports_dir).expanduser() if reports_dir else None,
            dagster_home_setting=Path(dagster_home).expanduser() if dagster_home else None,
            api=api_config_from_env(environ),
            nlp=NlpConfig.from_strings({key: environ.get(name) for key, name in NLP_VARIABLES.items()}),
            ops_webhook_url=_text(environ, "VOC_OPS_WEBHOOK_URL") or None,
            ops_webhook_format=ops_format,
            alert_webhook_urls=MappingProxyType({
                name: value.strip()
                for name, value in environ.items()
                if name.startswith(ALERT_WEBHOOK_PREFIX) and value.strip()
            }),
            hash_key_setting=_secret_bytes(environ, HASH_KEY_VARIABLE),
            alert_delivery=delivery_policy_from_env(environ),
            writer_wait_seconds=_seconds(environ, "VOC_WRITER_WAIT_SECONDS", DEFAULT_WRITER_WAIT_SECONDS),
            landing_settle_seconds=_seconds(environ, "VOC_LANDING_SETTLE_SECONDS", DEFAULT_LANDING_SETTLE_SECONDS),
            serve_postgres_url=_text(environ, "VOC_SERVE_POSTGRES_URL") or None,
            serve_readonly_password=environ.get("VOC_SERVE_READONLY_PASSWORD") or None,
            publish_dir_setting=_resolve(publish_dir, DEFAULT_WAREHOUSE_PATH) if publish_dir else None,
            publish_keep=_int_at_least(environ, "VOC_PUBLISH_KEEP", DEFAULT_PUBLISH_KEEP, 1),
            engine=_text(environ, "VOC_ENGINE").lower() or DUCKDB_ENGINE,
            spark_master=_text(environ, "VOC_SPARK_MASTER") or DEFAULT_SPARK_MASTER,
            lake_dir_setting=_location(_text(environ, "VOC_LAKE_DIR")),
            spark_warehouse_dir_setting=_location(_text(environ, "VOC_SPARK_WAREHOUSE_DIR")),
            spark_conf=spark_conf_from_text(_text(environ, "VOC_SPARK_CONF")),
            spark_remote=_text(environ, SPARK_REMOTE_VARIABLE) or None,
        )

    def record_guard(self) -> RecordGuard:
        """How the loaders protect personal data: pseudonyms under this deployment's key."""
        return RecordGuard(keyed_pseudonymizer(self.hash_key))

    # --- the pseudonym key -------------------------------------------------------------------

    @property
    def hash_key(self) -> bytes:
        """The key of every identifier pseudonym: ``VOC_HASH_SALT``, else the public demo key."""
        return self.hash_key_setting or DEMO_KEY

    @property
    def uses_demo_key(self) -> bool:
        return self.hash_key == DEMO_KEY

    def landing_is_demo(self) -> bool:
        """True when the demo generator wrote the landing folder (its ``.voc-demo`` marker is there)."""
        return (self.landing_dir / DEMO_MARKER_NAME).is_file()

    def pseudonym_key_problem(self) -> str | None:
        """Why a run must not start with this key, or None: real data (a landing folder the demo
        generator did not write, or a source in api mode) under a missing or demo key."""
        if not self.uses_demo_key:
            return None
        if self.api.sources:
            where = f"{', '.join(sorted(self.api.sources))} load from vendor APIs (real data)"
        elif not self.landing_is_demo():
            where = f"{self.landing_dir} was not written by the demo generator (no {DEMO_MARKER_NAME} marker)"
        else:
            return None
        state = "is the public demo key" if self.hash_key_setting else "is not set"
        return (
            f"{HASH_KEY_VARIABLE} {state}, and {where}. Customer pseudonyms (one_id, id_hash) under a "
            f"public key can be reversed, so nothing was written. Set {HASH_KEY_VARIABLE} to a secret "
            f"of your own, e.g. export {HASH_KEY_VARIABLE}=\"$(openssl rand -hex 32)\", keep it, and "
            "run again (README: 'The pseudonym key')."
        )

    def require_pseudonym_key(self) -> None:
        """Raise ``PseudonymKeyError`` when ``pseudonym_key_problem`` finds one."""
        problem = self.pseudonym_key_problem()
        if problem:
            raise PseudonymKeyError(problem)

    @contextmanager
    def dbt_key_in_environment(self) -> Iterator[None]:
        """The key in this process's environment (``DBT_KEY_VARIABLE``) while a dbt command is
        started by dagster-dbt, which copies this environment into dbt's and takes no other;
        the previous value is put back after."""
        previous = os.environ.get(DBT_KEY_VARIABLE)
        os.environ[DBT_KEY_VARIABLE] = encode_key(self.hash_key)
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop(DBT_KEY_VARIABLE, None)
            else:
                os.environ[DBT_KEY_VARIABLE] = previous

    # --- the folders beside the warehouse ----------------------------------------------------

    @property
    def warehouse_dir(self) -> Path:
        return self.warehouse_path.parent

    @property
    def dagster_home(self) -> Path:
        """Run history (``DAGSTER_HOME``, else beside the warehouse, so `voc run` and `voc ui` share it)."""
        return self.dagster_home_setting or self.warehouse_dir / "dagster_home"

    @property
    def reports_dir(self) -> Path:
        """Scorecards: ``VOC_REPORTS_DIR``, else ``reports/`` beside the warehouse folder
        (``data/warehouse`` -> ``data/reports``)."""
        return self.reports_dir_setting or self.warehouse_dir.parent / "reports"

    @property
    def publish_dir(self) -> Path:
        """Where the marts are published for readers: ``VOC_PUBLISH_DIR``, else ``published/`` beside
        the warehouse folder (``data/warehouse`` -> ``data/published``); see docs/publishing.md."""
        return self.publish_dir_setting or self.warehouse_dir.parent / "published"

    # --- the engine --------------------------------------------------------------------------

    @property
    def uses_spark(self) -> bool:
        return self.engine == SPARK_ENGINE

    @property
    def lake_dir(self) -> str:
        """The raw layer as Parquet on Spark (dlt's filesystem destination): ``VOC_LAKE_DIR``, else
        ``lake/`` beside the warehouse folder (``data/lake``). An absolute path or a URL, as text."""
        return self.lake_dir_setting or str(self.warehouse_dir.parent / "lake")

    @property
    def spark_warehouse_dir(self) -> str:
        """Spark's tables (``<dir>/<schema>.db/<table>``) and its metastore: ``VOC_SPARK_WAREHOUSE_DIR``,
        else ``spark-warehouse/`` beside the warehouse folder (``data/spark-warehouse``)."""
        return self.spark_warehouse_dir_setting or str(self.warehouse_dir.parent / "spark-warehouse")

    @property
    def spark(self) -> SparkSettings:
        """What the Spark session factory needs (``orchestration.engine.spark_session``)."""
        return SparkSettings(
            self.spark_master, self.spark_warehouse_dir, self.lake_dir, self.spark_conf, self.spark_remote
        )

    @property
    def quality_report_dir(self) -> Path:
        """The great-expectations report (``quality_report/`` beside the warehouse)."""
        return report_dir_for(self.warehouse_path)

    @property
    def dlt_pipelines_dir(self) -> Path:
        """dlt's working directories (``.dlt_pipelines/`` beside the warehouse)."""
        return pipelines_dir_for(self.warehouse_path)

    # --- what child processes are told -------------------------------------------------------

    def child_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of a dbt or ``dagster dev`` child: ``base`` (this process's
        environment when None) with these settings' paths and NLP configuration, the pseudonym
        key for dbt (``DBT_KEY_VARIABLE``), and this interpreter's bin folder on PATH (``voc``
        may run without an activated venv)."""
        env = dict(os.environ if base is None else base)
        env[DBT_KEY_VARIABLE] = encode_key(self.hash_key)
        env["VOC_LANDING_DIR"] = str(self.landing_dir)
        env["VOC_DUCKDB_PATH"] = str(self.warehouse_path)
        env["DAGSTER_HOME"] = str(self.dagster_home)
        if self.reports_dir_setting is not None:
            env["VOC_REPORTS_DIR"] = str(self.reports_dir_setting)
        if self.publish_dir_setting is not None:
            env["VOC_PUBLISH_DIR"] = str(self.publish_dir_setting)
        env["VOC_PUBLISH_KEEP"] = str(self.publish_keep)
        env["VOC_ENGINE"] = self.engine
        env["VOC_SPARK_MASTER"] = self.spark_master
        env["VOC_LAKE_DIR"] = self.lake_dir
        env["VOC_SPARK_WAREHOUSE_DIR"] = self.spark_warehouse_dir
        if self.spark_conf:
            env["VOC_SPARK_CONF"] = json.dumps(dict(self.spark_conf), sort_keys=True)
        if self.spark_remote:
            env[SPARK_REMOTE_VARIABLE] = self.spark_remote
        nlp = self._nlp_strings()
        for key, name in NLP_VARIABLES.items():
            env[name] = nlp[key]
        bin_dir = str(Path(sys.executable).parent)
        if bin_dir not in env.get("PATH", "").split(os.pathsep):
            env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
        return env

    def dbt_vars(self) -> dict[str, str]:
        """What dbt is told by ``--vars``: the warehouse and the NLP plugin's configuration
        (``profiles.yml``; dbt run by hand falls back to the environment there)."""
        nlp = self._nlp_strings()
        return {
            "voc_warehouse_path": str(self.warehouse_path),
            **{name.lower(): nlp[key] for key, name in NLP_VARIABLES.items()},
            **(self.spark_dbt_vars() if self.uses_spark else {}),
        }

    def spark_dbt_vars(self) -> dict[str, str]:
        """The Spark engine's settings as dbt vars (``voc_spark_master``, ``voc_lake_dir``,
        ``voc_spark_warehouse_dir``), which the Spark dbt wrapper (``orchestration.engine.spark_dbt``)
        and the profile's ``spark`` target read. ``VOC_SPARK_CONF`` is not among them: it may hold
        secrets, and vars land in dbt's artifacts."""
        return {
            "voc_spark_master": self.spark_master,
            "voc_lake_dir": self.lake_dir,
            "voc_spark_warehouse_dir": self.spark_warehouse_dir,
        }

    def _nlp_strings(self) -> dict[str, str]:
        """The NLP configuration as the text a variable carries, per ``NlpConfig`` field."""
        nlp = self.nlp
        return {
            "segmenter": nlp.segmenter,
            "sentiment_model": "on" if nlp.sentiment_model else "off",
            "workers": "" if nlp.workers is None else str(nlp.workers),
            "cache_size": str(nlp.cache_size),
        }

    def landing_has_source_files(self) -> bool:
        """True when any source folder of the landing dir holds a file (then no demo data is added)."""
        return any(
            path.is_file()
            for family in FAMILIES
            if (self.landing_dir / family).is_dir()
            for path in (self.landing_dir / family).iterdir()
        )


def delivery_policy_from_env(environ: Mapping[str, str]) -> DeliveryPolicy:
    """Timeouts, attempts, circuit breaker and deadline of alert delivery (``VOC_ALERT_*``)."""
    default = DeliveryPolicy()
    return DeliveryPolicy(
        connect_timeout_seconds=_positive_float(
            environ, "VOC_ALERT_CONNECT_TIMEOUT_SECONDS", default.connect_timeout_seconds
        ),
        read_timeout_seconds=_positive_float(environ, "VOC_ALERT_READ_TIMEOUT_SECONDS", default.read_timeout_seconds),
        max_attempts=_int_at_least(environ, "VOC_ALERT_MAX_ATTEMPTS", default.max_attempts, 1),
        host_failure_limit=_int_at_least(environ, "VOC_ALERT_HOST_FAILURE_LIMIT", default.host_failure_limit, 1),
        deadline_seconds=_positive_float(environ, "VOC_ALERT_DELIVERY_DEADLINE_SECONDS", default.deadline_seconds),
        sending_stale_seconds=_positive_float(
            environ, "VOC_ALERT_SENDING_STALE_SECONDS", default.sending_stale_seconds
        ),
    )



def env_prefix(family: str) -> str:
    """``VOC_SURVEYS`` for ``surveys``: the prefix of the family's environment variables."""
    return f"VOC_{family.upper()}"


def api_config_from_env(environ: Mapping[str, str]) -> ApiConfig:
    """Which families load from their vendor API, where it is, and the retry budgets."""
    sources = {}
    for family in API_FAMILIES:
        prefix = env_prefix(family)
        mode = _text(environ, f"{prefix}_MODE").lower() or FILE_MODE
        if mode not in (FILE_MODE, API_MODE):
            raise ApiConfigError(f"{prefix}_MODE must be '{FILE_MODE}' or '{API_MODE}', got {mode!r}")
        if mode == API_MODE:
            sources[family] = api_source_config_from_env(family, environ)
    default = HttpRetrySettings()
    return ApiConfig(
        sources=MappingProxyType(sources),
        http=HttpRetrySettings(
            timeout_seconds=_positive_float(environ, "VOC_API_TIMEOUT_SECONDS", default.timeout_seconds),
            max_attempts=_int_at_least(environ, "VOC_API_MAX_ATTEMPTS", default.max_attempts, 1),
            backoff_seconds=_positive_float(environ, "VOC_API_BACKOFF_SECONDS", default.backoff_seconds),
            max_retry_delay_seconds=_positive_float(
                environ, "VOC_API_MAX_RETRY_DELAY_SECONDS", default.max_retry_delay_seconds
            ),
        ),
        step_retries=_int_at_least(environ, "VOC_API_STEP_RETRIES", DEFAULT_STEP_RETRIES, 0),
        step_retry_seconds=_int_at_least(environ, "VOC_API_STEP_RETRY_SECONDS", DEFAULT_STEP_RETRY_SECONDS, 0),
    )


def api_source_config_from_env(family: str, environ: Mapping[str, str]) -> ApiSourceConfig:
    """One family's API settings; raises ``ApiConfigError`` when the base URL is missing."""
    if family not in API_FAMILIES:
        raise ApiConfigError(f"{family!r} has no vendor API; api families are {API_FAMILIES}")
    prefix = env_prefix(family)
    base_url = _text(environ, f"{prefix}_BASE_URL")
    if not base_url:
        raise ApiConfigError(f"{prefix}_MODE is 'api' but {prefix}_BASE_URL is not set")
    if not base_url.startswith(("http://", "https://")):
        raise ApiConfigError(f"{prefix}_BASE_URL must start with http:// or https://")
    token = _text(environ, f"{prefix}_TOKEN") or None
    page_size = _int_at_least(environ, f"{prefix}_PAGE_SIZE", DEFAULT_PAGE_SIZE, 1)
    return ApiSourceConfig(family, base_url.rstrip("/"), token, page_size)


def spark_conf_from_text(text: str) -> Mapping[str, str]:
    """``VOC_SPARK_CONF``: a JSON object of ``spark.*`` keys to strings, numbers or booleans.
    Its values may be secrets: no error repeats one."""
    if not text:
        return MappingProxyType({})
    try:
        document = json.loads(text)
    except ValueError:
        raise EngineConfigError('VOC_SPARK_CONF must be a JSON object, e.g. {"spark.executor.memory": "4g"}') from None
    if not isinstance(document, dict):
        raise EngineConfigError('VOC_SPARK_CONF must be a JSON object, e.g. {"spark.executor.memory": "4g"}')
    conf = {}
    for key, value in document.items():
        if not key.startswith("spark."):
            raise EngineConfigError(f"VOC_SPARK_CONF keys start with 'spark.', got {key!r}")
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (int, float)):
            value = str(value)
        elif not isinstance(value, str):
            raise EngineConfigError(f"VOC_SPARK_CONF value of {key!r} must be a string, number or boolean")
        conf[key] = value
    return MappingProxyType(conf)


def remote_host(url: str) -> str:
    """``host:port`` of a Spark Connect URL (``sc://host:port/;token=...``), without its parameters."""
    match = _SPARK_REMOTE.fullmatch(url)
    if not match:
        return "an unreadable Spark Connect URL"
    return f"{match.group('host')}:{match.group('port') or DEFAULT_SPARK_CONNECT_PORT}"


@contextmanager
def spark_remote_in_environment(url: str | None) -> Iterator[None]:
    """``SPARK_REMOTE`` set to ``url`` while the block runs: dbt-spark's session method asks
    ``SparkSession.builder.getOrCreate()`` for its session, and pyspark hands back the Connect
    session already open in this process only when this variable is set."""
    if url is None:
        yield
        return
    previous = os.environ.get("SPARK_REMOTE")
    os.environ["SPARK_REMOTE"] = url
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SPARK_REMOTE", None)
        else:
            os.environ["SPARK_REMOTE"] = previous


def java_home(environ: Mapping[str, str] | None = None) -> str | None:
    """``JAVA_HOME`` (pyspark starts Spark's JVM from there, else from ``java`` on PATH)."""
    environ = os.environ if environ is None else environ
    return _text(environ, "JAVA_HOME") or None


def dbt_child_pseudonym_key(environ: Mapping[str, str] | None = None) -> bytes:
    """The pseudonym key a dbt child was handed in ``DBT_KEY_VARIABLE`` (the demo key when
    unset): the Spark dbt wrapper registers ``voc_pseudonym`` with it, as the dbt-duckdb plugin
    does from its profile."""
    from nlp_udfs.pseudonyms import decode_key

    environ = os.environ if environ is None else environ
    return decode_key(environ.get(DBT_KEY_VARIABLE))


def _location(value: str) -> str | None:
    """A folder setting that may also be a URL: a URL as given, a path made absolute (relative
    paths from the repository root), None when unset."""
    if not value:
        return None
    if _URL.fullmatch(value):
        return value
    return str(_resolve(value, REPO_ROOT))


def _secret_bytes(environ: Mapping[str, str], name: str) -> bytes | None:
    """A secret as the bytes the environment held (not stripped: any byte string is a key);
    None when unset or blank."""
    value = environ.get(name)
    if value is None or not value.strip():
        return None
    return value.encode("utf-8", "surrogateescape")


def _text(environ: Mapping[str, str], name: str) -> str:
    return (environ.get(name) or "").strip()


def _resolve(value: str, default: Path) -> Path:
    if not value:
        return default
    path = Path(value).expanduser()
    return path if path.is_absolute() else (REPO_ROOT / path).resolve()


def _int_at_least(environ: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    """A whole number of at least ``minimum`` (1: a count, 0: a budget that may be none)."""
    text = _text(environ, name)
    if not text:
        return default
    wanted = "a positive integer" if minimum == 1 else f"a whole number of {minimum} or more"
    try:
        value = int(text)
    except ValueError:
        raise ApiConfigError(f"{name} must be {wanted}, got {text!r}") from None
    if value < minimum:
        raise ApiConfigError(f"{name} must be {wanted}, got {text!r}")
    return value


def _positive_float(environ: Mapping[str, str], name: str, default: float) -> float:
    text = _text(environ, name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ApiConfigError(f"{name} must be a positive number, got {text!r}") from None
    if not value > 0:
        raise ApiConfigError(f"{name} must be a positive number, got {text!r}")
    return value


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    """A duration of zero or more seconds."""
    text = _text(environ, name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {text!r}") from None
    if not value >= 0:
        raise ValueError(f"{name} must be zero or more seconds, got {text!r}")
    return value
