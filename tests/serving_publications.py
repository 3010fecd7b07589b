"""Small publications in the shared format (docs/serving.md), written by the serving tests.

``write_publication(folder, run_id, rows)`` writes ``voc_marts.duckdb`` (the marts plus a
one-row ``_publication``, with comments), ``parquet/<mart>.parquet`` and ``manifest.json`` for
three marts shaped like the real ones: ``fct_feedback`` (text, timestamptz, date, double,
integer, boolean, VARCHAR[] and a STRUCT), ``kpi_daily`` (a composite primary key) and
``tag_trends`` (no primary key). ``rows`` sets the size of ``fct_feedback``; the others follow.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

DESCRIPTIONS = {
    "fct_feedback": "One row per piece of customer feedback, every source.",
    "kpi_daily": "One row per local date x source x store.",
    "tag_trends": "One row per tag x day.",
}

SELECTS = {
    # {n} rows; {salt} makes two publications' contents differ
    "fct_feedback": """
        SELECT 'fb:' || i || ':{salt}' AS feedback_id,
               ['survey', 'ticket', 'review', 'social'][i % 4 + 1] AS source,
               TIMESTAMPTZ '2026-11-01 00:00:00+00' + to_minutes(i) AS created_at,
               CAST(DATE '2026-11-01' + CAST(i % 30 AS INTEGER) AS DATE) AS feedback_date,
               'S' || lpad(CAST(i % 50 AS VARCHAR), 3, '0') AS store_id,
               CAST((i % 200) / 100.0 - 1 AS DOUBLE) AS sentiment_score,
               CAST(CASE WHEN i % 3 = 0 THEN i % 11 END AS INTEGER) AS rating_nps,
               i % 7 = 0 AS is_vip,
               CASE WHEN i % 5 = 0 THEN CAST([] AS VARCHAR[]) ELSE ['物流体验-时效性', 'tag' || (i % 9)] END AS tags,
               {{'kind': 'rule', 'weight': i % 10}} AS priority_detail,
               CAST(i % 1000 AS DECIMAL(10, 2)) AS order_amount
        FROM range({n}) AS t(i)""",
    "kpi_daily": """
        SELECT CAST(DATE '2026-11-01' + CAST(i // 200 AS INTEGER) AS DATE) AS feedback_date,
               ['survey', 'ticket', 'review', 'social'][i % 4 + 1] AS source,
               'S' || lpad(CAST(i // 4 % 50 AS VARCHAR), 3, '0') AS store_id,
               CAST(i % 17 + {bump} AS BIGINT) AS n_feedback
        FROM range({n}) AS t(i)""",
    "tag_trends": """
        SELECT 'tag' || (i % 9) AS tag, CAST(DATE '2026-11-01' + CAST(i % 60 AS INTEGER) AS DATE) AS period_start,
               CAST(i AS BIGINT) AS volume
        FROM range({n}) AS t(i)""",
}
PRIMARY_KEYS = {"fct_feedback": ["feedback_id"], "kpi_daily": ["feedback_date", "source", "store_id"], "tag_trends": []}
FILTER_COLUMNS = {
    "fct_feedback": ["feedback_date", "source", "store_id", "tags"],
    "kpi_daily": ["feedback_date", "source", "store_id"],
    "tag_trends": ["tag", "period_start"],
}


def mart_sizes(rows: int) -> dict[str, int]:
    """Rows per mart of a publication whose fct_feedback has ``rows`` rows (kpi_daily's key
    stays unique: 200 per date, 4 sources x 50 stores)."""
    return {"fct_feedback": rows, "kpi_daily": max(rows // 3, 1), "tag_trends": max(rows // 5, 1)}


def write_publication(folder: Path, run_id: str, rows: int = 3000, published_at: str = "2026-12-07T05:00:00+00:00") -> dict:
    """Write a complete publication into ``folder``; returns its manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "parquet").mkdir(exist_ok=True)
    sizes = mart_sizes(rows)
    marts = {}
    with duckdb.connect(str(folder / "voc_marts.duckdb")) as con:
        con.execute("SET TimeZone = 'UTC'")
        for name, select in SELECTS.items():
            query = select.format(n=sizes[name], salt=run_id, bump=len(run_id) % 5)
            con.execute(f"CREATE TABLE {name} AS {query}")
            con.execute(f"COMMENT ON TABLE {name} IS {_literal(DESCRIPTIONS[name])}")
            described = con.execute(f"DESCRIBE {name}").fetchall()
            columns = []
            for column_name, column_type, *_ in described:
                description = f"The {column_name} of the row ({name})."
                con.execute(f'COMMENT ON COLUMN {name}."{column_name}" IS {_literal(description)}')
                columns.append({"name": column_name, "type": column_type, "description": description})
            parquet = f"parquet/{name}.parquet"
            con.execute(f"COPY {name} TO '{folder / parquet}' (FORMAT parquet)")
            marts[name] = {
                "rows": con.execute(f"SELECT count(*) FROM {name}").fetchone()[0],
                "parquet": parquet,
                "description": DESCRIPTIONS[name],
                "primary_key": PRIMARY_KEYS[name],
                "filter_columns": FILTER_COLUMNS[name],
                "columns": columns,
            }
        con.execute("CREATE TABLE _publication (run_id VARCHAR, git_revision VARCHAR, published_at TIMESTAMPTZ)")
        con.execute("INSERT INTO _publication VALUES (?, 'abc1234', CAST(? AS TIMESTAMPTZ))", [run_id, published_at])
    manifest = {"format": 1, "run_id": run_id, "git_revision": "abc1234", "published_at": published_at,
                "checks_passed": ["fct_feedback_unique_feedback_id"], "marts": marts}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
