"""The macros of the dbt project, compiled by dbt and run in DuckDB on every format
the source contract lists."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import duckdb
import pytest

from orchestration.project import voc_dbt_project

pytestmark = pytest.mark.dbt

def _compile(sql: str, tmp_path) -> str:
    """Render Jinja SQL with the project's macros (dbt compile --inline)."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        [
            "compile", "--quiet", "--inline", sql,
            "--project-dir", str(voc_dbt_project.project_dir),
            "--profiles-dir", str(voc_dbt_project.profiles_dir),
            "--target-path", str(tmp_path / "target"),
        ]
    )
    assert result.success, result.exception
    return result.result.results[0].node.compiled_code


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@pytest.fixture(scope="module")
def run_macro(tmp_path_factory, dbt_manifest, restore_environ):
    """Apply a macro to each input string (column `raw`) and return {input: output}."""
    tmp_path = tmp_path_factory.mktemp("macros")
    os.environ["VOC_DUCKDB_PATH"] = str(tmp_path / "compile_only.duckdb")  # dbt compile opens a connection

    def run(macro_call: str, inputs: dict[str, object]) -> dict[str, object]:
        values = ", ".join(f"({_sql_literal(raw)})" for raw in inputs)
        compiled = _compile(f"select raw, {macro_call} as normalized from (values {values}) as cases(raw)", tmp_path)
        with duckdb.connect() as conn:
            conn.execute("set TimeZone = 'UTC'")
            return dict(conn.execute(compiled).fetchall())

    return run


def test_local_dates_are_calendar_days_in_shanghai(run_macro):
    # raw time columns are UTC timestamptz (the loader parsed the vendor formats)
    cases = {
        "2026-11-15T15:59:59Z": "2026-11-15",  # 23:59:59 in Shanghai
        "2026-11-15T16:00:00Z": "2026-11-16",  # midnight in Shanghai
        "2026-11-15T16:30:00Z": "2026-11-16",
    }
    dates = run_macro("cast({{ local_date('cast(raw as timestamptz)') }} as varchar)", cases)
    assert dates == cases


def test_local_midnight_is_the_start_of_the_day_in_shanghai(run_macro):
    cases = {"2021-02-14": datetime(2021, 2, 13, 16, 0, tzinfo=timezone.utc)}
    assert run_macro("{{ local_midnight('cast(raw as date)') }}", cases) == cases


def test_latest_version_keeps_the_newest_version_then_the_latest_load_file_and_line(tmp_path_factory, run_macro):
    # run_macro: for its VOC_DUCKDB_PATH (dbt compile opens a connection)
    versions = (
        "(select * from (values "
        "('A', timestamptz '2025-06-01 00:00:00+00', '1', 'a.jsonl', 1, 'old'), "
        "('A', timestamptz '2025-06-02 00:00:00+00', '1', 'a.jsonl', 2, 'newest'), "
        "('B', timestamptz '2025-06-01 00:00:00+00', '1', 'b.jsonl', 9, 'first load'), "
        "('B', timestamptz '2025-06-01 00:00:00+00', '2', 'b.jsonl', 1, 'later load'), "
        "('C', timestamptz '2025-06-01 00:00:00+00', '1', 'c1.jsonl', 5, 'earlier file'), "
        "('C', timestamptz '2025-06-01 00:00:00+00', '1', 'c2.jsonl', 1, 'later file')"
        ") as raw_rows(id, _voc_updated_at, _dlt_load_id, _voc_file, _voc_line, label))"
    )
    relation = "{% set versions %}" + versions + "{% endset %}"
    compiled = _compile(
        relation + "select id, label from ({{ latest_version(versions, 'id') }}) as kept order by id",
        tmp_path_factory.mktemp("latest"),
    )
    with duckdb.connect() as conn:
        assert conn.execute(compiled).fetchall() == [("A", "newest"), ("B", "later load"), ("C", "later file")]
        # version_column=none: only exact re-exports of one version collapse, every version stays
        compiled = _compile(
            relation + "select id, label from ({{ latest_version(versions, ['id', '_voc_updated_at'], "
            "version_column=none) }}) as kept order by id, label",
            tmp_path_factory.mktemp("latest_none"),
        )
        assert conn.execute(compiled).fetchall() == [("A", "newest"), ("A", "old"), ("B", "later load"), ("C", "later file")]


def test_identifier_pseudonyms_are_keyed_in_the_function_not_in_the_sql(tmp_path_factory, run_macro):
    # run_macro: for its VOC_DUCKDB_PATH (dbt compile opens a connection)
    from nlp_udfs import pseudonyms

    compiled = _compile(
        "select {{ hash_identifier(\"'phone'\", \"'13800138000'\") }} as id_hash, "
        "{{ customer_pseudonym(\"'member_id:M1'\") }} as one_id",
        tmp_path_factory.mktemp("pseudonyms"),
    )
    assert "voc-demo-salt" not in compiled and "sha256" not in compiled and "md5" not in compiled
    key = b"macro test key"
    with duckdb.connect() as conn:
        pseudonyms.register(conn, key)
        id_hash, one_id = conn.execute(compiled).fetchone()
    assert id_hash == pseudonyms.pseudonym(key, "phone", "13800138000")
    assert one_id == "cust_" + pseudonyms.pseudonym(key, "customer", "member_id:M1")[:16]


def test_adjacent_pairs_joins_each_term_to_the_next(run_macro):
    # emerging_themes builds its phrases this way: 效果 + 不好 -> 效果不好
    cases = {"效果,不好,洗完": ["效果不好", "不好洗完"], "头皮屑": [], "": []}
    pairs = run_macro("{{ adjacent_pairs(\"list_filter(string_split(raw, ','), lambda t: t <> '')\") }}", cases)
    assert pairs == cases


def test_input_signatures_tell_apart_every_list_of_values(run_macro):
    # int_feedback__changes finds what a night rebuilds by these signatures: a value moved across
    # the separator, a NULL and the text of a NULL must not look alike
    split = "nullif(split_part(raw, '/', {}), '#')"
    cases = ["a|b/c", "a/b|c", "a/#", "a/", "a/~", "a/<null>", "/a", "a/b", "a/b"]
    signatures = run_macro("{{ voc_signature([\"" + split.format(1) + "\", \"" + split.format(2) + "\"]) }}",
                           dict.fromkeys(cases))
    assert len(set(signatures.values())) == len(set(cases)) == 8


def test_one_macro_picks_the_incremental_strategy(run_macro):
    strategy = run_macro("'{{ voc_incremental_strategy() }}'", {"x": None})
    assert strategy == {"x": "delete+insert"}
