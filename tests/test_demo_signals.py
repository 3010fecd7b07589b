"""The demo generator's planted key driver and closed-loop cases (devtools/demo/signals.py), read
back from the landing files and the truth, with the switch plant_signals on and off."""

from __future__ import annotations

import csv
import json

import pytest

from devtools.demo.api import generate
from devtools.demo.signals import DRIVER_TAG, LOOP_STATES, SIGNALS_TRUTH

ROWS = 2500


def _read(landing):
    truth_dir = landing / "_truth"
    signals = json.loads((truth_dir / SIGNALS_TRUTH).read_text(encoding="utf-8"))
    with open(truth_dir / "feedback_truth.csv", encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    return signals, truth


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    landing = tmp_path_factory.mktemp("signals_on")
    generate(landing, rows=ROWS, seed=11)
    return _read(landing)


@pytest.fixture(scope="module")
def unplanted(tmp_path_factory):
    landing = tmp_path_factory.mktemp("signals_off")
    generate(landing, rows=ROWS, seed=11, plant_signals=False)
    return _read(landing)


def _driver_share(truth) -> float:
    nps = [row for row in truth if row["source"] == "survey" and row["nps"]]
    return sum(DRIVER_TAG in row["intended_tags"].split("|") for row in nps) / len(nps)


def test_loop_customers_say_only_what_the_storyline_makes_them_say(planted):
    signals, truth = planted
    cases = signals["loop_cases"]
    assert sorted(case["expected_state"] for case in cases) == sorted(LOOP_STATES * 2)
    by_person = {}
    for row in truth:
        by_person.setdefault(row["person_id"], []).append(row["feedback_id"])
    for case in cases:
        expected = {case["alert_feedback_id"]}
        if case["ticket_id"]:
            expected.add(f"ticket:{case['ticket_id']}")
        if case["followup_feedback_id"]:
            expected.add(case["followup_feedback_id"])
        assert set(by_person[case["person_id"]]) == expected, case
        assert (case["ticket_id"] is None) == (case["expected_state"] == "open")
        assert (case["followup_feedback_id"] is not None) == (case["expected_state"] == "followed_up")


def test_loop_alert_surveys_are_very_negative_and_follow_ups_positive(planted):
    signals, truth = planted
    rows = {row["feedback_id"]: row for row in truth}
    for case in signals["loop_cases"]:
        alert = rows[case["alert_feedback_id"]]
        assert alert["intended_sentiment"] == "negative" and alert["nps"] == "1"
        if case["followup_feedback_id"]:
            follow_up = rows[case["followup_feedback_id"]]
            assert follow_up["intended_sentiment"] == "positive" and follow_up["nps"] == "9"
            assert follow_up["created_at"] > alert["created_at"]


def test_the_driver_tag_is_planted_only_when_asked(planted, unplanted):
    signals_on, truth_on = planted
    signals_off, truth_off = unplanted
    assert signals_on["driver"]["tag"] == DRIVER_TAG and signals_on["driver"]["surveys_planted"] > 30
    assert signals_off["driver"] is None and signals_off["loop_cases"] == []
    assert _driver_share(truth_on) > 0.12 > 0.05 > _driver_share(truth_off)


def test_planted_driver_surveys_score_lower(planted):
    _, truth = planted
    nps = [row for row in truth if row["source"] == "survey" and row["nps"]]
    tagged = [int(row["nps"]) for row in nps if DRIVER_TAG in row["intended_tags"].split("|")]
    others = [int(row["nps"]) for row in nps if DRIVER_TAG not in row["intended_tags"].split("|")]
    detractor_share = sum(score <= 6 for score in tagged) / len(tagged)
    # nearly all planted ones are detractors; surveys that mention the tag on their own (and the
    # root-cause storylines, which lower other surveys' scores) dilute the difference
    assert detractor_share > 0.7 and sum(tagged) / len(tagged) < sum(others) / len(others) - 2
