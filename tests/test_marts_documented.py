"""Every column of every public mart is documented in the dbt YAML (the publication turns the
descriptions into column comments), and the YAML declares exactly the columns a mart has."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest


def _marts_models(manifest_path) -> dict[str, dict]:
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == "voc" and node["fqn"][1] == "marts"
    }


@pytest.mark.dbt
def test_every_column_of_every_mart_has_a_description_and_a_type(dbt_manifest):
    models = _marts_models(dbt_manifest)
    assert {"fct_feedback", "fct_feedback_tag", "kpi_daily", "kpi_weekly", "kpi_scorecard"} <= set(models)
    missing = []
    for name, node in sorted(models.items()):
        if not node["description"].strip():
            missing.append((name, "<model>", "description"))
        if not node["columns"]:
            missing.append((name, "<model>", "no columns declared"))
        for column in node["columns"].values():
            if not (column.get("description") or "").strip():
                missing.append((name, column["name"], "description"))
            if not column.get("data_type"):
                missing.append((name, column["name"], "data_type"))
        if not node["config"]["contract"]["enforced"]:
            missing.append((name, "<model>", "contract not enforced"))
    assert missing == []


@pytest.mark.e2e
def test_the_yaml_declares_exactly_the_columns_each_built_mart_has(dbt_manifest, demo_warehouse):
    models = _marts_models(dbt_manifest)
    with duckdb.connect(str(demo_warehouse.warehouse_path), read_only=True) as conn:
        rows = conn.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
        ).fetchall()
    built: dict[str, set[str]] = {}
    for table, column in rows:
        built.setdefault(table, set()).add(column)
    # every table in the marts schema is a documented model, and every model was built
    assert set(built) == {node["alias"] for node in models.values()}
    differences = {
        name: {"undeclared": sorted(built[node["alias"]] - set(node["columns"])),
               "not built": sorted(set(node["columns"]) - built[node["alias"]])}
        for name, node in models.items()
        if built[node["alias"]] != set(node["columns"])
    }
    assert differences == {}
