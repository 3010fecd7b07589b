"""The normalizing macros of the dbt project, compiled by dbt and run in DuckDB on every format
the source contract lists."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import duckdb
import pytest

from orchestration.project import voc_dbt_project

pytestmark = pytest.mark.dbt

PHONES = {
    "13800138000": "13800138000",
    "+86 138 0013 8000": "13800138000",
    "86-13800138000": "13800138000",
    "138-0013-8000": "13800138000",
    "(+86)13800138000": "13800138000",
    "未提供": None,
    "12345": None,
    "0755-12345678": None,
    "": None,
}
EMAILS = {"Zhang.San@Example.com ": "zhang.san@example.com", "  a@b.cn": "a@b.cn", "not an email": None, "": None}
TIMESTAMPS = {
    "2025-06-01T10:23:45+08:00": datetime(2025, 6, 1, 2, 23, 45, tzinfo=timezone.utc),
    "2025-06-01T02:23:45Z": datetime(2025, 6, 1, 2, 23, 45, tzinfo=timezone.utc),
    "2025-06-01 10:23:45": datetime(2025, 6, 1, 2, 23, 45, tzinfo=timezone.utc),
    "1748744625": datetime(2025, 6, 1, 2, 23, 45, tzinfo=timezone.utc),
    "not a time": None,
    "": None,
}


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


def test_every_contract_phone_format_normalizes_to_one_number(run_macro):
    assert run_macro("{{ normalize_phone('raw') }}", PHONES) == PHONES


def test_emails_are_trimmed_and_case_folded(run_macro):
    assert run_macro("{{ normalize_email('raw') }}", EMAILS) == EMAILS


def test_every_contract_timestamp_format_parses_to_the_same_instant(run_macro):
    assert run_macro("{{ parse_vendor_timestamp('raw') }}", TIMESTAMPS) == TIMESTAMPS


def test_local_dates_are_calendar_days_in_shanghai(run_macro):
    cases = {
        "2026-11-15T15:59:59Z": "2026-11-15",  # 23:59:59 in Shanghai
        "2026-11-15T16:00:00Z": "2026-11-16",  # midnight in Shanghai
        "2026-11-16 00:30:00": "2026-11-16",  # naive vendor time is Shanghai time
    }
    dates = run_macro("cast({{ local_date(parse_vendor_timestamp('raw')) }} as varchar)", cases)
    assert dates == cases
