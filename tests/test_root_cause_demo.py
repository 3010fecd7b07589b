"""The demo generator's planted root-cause signals and the switch that turns them off."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta

from click.testing import CliRunner

from devtools.demo.api import generate

ROWS, SEED = 2500, 11


def _truth(landing) -> tuple[dict, list[dict]]:
    manifest = json.loads((landing / "_truth" / "manifest.json").read_text(encoding="utf-8"))
    with open(landing / "_truth" / "feedback_truth.csv", encoding="utf-8") as handle:
        return manifest, list(csv.DictReader(handle))


def _in_week(item: dict, week_start: str) -> bool:
    start = date.fromisoformat(week_start)
    return start <= date.fromisoformat(item["created_at"][:10]) < start + timedelta(days=7)


def test_planted_signals_are_in_the_data_and_the_truth_and_the_switch_removes_them(tmp_path):
    generate(tmp_path / "on", rows=ROWS, seed=SEED)
    generate(tmp_path / "off", rows=ROWS, seed=SEED, plant_signals=False)
    manifest, items = _truth(tmp_path / "on")
    manifest_off, items_off = _truth(tmp_path / "off")

    signals = manifest["scenarios"]["root_cause_signals"]
    assert manifest["plant_signals"] is True
    assert {name: s["expected_verdict"] for name, s in signals.items()} == {
        "local_store_problem": "local", "nationwide_problem": "nationwide", "evening_promotion_problem": "local"}
    assert manifest_off["plant_signals"] is False and manifest_off["scenarios"] == {}

    local = signals["local_store_problem"]
    evening = signals["evening_promotion_problem"]

    def local_items(rows):
        return [i for i in rows if _in_week(i, local["week_start"]) and local["tag"] in i["intended_tags"].split("|")]

    def evening_pairs(rows):
        return [i for i in rows if _in_week(i, evening["week_start"]) and int(i["created_at"][11:13]) in evening["hours"]
                and {evening["tag"], evening["co_tag"]} <= set(i["intended_tags"].split("|"))]

    # ~15 planted items at 2,500 rows over a handful of natural ones
    assert len(local_items(items)) >= 10 > 4 >= len(local_items(items_off))
    assert len(evening_pairs(items)) >= 10 > 2 >= len(evening_pairs(items_off))
    # without signals the logistics storyline is gone too: no surge of slow-delivery feedback at the end
    late = [i for i in items_off if i["created_at"][:10] >= signals["nationwide_problem"]["from"]]
    slow = [i for i in late if "物流体验-时效性" in i["intended_tags"].split("|")]
    assert len(slow) < 0.2 * len(late)


def test_cli_no_signals_flag(tmp_path):
    from devtools.cli import main

    result = CliRunner().invoke(main, ["generate", "--landing", str(tmp_path), "--rows", "300", "--seed", "3",
                                       "--no-signals"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "_truth" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["plant_signals"] is False
