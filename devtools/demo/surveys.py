"""Survey responses (NPS / CSAT / CES with a comment) as JSONL and as a flat CSV export."""

from __future__ import annotations

import random
from bisect import bisect_right
from itertools import accumulate

from devtools.demo.base import FeedbackSource
from devtools.demo.context import BadPlanner
from devtools.demo.noise import Decorator, iso_local, local_date_str, messy_email, messy_phone
from devtools.demo.phrases import GENERIC_NEGATIVE
from devtools.demo.signals import DRIVER_TAG, LOOP_TAG, Signals
from devtools.demo.text import compose
from devtools.demo.truth import record_keys
from devtools.demo.writers import LandingFiles

# survey_id, survey_name, questions asked, tag sampler, share
SURVEY_TYPES = (
    ("nps_post_purchase", "购后NPS调研", ("nps", "csat"), "survey_purchase", 0.35),
    ("csat_service", "客服满意度回访", ("csat", "ces"), "survey_service", 0.20),
    ("store_visit", "门店体验调研", ("nps", "csat"), "survey_store", 0.20),
    ("app_feedback", "APP体验反馈", ("ces", "csat"), "survey_app", 0.10),
    ("delivery_followup", "配送满意度回访", ("csat",), "survey_delivery", 0.15),
)
SURVEY_CUM = tuple(accumulate(t[4] for t in SURVEY_TYPES))
DEFAULT_CHANNELS = (("wechat_miniprogram", 0.35), ("sms", 0.20), ("email", 0.15), ("app", 0.15), ("web", 0.15))
STORE_CHANNELS = (("store_kiosk", 0.6), ("wechat_miniprogram", 0.25), ("sms", 0.15))
CSV_CHANNELS = ("store_kiosk", "sms")  # the kiosk/SMS tool exports CSV
CSV_COLUMNS = ("response_id", "survey_id", "survey_name", "submitted_at", "updated_at", "channel", "member_id",
               "phone", "unionid", "email", "nps", "csat", "ces", "comment", "store_id", "product_sku", "order_id")
# Probability that a respondent field is filled (when the person has it), per channel.
FIELD_SHARE = {
    "wechat_miniprogram": {"member_id": 0.6, "phone": 0.3, "email": 0.0, "unionid": 0.9},
    "sms": {"member_id": 0.2, "phone": 1.0, "email": 0.0, "unionid": 0.0},
    "email": {"member_id": 0.3, "phone": 0.1, "email": 1.0, "unionid": 0.0},
    "app": {"member_id": 0.9, "phone": 0.4, "email": 0.1, "unionid": 0.1},
    "web": {"member_id": 0.2, "phone": 0.5, "email": 0.5, "unionid": 0.0},
    "store_kiosk": {"member_id": 0.3, "phone": 0.5, "email": 0.0, "unionid": 0.0},
}
SCORES = {
    ("nps", "positive"): (10, 10, 10, 9, 9, 9, 9, 8, 8, 7),
    ("nps", "negative"): (0, 1, 2, 3, 3, 4, 5, 5, 6, 6, 6, 7),
    ("nps", "neutral"): (5, 6, 7, 7, 8, 8, 8, 9, 9, 10),
    ("csat", "positive"): (5, 5, 5, 4, 4, 4, 3),
    ("csat", "negative"): (1, 1, 1, 2, 2, 2, 3, 3),
    ("csat", "neutral"): (3, 3, 4, 4, 4, 5, 2),
    # CES 1..7 where 7 = very easy (agreement with "it was easy to get my issue handled")
    ("ces", "positive"): (7, 7, 6, 6, 6, 5),
    ("ces", "negative"): (1, 1, 2, 2, 3, 3, 4),
    ("ces", "neutral"): (4, 4, 5, 5, 3, 6),
}
DEVICES = ("iPhone 15", "HUAWEI Mate 60", "Xiaomi 14", "OPPO Reno11", "vivo X100", "iPad")
BLANK_TEXTS = ("", " ", "\n", "   ", "\t")


