"""The pseudonym key end to end: a key full of quoting hazards builds, keys the pseudonyms, and
leaves no trace in dbt's target/ and logs/, the warehouse file or the Dagster storage of the run.

One small demo (300 rows) run twice by the whole pipeline (`run_everything`, as `voc run`) under
a unique key, then the identity models rebuilt by dbt under another key on a copy.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from nlp_udfs.pseudonyms import encode_key, pseudonym
from orchestration.settings import DBT_PROJECT_DIR, VocSettings

pytestmark = pytest.mark.e2e

MARKER = uuid.uuid4().hex
# quotes, a backslash, Jinja and printf syntax, non-ASCII; the unique MARKER finds any copy of it
KEY = f"k'ey\"\\{{{{ var('x') }}}}%s%%-键-{MARKER}"
OTHER_KEY = f"another key {uuid.uuid4().hex}"


def _settings(root: Path, key: str) -> VocSettings:
    return VocSettings(
        landing_dir=root / "landing",
        warehouse_path=root / "warehouse" / "voc.duckdb",
        dagster_home_setting=root / "dagster_home",
        hash_key_setting=key.encode("utf-8"),
    )


def _run(settings: VocSettings) -> None:
    from orchestration.pipeline_run import run_everything

    result = run_everything(settings, log_level="WARNING")  # the on-disk instance in dagster_home, as `voc run`
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]


def _pseudonyms(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            "fct_feedback": con.execute("select feedback_id, one_id from marts.fct_feedback order by 1").fetchall(),
            "dim_customer": con.execute("select member_id, one_id, n_identifiers from marts.dim_customer order by 2").fetchall(),
            "bridge": con.execute("select one_id, id_type, id_hash from marts.bridge_customer_identifier order by 1, 2, 3").fetchall(),
        }


@pytest.fixture(scope="module")
def keyed_runs(tmp_path_factory, dbt_manifest):
    from devtools.demo.api import generate

    root = tmp_path_factory.mktemp("pseudonym_key")
    settings = _settings(root, KEY)
    generate(settings.landing_dir, rows=300, seed=5)
    _run(settings)
    first = _pseudonyms(settings.warehouse_path)
    _run(settings)
    second = _pseudonyms(settings.warehouse_path)
    return settings, first, second


def _needles() -> dict[str, bytes]:
    """Every form in which the key could be written down."""
    key = KEY.encode("utf-8")
    return {
        "marker": MARKER.encode(),
        "key": key,
        "key (JSON)": json.dumps(KEY)[1:-1].encode(),
        "key as passed to dbt": encode_key(key).encode(),
        "key in hex": key.hex().encode(),
    }


def _files_holding_the_key(folder: Path) -> list[str]:
    needles = _needles()
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            found += [f"{path}: {name}" for name, needle in needles.items() if needle in data]
    return found


def test_a_key_with_quotes_and_jinja_builds_and_keys_every_pseudonym(keyed_runs):
    settings, first, _ = keyed_runs
    key = KEY.encode("utf-8")
    assert first["fct_feedback"] and first["bridge"]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        edges = con.execute(
            "select distinct customers.one_id, edges.id_type, edges.id_value "
            "from intermediate.int_identity__graph_edges as edges "
            "join intermediate.int_identity__record_customers as customers using (record_key)"
        ).fetchall()
        anchors = con.execute("select one_id, anchor from intermediate.int_identity__customers").fetchall()
    # id_hash is HMAC-SHA256 under this very key (not the demo key, not another one)
    assert sorted(first["bridge"]) == sorted({(one_id, kind, pseudonym(key, kind, value)) for one_id, kind, value in edges})
    # one_id is 'cust_' + 16 hex of the keyed pseudonym of the anchor
    assert all(one_id == "cust_" + pseudonym(key, "customer", anchor)[:16] for one_id, anchor in anchors)
    assert len(anchors) == len(first["dim_customer"])


def test_the_same_key_gives_the_same_pseudonyms_on_every_run(keyed_runs):
    _, first, second = keyed_runs
    assert first == second


def test_another_key_gives_other_pseudonyms_for_the_same_customers(keyed_runs, tmp_path):
    from orchestration.project import DBT_EXECUTABLE, dbt_vars_args

    settings, first, _ = keyed_runs
    other = VocSettings(landing_dir=settings.landing_dir, warehouse_path=tmp_path / "voc.duckdb",
                        hash_key_setting=OTHER_KEY.encode())
    shutil.copy(settings.warehouse_path, other.warehouse_path)
    project = tmp_path / "dbt_project"  # a copy: its target/ and logs/ stay out of the key search
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    done = subprocess.run(
        [DBT_EXECUTABLE, "run", "--quiet", "--select", "int_identity__customers+",
         *dbt_vars_args(other.dbt_vars()), "--project-dir", str(project), "--profiles-dir", str(project)],
        capture_output=True, text=True, check=False, env=other.child_env(), cwd=project, timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with duckdb.connect(str(other.warehouse_path), read_only=True) as con:
        dim = con.execute("select member_id, one_id, n_identifiers from marts.dim_customer order by 2").fetchall()
        bridge = con.execute("select one_id, id_type, id_hash from marts.bridge_customer_identifier").fetchall()
    old_ids = {row[1] for row in first["dim_customer"]}
    new_ids = {row[1] for row in dim}
    assert len(new_ids) == len(old_ids) and not new_ids & old_ids  # same customers, all ids new
    assert not {row[2] for row in bridge} & {row[2] for row in first["bridge"]}
    # the members among them are the same, only their pseudonyms moved
    assert Counter((m, n) for m, _, n in dim) == Counter((m, n) for m, _, n in first["dim_customer"])


def test_the_key_is_nowhere_in_dbt_artifacts_logs_warehouse_or_dagster_storage(keyed_runs):
    settings, _, _ = keyed_runs
    places = [DBT_PROJECT_DIR / "target", DBT_PROJECT_DIR / "logs", settings.dagster_home, settings.warehouse_dir]
    assert settings.warehouse_path.is_file() and any(settings.dagster_home.rglob("*.db"))  # run storage is there
    leaks = [hit for place in places if place.exists() for hit in _files_holding_the_key(place)]
    assert leaks == []
    # the search would find it: the needles are in what the run was told
    env = settings.child_env({})
    assert _needles()["key as passed to dbt"].decode() == env["DBT_ENV_SECRET_VOC_HASH_KEY"]
