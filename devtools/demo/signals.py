"""Planted signals for the key-driver and closed-loop marts, with their ground truth.

Two storylines, both switched off by ``plant_signals=False`` (CLI ``--no-signals``):

* **Key driver.** A share of the NPS surveys complain about cut membership benefits
  (``营销沟通-会员权益``), mostly in negative words, and their NPS answer is lowered by a fixed
  number of points. That tag must come out first for NPS in ``marts.driver_impact``.
* **Closed loop.** A few VIP members, kept out of the random feedback, each send one very
  negative survey (a ``vip_negative`` alert). Then, per case: nothing happens (``open``), a
  ticket is opened and answered but not solved (``in_progress``), the ticket is solved and the
  customer is not heard from again (``resolved``), or the ticket is solved and the customer
  answers a later survey (``followed_up``). ``marts.closed_loop`` must show these states.

The truth goes to ``<landing>/_truth/signals_drivers_loop.json``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

SIGNALS_TRUTH = "signals_drivers_loop.json"
DRIVER_TAG = "营销沟通-会员权益"
DRIVER_SURVEY_SHARE = 0.15  # share of the NPS surveys that get the driver tag
DRIVER_NEGATIVE_SHARE = 0.8  # of those, written in negative words
DRIVER_NPS_PENALTY = 3  # points taken off their NPS answer (not below 0)

LOOP_STATES = ("open", "in_progress", "resolved", "followed_up")
LOOP_CASES_PER_STATE = 2
LOOP_TAG = "售后退换-退款时效"
LOOP_ALERT_DAYS_BEFORE_END = {"open": 20, "in_progress": 4, "resolved": 20, "followed_up": 20}
LOOP_TICKET_AFTER_HOURS = 3
LOOP_FIRST_RESPONSE_HOURS = 1
LOOP_RESOLUTION_HOURS = 20
LOOP_FOLLOWUP_AFTER_DAYS = 5
LOOP_TEAM = "售后一组"
LOOP_TIER_MIN = 2  # 金卡 and 黑金 are VIP tiers (member_tiers seed)


@dataclass
class LoopCase:
    """One VIP customer whose alert is followed (or not) through to the expected state."""

    person: int
    state: str
    alert_at: int  # epoch of the negative survey that raises the alert
    survey_id: str = ""  # response id of that survey, filled by the survey generator
    ticket_id: int | None = None  # filled by the ticket generator
    followup_survey_id: str = ""

    @property
    def ticket_at(self) -> int:
        return self.alert_at + LOOP_TICKET_AFTER_HOURS * 3600

    @property
    def first_response_at(self) -> int:
        return self.ticket_at + LOOP_FIRST_RESPONSE_HOURS * 3600

    @property
    def solved_at(self) -> int | None:
        return self.first_response_at + LOOP_RESOLUTION_HOURS * 3600 if self.state in ("resolved", "followed_up") else None

    @property
    def followup_at(self) -> int | None:
        solved = self.solved_at
        return solved + LOOP_FOLLOWUP_AFTER_DAYS * 86400 if self.state == "followed_up" else None

    @property
    def has_ticket(self) -> bool:
        return self.state != "open"


@dataclass
class Signals:
    """What is planted in one generator run (empty when plant_signals is off)."""

    enabled: bool
    driver_rng: random.Random
    loop_cases: list[LoopCase] = field(default_factory=list)
    driver_planted: int = 0

    def plant_driver(self) -> bool:
        """Whether this NPS survey gets the driver tag (its own random stream)."""
        if not self.enabled or self.driver_rng.random() >= DRIVER_SURVEY_SHARE:
            return False
        self.driver_planted += 1
        return True

    def driver_sentiment(self, drawn: str) -> str:
        return "negative" if self.driver_rng.random() < DRIVER_NEGATIVE_SHARE else drawn

    @staticmethod
    def penalize(nps):
        return None if nps is None else max(0, nps - DRIVER_NPS_PENALTY)

    def truth(self, ids, iso_local) -> dict:
        return {
            "plant_signals": self.enabled,
            "driver": {
                "tag": DRIVER_TAG, "metric": "nps", "survey_share": DRIVER_SURVEY_SHARE,
                "negative_share": DRIVER_NEGATIVE_SHARE, "nps_penalty_points": DRIVER_NPS_PENALTY,
                "surveys_planted": self.driver_planted,
                "expected": "ranked first for NPS in driver_impact (trailing period)",
            } if self.enabled else None,
            "loop_cases": [
                {
                    "person_id": f"P{case.person + 1:07d}", "member_id": ids.member_id(case.person),
                    "expected_state": case.state, "alert_feedback_id": f"survey:{case.survey_id}",
                    "alert_at": iso_local(case.alert_at),
                    "ticket_id": None if case.ticket_id is None else str(case.ticket_id),
                    "followup_feedback_id": f"survey:{case.followup_survey_id}" if case.followup_survey_id else None,
                }
                for case in self.loop_cases
            ],
        }


def plan_signals(population, window, seed: int, enabled: bool) -> Signals:
    """Choose the loop customers (and keep them out of the random feedback) and the driver stream."""
    signals = Signals(enabled, random.Random(f"{seed}:signals:driver"))
    if not enabled:
        return signals
    twins = {person for pair in population.unionid_twins for person in pair}
    candidates = [
        person for person in range(population.n_members - 1, -1, -1)
        if population.tier[person] >= LOOP_TIER_MIN and population.tier_upgraded_at[person] == 0
        and population.registered_at[person] < window.start_epoch and population.household[person] == -1
        and population.old_phone[person] == -1 and population.old_email[person] == -1
        and population.phone[person] != -1 and population.bound_added[person] == -1 and person not in twins
    ]
    wanted = len(LOOP_STATES) * LOOP_CASES_PER_STATE
    chosen = candidates[:wanted]
    if len(chosen) < wanted:
        return signals  # too few members for the storyline (tiny runs)
    population.reserve(chosen)
    end_noon = window.start_epoch + (window.days - 1) * 86400 + 12 * 3600
    for index, person in enumerate(chosen):
        state = LOOP_STATES[index // LOOP_CASES_PER_STATE]
        days_before = LOOP_ALERT_DAYS_BEFORE_END[state] + index % LOOP_CASES_PER_STATE
        alert_at = end_noon - int(timedelta(days=days_before).total_seconds()) + 600 * index
        signals.loop_cases.append(LoopCase(person, state, alert_at))
    return signals