def pick_channel(rng, table) -> str:
    roll = rng.random()
    for channel, share in table:
        roll -= share
        if roll < 0:
            return channel
    return table[-1][0]


class SurveyGenerator(FeedbackSource):
    folder, truth_source, code, id_field = "surveys", "survey", "S", "response_id"
    JSON_BAD = (("invalid_json", ""), ("missing_id", ""), ("bad_timestamp", "submitted_at"),
                ("out_of_range", "answers.nps"), ("wrong_type", "answers.nps"), ("not_an_object", ""),
                ("out_of_range", "answers.csat"), ("out_of_range", "answers.ces"))
    CSV_BAD = (("missing_id", ""), ("bad_timestamp", "submitted_at"), ("out_of_range", "nps"), ("wrong_type", "nps"),
               ("out_of_range", "ces"))

    def __init__(self, ctx, n_items: int):
        super().__init__(ctx, n_items)
        self.next_id = 1
        self.order_seq = 0
        self.decorate = Decorator(emoji=0.12, html=0.03, linebreak=0.05, punct=0.1, pii=0.03, fullwidth=0.03, spaces=0.05)
        self.forced = self._forced_cases()
        self.nps_counts = [0, 0, 0]  # promoters, passives, detractors of final versions

    def _forced_cases(self) -> list[tuple[int, str]]:
        """Identity edge cases that must exist even in tiny runs: (person, channel)."""
        pop = self.ctx.population
        cases = []
        if pop.changed_phones:
            cases.append((pop.changed_phones[0], "sms"))  # old phone before the change
        if pop.households:
            cases.append((pop.households[0][1], "sms"))  # only the shared phone: stays anonymous
        for base, twin in pop.unionid_twins[:1]:
            cases += [(base, "wechat_miniprogram"), (twin, "wechat_miniprogram")]
        if self.ctx.linked_nonmember is not None:
            cases.append((self.ctx.linked_nonmember, "sms"))
        return cases

    def run(self) -> None:
        ctx = self.ctx
        max_records = 25_000
        self.json_files = LandingFiles(ctx.landing, "surveys", max_records=max_records, gzip_every=3)
        self.csv_files = LandingFiles(ctx.landing, "surveys", fmt="csv", name="surveys_export",
                                      csv_columns=CSV_COLUMNS, max_records=max_records)
        self.bad_json = BadPlanner(self.JSON_BAD, int(self.n_items * 0.75))
        self.bad_csv = BadPlanner(self.CSV_BAD, int(self.n_items * 0.3))
        epoch = ctx.window.start_epoch
        for index, epoch in enumerate(ctx.window.timeline(self.rng, self.n_items)):
            self._item(index, epoch)
        self._plant_loop_surveys()
        for kind in self.bad_json.missing():
            self.write_bad(self.json_files, epoch, kind)
        for kind in self.bad_csv.missing():
            self.write_bad(self.csv_files, epoch, kind, csv_mode=True)
        self.stats.files = sorted(self.json_files.close() + self.csv_files.close())

    def _new_id(self) -> str:
        rid = f"R-{self.next_id:07d}"
        self.next_id += 1
        return rid

    def _item(self, index: int, epoch: int) -> None:
        rng, ctx, pop = self.rng, self.ctx, self.ctx.population
        survey_id, survey_name, questions, sampler_name, _ = SURVEY_TYPES[
            bisect_right(SURVEY_CUM, rng.random() * SURVEY_CUM[-1])]
        channel = pick_channel(rng, STORE_CHANNELS if survey_id == "store_visit" else DEFAULT_CHANNELS)
        forced = index < len(self.forced)
        if forced:
            person, channel = self.forced[index]
        else:
            person = self.choose_person(0.5, 0.3)
        phone_serial = pop.phone_at(person, epoch) if person is not None else -1
        email_serial = pop.email_at(person, epoch) if person is not None else -1
        if person is not None and channel == "sms" and phone_serial == -1:
            channel = "web"
        if person is not None and channel == "email" and email_serial == -1:
            channel = "web"
        respondent = {"member_id": None, "phone": None, "unionid": None, "email": None}
        clean_phone = ctx.ids.phone(phone_serial) if phone_serial != -1 else None
        if person is not None:
            share = FIELD_SHARE[channel]
            if forced:
                share = {"member_id": 0, "phone": 1, "email": 0, "unionid": 1}
            if pop.is_member_at(person, epoch) and rng.random() < share["member_id"]:
                respondent["member_id"] = ctx.ids.member_id(person)
            if clean_phone and rng.random() < share["phone"]:
                respondent["phone"] = messy_phone(rng, clean_phone)
            if email_serial != -1 and rng.random() < share["email"]:
                respondent["email"] = messy_email(rng, ctx.ids.email(email_serial))
            if pop.unionid[person] != -1 and rng.random() < share["unionid"]:
                respondent["unionid"] = ctx.ids.unionid(pop.unionid[person], bool(pop.unionid_twin[person]))
            if not any(respondent.values()) and rng.random() < 0.7:
                # most identified respondents leave at least one identifier the tool knows
                self._fill_one_identifier(respondent, person, epoch, clean_phone, email_serial)
        person_id = self.person_id(person)

        store_id = None
        if survey_id == "store_visit" or channel == "store_kiosk":
            if person is not None and person < pop.n_members and rng.random() < 0.6:
                store_id = ctx.stores[pop.home_store[person]]["store_id"]
            else:
                store_id = rng.choice(ctx.stores)["store_id"]
        elif rng.random() < 0.25:
            store_id = rng.choice(ctx.stores)["store_id"]
        store_id = ctx.scenario.relocate(sampler_name, epoch, store_id)
        purchase = survey_id in ("nps_post_purchase", "delivery_followup")
        product_sku = rng.choice(ctx.products)["product_sku"] if rng.random() < (0.8 if purchase else 0.15) else None
        order_id = None
        if purchase and rng.random() < 0.85:
            self.order_seq += 1
            order_id = f"O{local_date_str(epoch).replace('-', '')}{self.order_seq:05d}"

        roll = rng.random()
        sentiment, primary = ("positive" if roll < 0.45 else "negative" if roll < 0.75 else "neutral"), None
        coverage = index - len(self.forced)  # 0..32: walk through every tag once
        if 0 <= coverage < 33:
            sentiment, primary = self.forced_primary(coverage, sentiment, primary, True)
        else:
            sentiment, primary, product_sku = ctx.scenario.adjust(
                rng, sampler_name, epoch, ctx.store_region.get(store_id), product_sku, sentiment, primary,
                store_id=store_id)
        driver = "nps" in questions and not 0 <= coverage < 33 and ctx.signals.plant_driver()
        if driver:  # planted key driver (signals.py): cut member benefits cost NPS points
            sentiment, primary = ctx.signals.driver_sentiment(sentiment), DRIVER_TAG
        sampler = ctx.samplers[sampler_name]
        comment, composed = self._comment(sampler, sentiment, primary, clean_phone,
                                          respondent["email"], force_text=coverage < 33)
        answers = {q: (self._score(q, sentiment) if q in questions else None) for q in ("nps", "csat", "ces")}
        if driver:
            answers["nps"] = Signals.penalize(answers["nps"])
        answers["comment"] = comment

        rid = self._new_id()
        updated = epoch + rng.randrange(0, 180)
        record = {"response_id": rid, "survey_id": survey_id, "survey_name": survey_name,
                  "submitted_at": self.ts(rng, epoch), "updated_at": self.ts(rng, updated), "channel": channel,
                  "respondent": _drop_some_nulls(rng, respondent), "answers": _drop_some_nulls(rng, answers, 0.1),
                  "store_id": store_id, "product_sku": product_sku, "order_id": order_id}
        if epoch >= ctx.drift_at and rng.random() < 0.5:
            record["device"] = rng.choice(DEVICES)
            record["ip_region"] = rng.choice(ctx.stores)["city"]
            if rng.random() < 0.3:
                record["respondent"]["openid"] = "oA" + ctx.ids.unionid(rng.randrange(10**7) + 10**8)[2:]
        as_csv = channel in CSV_CHANNELS
        files = self.csv_files if as_csv else self.json_files
        planner = self.bad_csv if as_csv else self.bad_json
        kind = planner.next(rng)
        if kind:
            self.write_bad(files, epoch, kind, csv_mode=as_csv)

        versions = [(updated, record)]
        if rng.random() < 0.06:
            edited_at = updated + rng.randrange(3600, 10 * 86400)
            if ctx.window.clamp_ok(edited_at):
                edited = dict(record, answers=dict(record["answers"]), updated_at=self.ts(rng, edited_at))
                for q in questions:
                    edited["answers"][q] = self._score(q, sentiment)
                if driver:
                    edited["answers"]["nps"] = Signals.penalize(edited["answers"]["nps"])
                if comment is not None and comment.strip():
                    edited["answers"]["comment"], composed = self._comment(
                        sampler, sentiment, primary, clean_phone, respondent["email"], force_text=True)
                versions.append((edited_at, edited))
        elif rng.random() < 0.07:
            # single-version records sometimes lack updated_at: the version time falls back to submitted_at
            if rng.random() < 0.6:
                del record["updated_at"]
            else:
                record["updated_at"] = None
        for number, (version_time, version) in enumerate(versions):
            payload = _flatten(version) if as_csv else version
            self.write(files, version_time, payload, new=number == 0)
            if number == 0 and rng.random() < 0.015:
                self.write(files, version_time, payload, new=False)  # exporter sent the line twice
        final_time, final = versions[-1]
        final_payload = _flatten(final) if as_csv else final
        self._record_truth(rid, person_id, final_payload, final["answers"], composed, channel, epoch)

    def _plant_loop_surveys(self) -> None:
        """The closed-loop storyline (signals.py): each case's very negative survey that raises a
        vip_negative alert and, for followed_up cases, the survey after the ticket was solved."""
        ctx = self.ctx
        for case in ctx.signals.loop_cases:
            rng = random.Random(f"{ctx.seed}:signals:loop-survey:{case.person}")
            case.survey_id = self._loop_survey(rng, case.person, case.alert_at, "negative")
            if case.followup_at is not None:
                case.followup_survey_id = self._loop_survey(rng, case.person, case.followup_at, "positive")

    def _loop_survey(self, rng: random.Random, person: int, epoch: int, sentiment: str) -> str:
        ctx = self.ctx
        composed = compose(rng, ctx.samplers["survey_service"], sentiment, LOOP_TAG)
        text = composed.text + ("，" + rng.choice(GENERIC_NEGATIVE) if sentiment == "negative" else "")
        answers = {"nps": 1 if sentiment == "negative" else 9, "csat": 1 if sentiment == "negative" else 5,
                   "ces": None, "comment": text}
        rid = self._new_id()
        respondent = {"member_id": ctx.ids.member_id(person), "phone": ctx.ids.phone(ctx.population.phone[person]),
                      "unionid": None, "email": None}
        record = {"response_id": rid, "survey_id": "nps_post_purchase", "survey_name": "购后NPS调研",
                  "submitted_at": self.ts(rng, epoch), "updated_at": self.ts(rng, epoch + 60), "channel": "app",
                  "respondent": respondent, "answers": answers, "store_id": None, "product_sku": None,
                  "order_id": None}
        self.write(self.json_files, epoch + 60, record, new=True)
        self._record_truth(rid, self.person_id(person), record, answers, composed, "app", epoch)
        return rid

    def _fill_one_identifier(self, respondent: dict, person: int, epoch: int, phone: str | None,
                             email_serial: int) -> None:
        rng, ctx, pop = self.rng, self.ctx, self.ctx.population
        options = []
        if pop.is_member_at(person, epoch):
            options.append(("member_id", ctx.ids.member_id(person)))
        if phone:
            options.append(("phone", messy_phone(rng, phone)))
        if email_serial != -1:
            options.append(("email", messy_email(rng, ctx.ids.email(email_serial))))
        if pop.unionid[person] != -1:
            options.append(("unionid", ctx.ids.unionid(pop.unionid[person], bool(pop.unionid_twin[person]))))
        if options:
            name, value = rng.choice(options)
            respondent[name] = value

    def _comment(self, sampler, sentiment, primary, phone, email, force_text: bool):
        """(comment text or None, Composed or None)."""
        rng = self.rng
        roll = 1.0 if force_text else rng.random()
        if roll < 0.17:
            return None, None
        if roll < 0.19:
            return rng.choice(BLANK_TEXTS), None
        composed = compose(rng, sampler, sentiment, primary)
        return self.decorate(rng, composed.text, phone, email, composed.sentiment), composed

    def _score(self, question: str, sentiment: str):
        if self.rng.random() < 0.05:
            return None
        return self.rng.choice(SCORES[(question, sentiment)])

    def _record_truth(self, rid, person_id, payload, answers, composed, channel, epoch) -> None:
        comment = answers.get("comment")
        has_text = composed is not None and comment is not None and comment.strip() != ""
        nps = answers.get("nps")
        if nps is not None:
            self.nps_counts[0 if nps >= 9 else 1 if nps >= 7 else 2] += 1
        self.ctx.truth.add_item(
            feedback_id=f"survey:{rid}", source="survey", person_id=person_id, keys=record_keys("surveys", payload),
            tags=composed.tags if has_text else [], signs=composed.signs if has_text else [],
            sentiment=composed.sentiment if has_text else "neutral", channel=channel, created_at=iso_local(epoch),
            nps=nps, csat=answers.get("csat"), ces=answers.get("ces"))
        self.stats.feedback_items += 1

    def bad_template(self, epoch: int, csv_mode: bool = False) -> dict:
        rng = self.rng
        record = {"response_id": self._new_id(), "survey_id": "nps_post_purchase", "survey_name": "购后NPS调研",
                  "submitted_at": self.ts(rng, epoch), "updated_at": self.ts(rng, epoch),
                  "channel": "sms" if csv_mode else "wechat_miniprogram",
                  "respondent": {"member_id": None, "phone": messy_phone(rng, self.ctx.ids.phone(60_000_000 + self.next_id)),
                                 "unionid": None, "email": None},
                  "answers": {"nps": rng.randint(0, 10), "csat": rng.randint(1, 5), "ces": rng.randint(1, 7),
                              "comment": rng.choice(("还行", "不错", "一般", "物流太慢"))},
                  "store_id": None, "product_sku": None, "order_id": None}
        return _flatten(record) if csv_mode else record


def _drop_some_nulls(rng, fields: dict, share: float = 0.15) -> dict:
    """Vendors omit some null fields instead of sending null."""
    return {k: v for k, v in fields.items() if v is not None or rng.random() >= share}


def _flatten(record: dict) -> dict:
    """The CSV export's flat columns of a nested survey record."""
    respondent = record.get("respondent") or {}
    answers = record.get("answers") or {}
    flat = {k: record.get(k) for k in ("response_id", "survey_id", "survey_name", "submitted_at", "updated_at",
                                        "channel", "store_id", "product_sku", "order_id")}
    flat.update({k: respondent.get(k) for k in ("member_id", "phone", "unionid", "email")})
    flat.update({k: answers.get(k) for k in ("nps", "csat", "ces", "comment")})
    return flat
