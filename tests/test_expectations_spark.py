"""The expectation suites on Spark (expectations/spark.py): the Spark form of the DuckDB SQL rules
(unit), and the suites run by GX's Spark data source on a Parquet copy of the demo raw, staging
and mart tables giving the same verdict per expectation as GX on the DuckDB warehouse, including
an injected failure that blocks (``spark``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from spark_copy import export_to_spark_warehouse, local_spark_session

from expectations.spark import spark_rule, spark_sql
from expectations.suites import ERROR, mart_suite, raw_suites, staging_suites
from loaders.contracts import FAMILY_SPECS


def test_identifiers_types_and_regexes_get_their_spark_spelling():
    assert spark_sql('select "a b", x from {batch} where "t" < timestamptz \'2000-01-01\'') == (
        "select `a b`, x from {batch} where `t` < timestamp '2000-01-01'"
    )
    assert spark_sql("select * from {batch} where regexp_matches(cast(\"c\" as varchar), '(a|b)\\.c') or n = 1") == (
        "select * from {batch} where (cast(`c` as string) rlike r'(a|b)\\.c') or n = 1"
    )
    # a literal is never rewritten: quotes, type names and commas inside it stay as they are
    assert spark_sql("select 'say \"varchar\", it''s' as s") == "select 'say \"varchar\", it\\'s' as s"


def all_rules():
    suites = [suite for family in FAMILY_SPECS for suite in raw_suites(family, FAMILY_SPECS[family][0].table)]
    suites += staging_suites()
    suites += [mart_suite(model, ["text_masked", "tags"]) for model in (
        "kpi_daily", "quarantine_summary", "driver_impact", "closed_loop", "closed_loop_weekly", "root_cause",
        "root_cause_verdicts", "fct_feedback")]
    return [(suite, rule) for suite in suites for rule in suite.rules]


def test_every_sql_rule_has_a_spark_form_without_duckdb_spellings():
    translated = [spark_rule(rule) for _, rule in all_rules() if rule.failing_rows_sql]
    assert len(translated) > 20
    for rule in translated:
        code = "".join(part for index, part in enumerate(rule.failing_rows_sql.split("'")) if index % 2 == 0)
        assert '"' not in code and "regexp_matches" not in code and "timestamptz" not in code, rule.failing_rows_sql
        assert rule.expectation.description and rule.severity in ("error", "warn")


# --- on Spark, against DuckDB ----------------------------------------------------------------

MARTS = ("kpi_daily", "quarantine_summary", "driver_impact", "closed_loop", "closed_loop_weekly", "root_cause_verdicts")


@pytest.fixture(scope="module")
def spark():
    session = local_spark_session("test_expectations_spark")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def broken_warehouse(demo_warehouse, tmp_path_factory) -> Path:
    """A copy of the demo warehouse with one kpi_daily row whose NPS parts no longer add up."""
    path = tmp_path_factory.mktemp("broken") / "voc.duckdb"
    shutil.copyfile(demo_warehouse.warehouse_path, path)
    with duckdb.connect(str(path)) as con:
        con.execute(
            "update marts.kpi_daily set n_promoters = n_promoters + 1 "
            "where kpi_key = (select min(kpi_key) from marts.kpi_daily)"
        )
    return path


def demo_suites(reader):
    suites = raw_suites("surveys", "surveys") + [s for s in staging_suites() if s.name == "stg_surveys__responses"]
    suites += [mart_suite(model, reader.text_columns(f"marts.{model}")) for model in MARTS]
    suites += [mart_suite("fct_feedback", reader.text_columns("marts.fct_feedback"))]
    return suites


def relations_of(suites) -> set[str]:
    named = {suite.relation for suite in suites}
    return named | {"raw.surveys_quarantine", "raw.surveys"}  # the reconciliation and staging rules name them


@pytest.mark.spark
@pytest.mark.e2e
def test_suites_give_the_same_verdicts_on_spark_and_duckdb(broken_warehouse, spark, tmp_path):
    from expectations.runner import validate_suites
    from expectations.spark import validate_suites_spark
    from orchestration.marts_reader import DuckDBMartsReader, SparkMartsReader, SparkTableLocations

    with DuckDBMartsReader(broken_warehouse) as reader:
        suites = demo_suites(reader)
        # a view in DuckDB (staging) is a table in the Parquet copy, as it would be by path on Spark
        export_to_spark_warehouse(broken_warehouse, sorted(relations_of(suites)), tmp_path)
    spark_reader = SparkMartsReader(spark, SparkTableLocations(warehouse_dir=str(tmp_path)))
    assert set(spark_reader.register_all()) == relations_of(suites)

    on_duckdb = validate_suites(broken_warehouse, suites)
    on_spark = validate_suites_spark(spark, suites)

    def verdicts(outcomes):
        return {(o.suite.name, e.expectation): (e.success, e.unexpected_count, e.error) for o in outcomes for e in o.outcomes}

    assert verdicts(on_spark) == verdicts(on_duckdb)
    assert len(verdicts(on_spark)) >= 20
    kpi = next(outcome for outcome in on_spark if outcome.suite.name == "kpi_daily")
    failed = kpi.failed(ERROR)  # an ERROR failure: the asset's blocking gx_errors check fails
    assert [o.expectation for o in failed] == ["kpi_daily: promoters + passives + detractors = NPS responses"]
    assert failed[0].unexpected_count == 1 and failed[0].samples and failed[0].samples[0]["n_promoters"] is not None
    assert all(not o.failed(ERROR) for o in on_spark if o.suite.name != "kpi_daily"), [
        (o.suite.name, [e.expectation for e in o.failed(ERROR)]) for o in on_spark if o.failed(ERROR)
    ]


@pytest.mark.spark
def test_every_sql_rule_parses_on_spark(spark):
    parser = spark._jsparkSession.sessionState().sqlParser()
    for _, rule in all_rules():
        if rule.failing_rows_sql:
            parser.parsePlan(spark_rule(rule).failing_rows_sql.format(batch="tmp_view"))
