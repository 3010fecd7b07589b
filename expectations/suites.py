"""What the quality gates expect of each layer, as data: which relation, which expectations, how severe.

A :class:`Suite` is one relation of the warehouse guarded on behalf of one Dagster asset; its
:class:`Rule` s pair a great-expectations expectation with a severity. ``error`` rules gate the
assets downstream (blocking checks), ``warn`` rules only report. Rules written as SQL
(:func:`sql_rule`) name the failing rows with a query over ``{batch}``; the runner uses the same
query to show a few of them.

Ownership (see the README): dbt tests own keys, not-nulls, accepted values, relationships and
ranges of dbt models (they already run as Dagster asset checks); these suites own the raw layer,
cross-layer reconciliation and time plausibility in staging, and mart-wide
rules that dbt's generic tests cannot say (NPS parts, no personal data, quarantine rates).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import great_expectations as gx

from loaders.contracts import FAMILY_SPECS, VERSION_COLUMN, FieldSpec, Kind, RecordSpec

ERROR = "error"
WARN = "warn"
EARLIEST_PLAUSIBLE_TIME = "2000-01-01"
"""No customer feedback in this business predates it; an earlier time is a parsing accident."""
MIN_ROWS_PER_RAW_TABLE = 1
"""A loaded source table with no row at all means a feed stopped or a load went wrong."""

RAW_MOBILE_RE2 = r"(^|[^0-9A-Za-z])(\+?86[ -]?)?1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}([^0-9A-Za-z]|$)"
RAW_EMAIL_RE2 = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]+"
RAW_UNIONID_RE2 = r"(^|[^0-9A-Za-z_-])o[0-9A-Za-z_-]{27}([^0-9A-Za-z_-]|$)"
"""WeChat UnionIDs: 28 url-safe base64 characters starting with ``o``."""
RAW_PII_PATTERNS = {"mobile": RAW_MOBILE_RE2, "email": RAW_EMAIL_RE2, "unionid": RAW_UNIONID_RE2}


@dataclass(frozen=True)
class Rule:
    """One expectation and its severity; ``failing_rows_sql`` (over ``{batch}``) for SQL rules."""

    severity: str
    expectation: gx.expectations.Expectation
    failing_rows_sql: str | None = None

    @property
    def name(self) -> str:
        """Readable name: the description of SQL rules, else the expectation type and arguments."""
        if self.expectation.description:
            return self.expectation.description
        kwargs = self.expectation.configuration.kwargs
        arguments = ", ".join(
            f"{key}={value}" for key, value in kwargs.items() if key not in ("batch_id", "result_format")
        )
        return f"{self.expectation.expectation_type}({arguments})"


@dataclass(frozen=True)
class Suite:
    """Expectations on ``relation`` (``schema.table``), reported on the Dagster asset ``asset_path``."""

    name: str
    layer: str
    asset_path: tuple[str, ...]
    relation: str
    rules: tuple[Rule, ...]
    sample_columns: tuple[str, ...] = field(default=())

    def with_rules(self, extra: Iterable[Rule]) -> "Suite":
        return Suite(self.name, self.layer, self.asset_path, self.relation, (*self.rules, *extra), self.sample_columns)


def sql_rule(severity: str, description: str, failing_rows_sql: str) -> Rule:
    """A rule that passes when ``failing_rows_sql`` (a query over ``{batch}``) returns no row.

    The query is a Python format string (GX fills ``{batch}``): literal braces are doubled.
    """
    return Rule(
        severity,
        gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=failing_rows_sql, description=description
        ),
        failing_rows_sql,
    )


# --- raw -----------------------------------------------------------------------------------------


def score_columns(fields: Iterable[FieldSpec], prefix: str = "") -> list[tuple[str, int, int]]:
    """``(flattened column, low, high)`` of every bounded score of a record spec (dlt flattens with ``__``)."""
    found: list[tuple[str, int, int]] = []
    for field_spec in fields:
        if field_spec.kind is Kind.OBJECT:
            found.extend(score_columns(field_spec.children, f"{prefix}{field_spec.name}__"))
        elif field_spec.kind is Kind.SCORE:
            found.append((f"{prefix}{field_spec.name}", field_spec.low, field_spec.high))
    return found


def plausible_time_rule(severity: str, column: str, key_columns: Iterable[str]) -> Rule:
    """Times before 2000 or more than a day in the future mean a timestamp was misread."""
    keys = ", ".join(f'"{key}"' for key in key_columns)
    return sql_rule(
        severity,
        f"{column} is between {EARLIEST_PLAUSIBLE_TIME} and tomorrow",
        f'select {keys}, "{column}" from {{batch}} where "{column}" < timestamptz '
        f"'{EARLIEST_PLAUSIBLE_TIME}' or \"{column}\" > now() + interval 1 day",
    )


def raw_table_suite(spec: RecordSpec) -> Suite:
    """Expectations on one raw table as dlt left it (after the merge kept the newest version)."""
    rules: list[Rule] = [
        Rule(ERROR, gx.expectations.ExpectColumnValuesToNotBeNull(column=spec.id_field)),
        Rule(ERROR, gx.expectations.ExpectColumnValuesToNotBeNull(column="_voc_file")),
    ]
    if spec.extra_primary_key:
        rules.append(Rule(ERROR, gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=list(spec.primary_key))))
    else:
        rules.append(Rule(ERROR, gx.expectations.ExpectColumnValuesToBeUnique(column=spec.id_field)))
    if spec.version_required:
        rules.append(Rule(ERROR, gx.expectations.ExpectColumnValuesToNotBeNull(column=VERSION_COLUMN)))
    rules.append(plausible_time_rule(WARN, VERSION_COLUMN, spec.primary_key))
    for column, low, high in score_columns(spec.fields):
        rules.append(
            Rule(ERROR, gx.expectations.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high))
        )
    rules.append(Rule(WARN, gx.expectations.ExpectTableRowCountToBeBetween(min_value=MIN_ROWS_PER_RAW_TABLE)))
    return Suite(
        name=f"raw_{spec.table}",
        layer="raw",
        asset_path=("raw", spec.table),
        relation=f"raw.{spec.table}",
        rules=tuple(rules),
        sample_columns=spec.primary_key,
    )


def reconciliation_suite(family: str, asset_table: str) -> Suite:
    """Records read = loaded + quarantined for the family, and no more raw rows than records loaded.

    The load log (``raw.<family>_files``) and the quarantine table are written by the same dlt
    run; if they disagree, records were lost or double counted between landing and warehouse.
    """
    raw_tables = [spec.table for spec in FAMILY_SPECS[family]]
    raw_rows = " + ".join(f"(select count(*) from raw.{table})" for table in raw_tables)
    failing = (
        "select read, loaded, logged_quarantined, quarantine_rows, raw_rows from ("
        "select coalesce(sum(records_read), 0) as read, coalesce(sum(records_loaded), 0) as loaded, "
        "coalesce(sum(records_quarantined), 0) as logged_quarantined, "
        f"(select count(*) from raw.{family}_quarantine) as quarantine_rows, {raw_rows} as raw_rows "
        "from {batch}) as totals "
        "where read <> loaded + quarantine_rows or logged_quarantined <> quarantine_rows or raw_rows > loaded"
    )
    return Suite(
        name=f"raw_{family}_reconciliation",
        layer="raw",
        asset_path=("raw", asset_table),
        relation=f"raw.{family}_files",
        rules=(
            sql_rule(ERROR, f"{family}: records read = loaded + quarantined, raw rows <= loaded", failing),
            sql_rule(
                ERROR,
                f"{family}: every load-log row adds up (read = loaded + quarantined)",
                "select file, records_read, records_loaded, records_quarantined from {batch} "
                "where records_read <> records_loaded + records_quarantined",
            ),
        ),
        sample_columns=("file",),
    )


def raw_suites(family: str, asset_table_for_family: str) -> list[Suite]:
    """Every raw suite of one source family (its tables and its load reconciliation)."""
    suites = [raw_table_suite(spec) for spec in FAMILY_SPECS[family]]
    suites.append(reconciliation_suite(family, asset_table_for_family))
    return suites


# --- staging -------------------------------------------------------------------------------------

# model -> (raw table, record id column, time the customer acted)
FEEDBACK_STAGING_MODELS = {
    "stg_surveys__responses": ("surveys", "response_id", "submitted_at"),
    "stg_tickets__tickets": ("tickets", "ticket_id", "created_at"),
    "stg_reviews__reviews": ("reviews", "review_id", "created_at"),
    "stg_social__posts": ("social", "post_id", "published_at"),
}


def staging_suite(model: str, raw_table: str, id_column: str, event_column: str) -> Suite:
    """Staging keeps exactly the raw records (one row per raw id), with plausible parsed times.

    Uniqueness and not-null of the id are dbt tests on the same models, so they are not repeated.
    """
    rules = [
        sql_rule(
            ERROR,
            f"{model}: one row per record id of raw.{raw_table} (none lost, none added)",
            f'select raw_ids, staged_rows from (select (select count(distinct "{id_column}") '
            f"from raw.{raw_table}) as raw_ids, count(*) as staged_rows from {{batch}}) as counts "
            "where raw_ids <> staged_rows",
        ),
        plausible_time_rule(WARN, event_column, (id_column,)),
    ]
    if model == "stg_tickets__tickets":
        rules.append(
            sql_rule(
                WARN,
                "tickets are solved and first answered after they are created",
                "select ticket_id, created_at, first_response_at, solved_at from {batch} "
                "where solved_at < created_at or first_response_at < created_at",
            )
        )
    return Suite(
        name=model,
        layer="staging",
        asset_path=("staging", model),
        relation=f"staging.{model}",
        rules=tuple(rules),
        sample_columns=(id_column,),
    )


def staging_suites() -> list[Suite]:
    return [staging_suite(model, *columns) for model, columns in FEEDBACK_STAGING_MODELS.items()]


# --- marts ---------------------------------------------------------------------------------------


def no_raw_pii_rule(relation: str, columns: Iterable[str]) -> Rule | None:
    """ERROR when any text column of a mart holds a raw mobile number, e-mail or UnionID."""
    columns = list(columns)
    if not columns:
        return None
    # one alternation per column: DuckDB scans each value once; lists of text are cast to text
    any_pattern = "|".join(f"({pattern})" for pattern in RAW_PII_PATTERNS.values())
    any_pattern = any_pattern.replace("{", "{{").replace("}", "}}")  # the query is a format string
    matches = " or ".join(
        f"regexp_matches(cast(\"{column}\" as varchar), '{any_pattern}')" for column in columns
    )
    return sql_rule(
        ERROR,
        f"{relation}: no raw mobile, e-mail or UnionID in any text column",
        f"select * from {{batch}} where {matches}",
    )


KPI_DAILY_RULES = (
    sql_rule(
        ERROR,
        "kpi_daily: promoters + passives + detractors = NPS responses",
        "select kpi_key, kpi_date, source, n_promoters, n_passives, n_detractors, n_nps_responses "
        "from {batch} where n_promoters + n_passives + n_detractors <> n_nps_responses",
    ),
    sql_rule(
        ERROR,
        "kpi_daily: parts never exceed their totals (negative, complaints, CSAT top-2)",
        "select kpi_key, n_feedback, n_negative, n_complaints, n_csat_top2, n_csat_responses from {batch} "
        "where n_negative > n_feedback or n_complaints > n_negative or n_csat_top2 > n_csat_responses",
    ),
    Rule(ERROR, gx.expectations.ExpectColumnValuesToBeBetween(column="avg_sentiment", min_value=-1, max_value=1)),
    Rule(ERROR, gx.expectations.ExpectColumnValuesToBeBetween(column="nps", min_value=-100, max_value=100)),
)

QUARANTINE_SUMMARY_RULES = (
    sql_rule(
        WARN,
        "quarantine_summary: each source's quarantine rate stays under its threshold (quality_thresholds seed)",
        "select source_family, reason, n_quarantined, source_quarantine_rate, max_quarantine_rate "
        "from {batch} where source_quarantine_rate > max_quarantine_rate",
    ),
)

DRIVER_IMPACT_RULES = (
    sql_rule(
        ERROR,
        "driver_impact: with + without = all, and the overall value is their weighted mean",
        "select driver_key, metric, tag, n_total, n_with, n_without, value_overall, value_with, value_without "
        "from {batch} where n_with + n_without <> n_total or n_with < 1 or (value_without is not null and "
        "abs(value_overall - (share_with * value_with + (1 - share_with) * value_without)) > 1e-6)",
    ),
    sql_rule(
        ERROR,
        "driver_impact: the interval brackets the impact, and ranks are unique per period x metric x source",
        "select driver_key, impact_points, impact_ci_low, impact_ci_high, impact_rank from {batch} "
        "where impact_ci_low > impact_points or impact_ci_high < impact_points or driver_key in ("
        "select min(driver_key) from {batch} where impact_rank is not null "
        "group by period_type, period_start, metric, source, impact_rank having count(*) > 1)",
    ),
    sql_rule(
        ERROR,
        "driver_impact: values lie in their metric's range (NPS -100..100, rates 0..1)",
        "select driver_key, metric, value_with, value_without from {batch} where "
        "(metric = 'nps' and (abs(value_with) > 100 or abs(value_without) > 100)) or (metric <> 'nps' and "
        "(value_with not between 0 and 1 or value_without not between 0 and 1))",
    ),
)

CLOSED_LOOP_RULES = (
    sql_rule(
        ERROR,
        "closed_loop: the state follows from ticket, resolution and next feedback",
        "select alert_id, loop_state, ticket_id, resolved_at, next_feedback_id from {batch} where loop_state <> case "
        "when ticket_id is null then 'open' when resolved_at is null then 'in_progress' "
        "when next_feedback_id is null then 'resolved' else 'followed_up' end",
    ),
    sql_rule(
        ERROR,
        "closed_loop: the ticket is not before the alert, the next feedback not before the resolution",
        "select alert_id, raised_at, ticket_created_at, resolved_at, next_feedback_at from {batch} "
        "where ticket_created_at < raised_at or next_feedback_at <= resolved_at",
    ),
)

CLOSED_LOOP_WEEKLY_RULES = (
    sql_rule(
        ERROR,
        "closed_loop_weekly: open + in progress + resolved = alerts; followed up <= resolved <= with ticket",
        "select team_week_key, n_alerts, n_open, n_in_progress, n_resolved, n_followed_up, n_with_ticket from {batch} "
        "where n_open + n_in_progress + n_resolved <> n_alerts or n_followed_up > n_resolved "
        "or n_resolved > n_with_ticket or n_with_ticket > n_alerts or n_delivered > n_alerts",
    ),
)

ROOT_CAUSE_RULES = (
    sql_rule(
        ERROR,
        "root_cause: counts within their totals, q-values never below p-values, named cells significant",
        "select episode_key, dimension, dimension_value, observed, tag_total, p_value, q_value, is_significant "
        "from {batch} where observed < 1 or observed > tag_total or q_value < p_value - 1e-12 "
        "or p_value < 0 or q_value > 1 or (is_local_cell and not is_significant)",
    ),
    Rule(ERROR, gx.expectations.ExpectColumnValuesToBeBetween(column="expected_share", min_value=0, max_value=1)),
)

ROOT_CAUSE_VERDICTS_RULES = (
    sql_rule(
        ERROR,
        "root_cause_verdicts: a local verdict names its cells and explains at least part of the excess",
        "select episode_key, verdict, local_dimension, local_cells, local_share_of_excess from {batch} "
        "where (verdict = 'local') <> (local_cells is not null) "
        "or (verdict = 'local' and (local_dimension is null or local_share_of_excess <= 0))",
    ),
)

MART_RULES = {
    "kpi_daily": KPI_DAILY_RULES,
    "quarantine_summary": QUARANTINE_SUMMARY_RULES,
    "driver_impact": DRIVER_IMPACT_RULES,
    "closed_loop": CLOSED_LOOP_RULES,
    "closed_loop_weekly": CLOSED_LOOP_WEEKLY_RULES,
    "root_cause": ROOT_CAUSE_RULES,
    "root_cause_verdicts": ROOT_CAUSE_VERDICTS_RULES,
}
MART_SAMPLE_COLUMNS = {
    "fct_feedback": ("feedback_id",),
    "dim_customer": ("one_id",),
    "kpi_daily": ("kpi_key",),
    "driver_impact": ("driver_key",),
    "closed_loop": ("alert_id",),
    "closed_loop_weekly": ("team_week_key",),
    "root_cause": ("episode_key", "dimension", "dimension_value"),
    "root_cause_verdicts": ("episode_key",),
}


def mart_suite(model: str, text_columns: Iterable[str]) -> Suite:
    """Mart rules: the model's own rules plus the no-personal-data rule over its text columns."""
    relation = f"marts.{model}"
    rules = list(MART_RULES.get(model, ()))
    pii = no_raw_pii_rule(relation, text_columns)
    if pii is not None:
        rules.append(pii)
    return Suite(
        name=model,
        layer="marts",
        asset_path=("marts", model),
        relation=relation,
        rules=tuple(rules),
        sample_columns=MART_SAMPLE_COLUMNS.get(model, ()),
    )
