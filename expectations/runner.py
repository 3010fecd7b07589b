"""Validate suites against the warehouse and flatten GX results into :class:`ExpectationOutcome` s."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from expectations.masking import mask_row
from expectations.suites import Rule, Suite
from expectations.warehouse import (
    SAMPLE_ROWS,
    ExpectationOutcome,
    WarehouseReader,
    add_warehouse_source,
    close_read_only_connections,
    open_gx_context,
    timed,
)

RULE_TAG = "voc_rule"
"""Meta key holding a rule's position in its suite."""


@dataclass(frozen=True)
class SuiteOutcome:
    """The verdicts of one suite, with the time the validation took."""

    suite: Suite
    outcomes: tuple[ExpectationOutcome, ...]
    seconds: float

    def failed(self, severity: str) -> list[ExpectationOutcome]:
        return [outcome for outcome in self.outcomes if outcome.severity == severity and not outcome.success]

    def of_severity(self, severity: str) -> list[ExpectationOutcome]:
        return [outcome for outcome in self.outcomes if outcome.severity == severity]


def _result_format(suite: Suite) -> dict[str, Any]:
    """SUMMARY keeps results small: counts plus a few failing values and their row keys."""
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_ROWS}
    if suite.sample_columns:
        result_format["unexpected_index_column_names"] = list(suite.sample_columns)
    return result_format


def observed_value(result: dict[str, Any]) -> Any:
    """The number that explains a verdict: GX's observed value, else the failing-row count."""
    if "observed_value" in result:
        return result["observed_value"]
    if "unexpected_count" in result:
        return {
            "unexpected_count": result["unexpected_count"],
            "unexpected_percent": round(result.get("unexpected_percent") or 0.0, 4),
        }
    return None


def gx_error_message(exception_info: dict[str, Any]) -> str | None:
    """The message of an exception GX caught while computing a result (flat or per metric)."""
    reports = [exception_info] if "raised_exception" in exception_info else list(exception_info.values())
    messages = [
        str(report.get("exception_message"))
        for report in reports
        if isinstance(report, dict) and report.get("raised_exception")
    ]
    return "; ".join(dict.fromkeys(messages)) or None


def column_map_samples(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Failing rows GX names for column expectations (row keys and the failing value)."""
    indexed = result.get("partial_unexpected_index_list") or []
    if indexed:
        return [dict(row) for row in indexed[:SAMPLE_ROWS]]
    return [{"value": value} for value in (result.get("partial_unexpected_list") or [])[:SAMPLE_ROWS]]


def _sql_rule_samples(reader: WarehouseReader, rule: Rule, relation: str) -> list[dict[str, Any]]:
    query = rule.failing_rows_sql.format(batch=f"(select * from {relation}) as batch")
    return reader.sample_rows(query)


def _outcome(rule: Rule, gx_result, reader: WarehouseReader, relation: str) -> ExpectationOutcome:
    result = dict(gx_result.result or {})
    error = gx_error_message(gx_result.exception_info or {})
    samples: list[dict[str, Any]] = []
    if not gx_result.success and error is None:
        samples = (
            _sql_rule_samples(reader, rule, relation)
            if rule.failing_rows_sql
            else column_map_samples(result)
        )
    count = result.get("unexpected_count")
    if count is None and rule.failing_rows_sql and isinstance(result.get("observed_value"), int):
        count = result["observed_value"]
    return ExpectationOutcome(
        expectation=rule.name,
        severity=rule.severity,
        success=bool(gx_result.success),
        observed=observed_value(result),
        unexpected_count=count,
        samples=[mask_row(row) for row in samples],
        error=error,
    )


def _missing_relation(suite: Suite) -> tuple[ExpectationOutcome, ...]:
    """A guarded relation that does not exist fails every rule: nothing was checked."""
    return tuple(
        ExpectationOutcome(
            expectation=rule.name,
            severity=rule.severity,
            success=False,
            observed=None,
            unexpected_count=None,
            samples=[],
            error=f"{suite.relation} does not exist in the warehouse",
        )
        for rule in suite.rules
    )


def validate_suites(warehouse_path: Path, suites: Iterable[Suite]) -> list[SuiteOutcome]:
    """Run every suite in one ephemeral GX context over a read-only warehouse connection."""
    import great_expectations as gx

    suites = list(suites)
    context = open_gx_context()
    source = add_warehouse_source(context, warehouse_path)
    outcomes: list[SuiteOutcome] = []
    reader = WarehouseReader(source.get_engine())
    try:
        for suite in suites:
            if not reader.relation_exists(suite.relation):
                outcomes.append(SuiteOutcome(suite, _missing_relation(suite), 0.0))
                continue
            asset = source.add_query_asset(name=suite.name, query=f"select * from {suite.relation}")
            batch = asset.add_batch_definition_whole_table("whole_table").get_batch()
            gx_suite = gx.ExpectationSuite(name=suite.name)
            for position, rule in enumerate(suite.rules):
                # a tagged copy: an unsaved suite gives no ids, so the tag matches results to rules
                tagged = rule.expectation.copy(deep=True)
                tagged.meta = {**(tagged.meta or {}), RULE_TAG: position, "severity": rule.severity}
                gx_suite.add_expectation(tagged)
            validation, seconds = timed(batch.validate, gx_suite, result_format=_result_format(suite))
            results = {result.expectation_config.meta[RULE_TAG]: result for result in validation.results}
            by_rule = [
                _outcome(rule, results[position], reader, suite.relation)
                for position, rule in enumerate(suite.rules)
            ]
            outcomes.append(SuiteOutcome(suite, tuple(by_rule), seconds))
    finally:
        # release DuckDB's file lock before the next writer (dlt, dbt) needs it
        source.get_engine().dispose()
        close_read_only_connections()
    return outcomes
