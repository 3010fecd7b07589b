"""Run the same expectation suites against a Spark warehouse (issue 19).

The suites (:mod:`expectations.suites`) are engine-neutral data: a relation, GX expectations and
severities. On Spark each guarded relation is handed to GX 1.x's Spark data source as a
DataFrame (``add_spark`` + a dataframe asset), so GX computes its metrics with Spark; the
verdicts are flattened into the same :class:`~expectations.runner.SuiteOutcome` s as on DuckDB,
and the checks that turn them into Dagster results (blocking ERROR, reporting WARN) do not know
which engine ran them.

Rules written as SQL (:func:`~expectations.suites.sql_rule`) are DuckDB SQL; :func:`spark_sql`
gives their Spark form, rewriting exactly what the two dialects spell differently in these rules:
double-quoted identifiers (backticks on Spark), ``timestamptz``/``varchar`` type names,
``regexp_matches(x, p)`` (``x rlike p``) and literals holding a backslash, which DuckDB takes
verbatim and Spark would unescape (raw ``r'...'`` literals on Spark). GX substitutes ``{batch}``
with its temporary view of the DataFrame; other relations a rule names (``raw.surveys`` in a
reconciliation) must resolve by name in the session: the caller registers them (the marts
reader does, ``orchestration.marts_reader.SparkMartsReader.register_all``).

The session is the caller's: nothing here builds one or reads the environment.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable

from expectations.runner import RULE_TAG, SuiteOutcome, _missing_relation, _outcome, _result_format
from expectations.suites import Rule, Suite, sql_rule
from expectations.warehouse import SAMPLE_ROWS, open_gx_context, timed

_FUNCTION_CALL = re.compile(r"\bregexp_matches\s*\(", re.IGNORECASE)
_TYPE_NAMES = ((re.compile(r"\btimestamptz\b", re.IGNORECASE), "timestamp"), (re.compile(r"\bvarchar\b", re.IGNORECASE), "string"))


def _split_literals(sql: str) -> list[tuple[bool, str]]:
    """``(is_literal, text)`` pieces: single-quoted literals (DuckDB: '' escapes a quote) and the rest."""
    pieces: list[tuple[bool, str]] = []
    position = 0
    while position < len(sql):
        start = sql.find("'", position)
        if start < 0:
            pieces.append((False, sql[position:]))
            break
        if start > position:
            pieces.append((False, sql[position:start]))
        end = start + 1
        while True:
            end = sql.find("'", end)
            if end < 0:
                raise ValueError(f"unterminated literal in {sql!r}")
            if sql.startswith("''", end):
                end += 2
                continue
            break
        pieces.append((True, sql[start : end + 1]))
        position = end + 1
    return pieces


def _spark_literal(literal: str) -> str:
    """A DuckDB literal as Spark reads it: verbatim backslashes need a raw literal, and a doubled
    quote is written escaped."""
    body = literal[1:-1]
    if "\\" in body:
        if "''" in body:
            raise ValueError(f"a literal with both a backslash and a quote has no Spark form here: {literal}")
        return "r'" + body + "'"
    return "'" + body.replace("''", "\\'") + "'"


def _rewrite_code(code: str) -> str:
    code = re.sub(r'"((?:[^"]|"")*)"', lambda m: "`" + m.group(1).replace('""', '"').replace("`", "``") + "`", code)
    for pattern, replacement in _TYPE_NAMES:
        code = pattern.sub(replacement, code)
    return code


def _rewrite_regexp_matches(sql: str) -> str:
    """``regexp_matches(a, b)`` -> ``(a rlike b)`` (arguments found by balanced parentheses)."""
    while match := _FUNCTION_CALL.search(sql):
        depth, position, comma = 1, match.end(), None
        in_literal = False
        while depth:
            char = sql[position]
            if char == "'":
                in_literal = not in_literal
            elif not in_literal:
                if char == "(":
                    depth += 1
                elif char == ")":
                    depth -= 1
                elif char == "," and depth == 1 and comma is None:
                    comma = position
            position += 1
        if comma is None:
            raise ValueError(f"regexp_matches with one argument: {sql[match.start():position]}")
        subject, pattern = sql[match.end() : comma].strip(), sql[comma + 1 : position - 1].strip()
        sql = f"{sql[:match.start()]}({subject} rlike {pattern}){sql[position:]}"
    return sql


def spark_sql(duckdb_sql: str) -> str:
    """The Spark SQL form of a rule's DuckDB query (see the module doc for what changes)."""
    rewritten = "".join(
        _spark_literal(text) if is_literal else _rewrite_code(text) for is_literal, text in _split_literals(duckdb_sql)
    )
    return _rewrite_regexp_matches(rewritten)


def spark_rule(rule: Rule) -> Rule:
    """The rule with its SQL in Spark's dialect (column and table expectations are unchanged)."""
    if rule.failing_rows_sql is None:
        return rule
    return sql_rule(rule.severity, rule.expectation.description, spark_sql(rule.failing_rows_sql))


class SparkSampleReader:
    """The runner's sample queries (failing rows of a SQL rule), translated and run on Spark."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark

    def sample_rows(self, query: str, limit: int = SAMPLE_ROWS) -> list[dict[str, Any]]:
        frame = self.spark.sql(f"select * from ({spark_sql(query)}) as failing_rows limit {int(limit)}")
        return [row.asDict(recursive=True) for row in frame.collect()]


def relation_exists(spark: Any, relation: str) -> bool:
    try:
        return bool(spark.catalog.tableExists(relation))
    except Exception:  # the schema is not in the catalog
        return False


def validate_suites_spark(
    spark: Any,
    suites: Iterable[Suite],
    frame_of: Callable[[str], Any] | None = None,
) -> list[SuiteOutcome]:
    """Run every suite through GX's Spark data source; relations resolve by name in ``spark``
    (or through ``frame_of(relation)``, which returns a DataFrame or None when it is missing)."""
    import great_expectations as gx

    def default_frame(relation: str):
        return spark.table(relation) if relation_exists(spark, relation) else None

    frame_of = frame_of or default_frame
    context = open_gx_context()
    # persist=False: GX would cache each DataFrame; the checks read each relation once
    source = context.data_sources.add_spark(name="spark_warehouse", persist=False)
    reader = SparkSampleReader(spark)
    outcomes: list[SuiteOutcome] = []
    for suite in suites:
        frame = frame_of(suite.relation)
        if frame is None:
            outcomes.append(SuiteOutcome(suite, _missing_relation(suite), 0.0))
            continue
        asset = source.add_dataframe_asset(name=suite.name)
        batch = asset.add_batch_definition_whole_dataframe("whole_table").get_batch(batch_parameters={"dataframe": frame})
        gx_suite = gx.ExpectationSuite(name=suite.name)
        for position, rule in enumerate(suite.rules):
            tagged = spark_rule(rule).expectation.copy(deep=True)
            tagged.meta = {**(tagged.meta or {}), RULE_TAG: position, "severity": rule.severity}
            gx_suite.add_expectation(tagged)
        validation, seconds = timed(batch.validate, gx_suite, result_format=_result_format(suite))
        results = {result.expectation_config.meta[RULE_TAG]: result for result in validation.results}
        by_rule = [_outcome(rule, results[position], reader, suite.relation) for position, rule in enumerate(suite.rules)]
        outcomes.append(SuiteOutcome(suite, tuple(by_rule), seconds))
    return outcomes
