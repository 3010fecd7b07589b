"""Helpdesk tickets: one record holds the whole conversation and is re-exported as it progresses."""

from __future__ import annotations

import math
import random

from devtools.demo.base import FeedbackSource
from devtools.demo.context import BadPlanner
from devtools.demo.identity import GIVEN_NAMES, SURNAMES
from devtools.demo.noise import Decorator, TsStyler, iso_local, messy_email, messy_phone
from devtools.demo.phrases import AGENT_CLOSINGS, AGENT_REPLIES, GENERIC_SUBJECTS, TICKET_FOLLOWUPS
from devtools.demo.signals import LOOP_TAG, LOOP_TEAM
from devtools.demo.surveys import pick_channel
from devtools.demo.text import POLARITY_KEY, POLARITY_SIGN, Composed, compose, long_text, phrase
from devtools.demo.truth import record_keys
from devtools.demo.writers import LandingFiles

CHANNELS = (("phone", 0.30), ("online_chat", 0.35), ("email", 0.15), ("wechat", 0.20))
PRIORITIES = (("low", 0.10), ("normal", 0.55), ("high", 0.25), ("urgent", 0.10))
FIRST_RESPONSE_MEDIAN_HOURS = {"urgent": 0.4, "high": 2.0, "normal": 8.0, "low": 14.0}
RESOLUTION_MEDIAN_HOURS = {"urgent": 10.0, "high": 24.0, "normal": 40.0, "low": 50.0}
CATEGORY_BY_L1 = {"物流体验": "物流", "产品质量": "产品质量", "价格促销": "价格咨询", "客户服务": "服务投诉",
                  "售后退换": "退换货", "数字体验": "账户与支付", "门店体验": "门店", "营销沟通": "会员与营销",
                  "风险合规": "投诉升级"}
TEAM_BY_L1 = {"物流体验": "物流专线", "产品质量": "售后二组", "价格促销": "电商运营", "客户服务": "客服质检组",
              "售后退换": "售后一组", "数字体验": "技术支持", "门店体验": "门店运营", "营销沟通": "会员中心",
              "风险合规": "风控组"}
FIELD_SHARE = {
    "phone": {"member_id": 0.3, "phone": 0.9, "email": 0.05},
    "online_chat": {"member_id": 0.5, "phone": 0.4, "email": 0.1},
    "email": {"member_id": 0.2, "phone": 0.2, "email": 1.0},
    "wechat": {"member_id": 0.6, "phone": 0.2, "email": 0.0},
}
PHONE_PLACEHOLDERS = (None, None, "未提供", "无", "-")
SLA_POLICIES = ("标准SLA", "VIP专线", "大促保障")


class TicketGenerator(FeedbackSource):
    folder, truth_source, code, id_field = "tickets", "ticket", "T", "ticket_id"
    BAD = (("invalid_json", ""), ("missing_id", ""), ("bad_timestamp", "created_at"), ("wrong_type", "messages"),
           ("not_an_object", ""))

    def __init__(self, ctx, n_items: int):
        super().__init__(ctx, n_items)
        self.next_id = 100_001
        self.ts = TsStyler((0.3, 0.2, 0.2, 0.3))
        self.decorate = Decorator(emoji=0.05, html=0.02, linebreak=0.1, punct=0.15, pii=0.15, fullwidth=0.03, spaces=0.03)
        self.decorate_email = Decorator(emoji=0.02, html=0.35, linebreak=0.2, punct=0.1, pii=0.2, fullwidth=0.02, spaces=0.05)
        pop = ctx.population
        # (person, channel, lifecycle) cases that must exist even in tiny runs
        self.forced = []
        if ctx.linked_nonmember is not None:
            self.forced.append((ctx.linked_nonmember, "email", "normal"))
        self.forced.append((pop.households[0][0] if pop.households else 0, "wechat", "no_reply"))
        self.forced.append((None, "phone", "reopen"))
        self.long_text_index = min(40, max(n_items - 1, 0))

    def run(self) -> None:
        ctx = self.ctx
        self.files = LandingFiles(ctx.landing, "tickets", max_records=20_000, gzip_every=3)
        self.bad = BadPlanner(self.BAD, self.n_items, rate=0.022)  # ~3 export lines per ticket
        epoch = ctx.window.start_epoch
        for index, epoch in enumerate(ctx.window.timeline(self.rng, self.n_items)):
            self._item(index, epoch)
        for case in ctx.signals.loop_cases:
            if case.has_ticket:
                self._loop_ticket(case)
        for kind in self.bad.missing():
            self.write_bad(self.files, epoch, kind)
        self.stats.files = sorted(self.files.close())

    def _item(self, index: int, epoch: int) -> None:
        rng, ctx, pop = self.rng, self.ctx, self.ctx.population
        channel = pick_channel(rng, CHANNELS)
        priority = pick_channel(rng, PRIORITIES)
        lifecycle = None
        if index < len(self.forced):
            person, channel, lifecycle = self.forced[index]
        else:
            person = self.choose_person(0.55, 0.40)
        email_serial = pop.email_at(person, epoch) if person is not None else -1
        phone_serial = pop.phone_at(person, epoch) if person is not None else -1
        if channel == "email" and email_serial == -1:
            channel = "online_chat"
        clean_phone = ctx.ids.phone(phone_serial) if phone_serial != -1 else None
        requester = {"name": None, "phone": None, "email": None, "member_id": None}
        if person is None:
            requester["name"] = rng.choice(("匿名客户", "客户", rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)))
            requester["phone"] = rng.choice(PHONE_PLACEHOLDERS)
        else:
            requester["name"] = ctx.ids.person_name(pop.name[person])
            share = FIELD_SHARE[channel]
            if lifecycle == "normal":  # the linked non-member writes with both phone and email
                share = {"member_id": 0, "phone": 1, "email": 1}
            if pop.is_member_at(person, epoch) and (rng.random() < share["member_id"] or lifecycle == "no_reply"):
                requester["member_id"] = ctx.ids.member_id(person)
            if clean_phone and rng.random() < share["phone"]:
                requester["phone"] = messy_phone(rng, clean_phone)
            if email_serial != -1 and rng.random() < share["email"]:
                requester["email"] = messy_email(rng, ctx.ids.email(email_serial))
            if not (requester["phone"] or requester["email"] or requester["member_id"]) and rng.random() < 0.75:
                # the helpdesk usually captures at least the caller's number or the member account
                if clean_phone:
                    requester["phone"] = messy_phone(rng, clean_phone)
                elif pop.is_member_at(person, epoch):
                    requester["member_id"] = ctx.ids.member_id(person)
                elif email_serial != -1:
                    requester["email"] = messy_email(rng, ctx.ids.email(email_serial))
        person_id = self.person_id(person)

        store_id = None
        if rng.random() < 0.35:
            if person is not None and person < pop.n_members and rng.random() < 0.6:
                store_id = ctx.stores[pop.home_store[person]]["store_id"]
            else:
                store_id = rng.choice(ctx.stores)["store_id"]
        store_id = ctx.scenario.relocate("ticket", epoch, store_id)
        product_sku = rng.choice(ctx.products)["product_sku"] if rng.random() < 0.6 else None
        roll = rng.random()
        sentiment, primary = ("negative" if roll < 0.7 else "neutral" if roll < 0.9 else "positive"), None
        coverage = index - len(self.forced)
        if 0 <= coverage < 33:
            sentiment, primary = self.forced_primary(coverage, sentiment, primary, False)
        else:
            sentiment, primary, product_sku = ctx.scenario.adjust(
                rng, "ticket", epoch, ctx.store_region.get(store_id), product_sku, sentiment, primary,
                store_id=store_id)
        sampler = ctx.samplers["ticket"]
        decorate = self.decorate_email if channel == "email" else self.decorate
        if index == self.long_text_index:
            composed = long_text(rng, sampler, sentiment)
            body = composed.text
        else:
            composed = compose(rng, sampler, sentiment, primary)
            body = decorate(rng, composed.text, clean_phone, requester["email"], composed.sentiment)
        if channel == "phone":
            body = "【来电转写】" + body
        subject = self._subject(composed)
        main_tag = next((t for t, s in zip(composed.tags, composed.signs) if s == POLARITY_SIGN[POLARITY_KEY[sentiment]]),
                        composed.tags[0] if composed.tags else None)
        l1 = main_tag.split("-")[0] if main_tag else None
        base = {
            "ticket_id": self.next_id, "created_at": self.ts(rng, epoch), "updated_at": None, "channel": channel,
            "status": "new", "priority": priority, "category": CATEGORY_BY_L1.get(l1, "咨询"),
            "requester": {k: v for k, v in requester.items() if v is not None or rng.random() >= 0.15},
            "assignee_team": None, "assignee": None, "store_id": store_id, "product_sku": product_sku,
            "subject": subject, "messages": [], "first_response_at": None, "solved_at": None,
            "satisfaction_rating": None,
        }
        self.next_id += 1
        if epoch >= ctx.drift_at and rng.random() < 0.5:
            base["sla_policy"] = rng.choice(SLA_POLICIES)
            base["custom_fields"] = {"order_channel": rng.choice(("tmall", "jd", "store", "app")), "vip": rng.random() < 0.2}
        team = TEAM_BY_L1.get(l1, "客服一组")
        events = self._lifecycle(epoch, body, priority, team, sentiment, lifecycle)
        kind = self.bad.next(rng)
        if kind:
            self.write_bad(self.files, epoch, kind)
        self._export(base, events, export_all=lifecycle is not None)
        final_state = events[-1][1]
        reopened = final_state["reopen_composed"]
        if reopened is not None:
            composed = Composed(composed.text, "negative", list(composed.tags), list(composed.signs))
            composed.add(reopened)
        self.ctx.truth.add_item(
            feedback_id=f"ticket:{base['ticket_id']}", source="ticket", person_id=person_id,
            keys=record_keys("tickets", base), tags=composed.tags, signs=composed.signs, sentiment=composed.sentiment,
            channel=channel, created_at=iso_local(epoch))
        self.stats.feedback_items += 1

    def _loop_ticket(self, case) -> None:
        """The closed-loop storyline (signals.py): the VIP's ticket after the alert, answered within
        its SLA, then solved (resolved, followed_up cases) or still open (in_progress cases)."""
        ctx, pop = self.ctx, self.ctx.population
        rng = random.Random(f"{ctx.seed}:signals:loop-ticket:{case.person}")
        person = case.person
        composed = compose(rng, ctx.samplers["ticket"], "negative", LOOP_TAG)
        requester = {"name": ctx.ids.person_name(pop.name[person]), "phone": ctx.ids.phone(pop.phone[person]),
                     "email": None, "member_id": ctx.ids.member_id(person)}
        case.ticket_id = ticket_id = self.next_id
        self.next_id += 1
        base = {
            "ticket_id": ticket_id, "created_at": self.ts(rng, case.ticket_at), "updated_at": None,
            "channel": "online_chat", "status": "new", "priority": "high", "category": CATEGORY_BY_L1["售后退换"],
            "requester": requester, "assignee_team": None, "assignee": None, "store_id": None, "product_sku": None,
            "subject": phrase(rng, LOOP_TAG, "neg"), "messages": [], "first_response_at": None, "solved_at": None,
            "satisfaction_rating": None,
        }

        def message(at: int, role: str, body: str) -> dict:
            return {"at": self.ts(rng, at), "author_role": role, "body": body}

        state = {"status": "new", "messages": [message(case.ticket_at, "customer", composed.text)],
                 "first_response_at": None, "solved_at": None, "satisfaction_rating": None, "assignee_team": None,
                 "assignee": None, "reopen_composed": None}
        events = [(case.ticket_at, dict(state))]
        answered = case.first_response_at
        state = dict(state, status="open", first_response_at=self.ts(rng, answered), assignee_team=LOOP_TEAM,
                     assignee="agent_007", messages=state["messages"] + [
                         message(answered - 30, "system", f"工单已分配给 {LOOP_TEAM}"),
                         message(answered, "agent", rng.choice(AGENT_REPLIES))])
        events.append((answered, state))
        solved = case.solved_at
        if solved is not None:
            state = dict(state, status="solved", solved_at=self.ts(rng, solved), messages=state["messages"] + [
                message(solved - 60, "agent", rng.choice(AGENT_CLOSINGS)),
                message(solved, "system", "工单状态变更为 solved")])
            events.append((solved, state))
        self._export(base, events, export_all=True)
        ctx.truth.add_item(
            feedback_id=f"ticket:{ticket_id}", source="ticket", person_id=self.person_id(person),
            keys=record_keys("tickets", base), tags=composed.tags, signs=composed.signs, sentiment=composed.sentiment,
            channel="online_chat", created_at=iso_local(case.ticket_at))
        self.stats.feedback_items += 1

    def _subject(self, composed: Composed) -> str:
        """A short subject: a phrase of the ticket's dominant tag, or a generic subject with no tag."""
        rng = self.rng
        dominant = POLARITY_SIGN[POLARITY_KEY[composed.sentiment]]
        tags = [t for t, s in zip(composed.tags, composed.signs) if s == dominant]
        if tags and rng.random() < 0.55:
            text = phrase(rng, tags[0], POLARITY_KEY[composed.sentiment])
            if composed.sentiment == "negative":
                text = rng.choice(("", "", "投诉：", "【紧急】", "反映：")) + text
            return text
        return rng.choice(GENERIC_SUBJECTS)

    def _lifecycle(self, t0: int, body: str, priority: str, team: str, sentiment: str, forced: str | None):
        """[(time, state)] snapshots of the ticket up to the end of the window."""
        rng, end = self.rng, self.ctx.window.end_epoch
        state = {"status": "new", "messages": [self._message(t0, "customer", body)], "first_response_at": None,
                 "solved_at": None, "satisfaction_rating": None, "assignee_team": None, "assignee": None,
                 "reopen_composed": None}
        events = [(t0, dict(state, messages=list(state["messages"])))]

        def step(at: int, **changes) -> bool:
            if at > end:
                return False
            new_messages = changes.pop("add", [])
            state.update(changes)
            state["messages"] = state["messages"] + new_messages
            events.append((at, dict(state)))
            return True

        no_reply = forced == "no_reply" or (forced is None and rng.random() < 0.07)
        if no_reply:
            chase = t0 + rng.randrange(3600, 3 * 86400)
            step(chase, add=[self._message(chase, "customer", rng.choice(TICKET_FOLLOWUPS))])
            return events
        t1 = t0 + self._duration(FIRST_RESPONSE_MEDIAN_HOURS[priority])
        assignee = f"agent_{rng.randint(1, 60):03d}"
        if not step(t1, status="open", first_response_at=self.ts(rng, t1), assignee_team=team, assignee=assignee,
                    add=[self._message(t1 - 30, "system", f"工单已分配给 {team}"),
                         self._message(t1, "agent", rng.choice(AGENT_REPLIES))]):
            return events
        last = t1
        if rng.random() < 0.3:
            pending_at = t1 + rng.randrange(60, 600)
            if not step(pending_at, status="pending", add=[self._message(pending_at, "system", "工单状态变更为 pending")]):
                return events
            answer_at = pending_at + rng.randrange(600, 86400)
            if not step(answer_at, status="open",
                        add=[self._message(answer_at, "customer", rng.choice(TICKET_FOLLOWUPS))]):
                return events
            last = answer_at
        reopen = forced == "reopen" or (forced is None and rng.random() < 0.1)
        solved = last + self._duration(RESOLUTION_MEDIAN_HOURS[priority])
        if not self._solve(step, solved):
            return events
        rating = None if rng.random() < 0.4 else ("good" if sentiment != "negative" or rng.random() < 0.55 else "bad")
        rated_at = solved + rng.randrange(600, 12 * 3600)
        if rating and not reopen and not step(rated_at, satisfaction_rating=rating):
            return events
        last = solved
        if reopen:
            reopen_at = solved + rng.randrange(3600, 3 * 86400)
            complaint = self._reopen_text()
            if not step(reopen_at, status="open", solved_at=None, reopen_composed=complaint,
                        add=[self._message(reopen_at, "customer", complaint.text),
                             self._message(reopen_at + 5, "system", "工单已重新打开")]):
                return events
            solved = reopen_at + self._duration(RESOLUTION_MEDIAN_HOURS[priority])
            if not self._solve(step, solved):
                return events
            last = solved
            if rng.random() < 0.6:
                step(solved + rng.randrange(600, 6 * 3600), satisfaction_rating="bad")
        closed_at = last + 4 * 86400
        step(closed_at, status="closed", add=[self._message(closed_at, "system", "工单已关闭")])
        return events

    def _solve(self, step, solved: int) -> bool:
        rng = self.rng
        return step(solved, status="solved", solved_at=self.ts(rng, solved),
                    add=[self._message(solved - 60, "agent", rng.choice(AGENT_CLOSINGS)),
                         self._message(solved, "system", "工单状态变更为 solved")])

    def _reopen_text(self) -> Composed:
        rng = self.rng
        text = phrase(rng, "客户服务-问题解决", "neg")
        composed = Composed(text, "negative", ["客户服务-问题解决"], ["-"])
        if rng.random() < 0.35:
            composed.text += "，" + phrase(rng, "风险合规-投诉维权", "neg")
            composed.tags.append("风险合规-投诉维权")
            composed.signs.append("-")
        composed.text += rng.choice(("！", "！！！", "。", ""))
        return composed

    def _message(self, at: int, role: str, body: str) -> dict:
        return {"at": self.ts(self.rng, at), "author_role": role, "body": body}

    def _duration(self, median_hours: float) -> int:
        """Log-normal delay around a median, so a share of tickets breaches its SLA."""
        return max(60, int(median_hours * 3600 * math.exp(self.rng.gauss(0, 0.9))))

    def _export(self, base: dict, events: list, export_all: bool = False) -> None:
        """Write the snapshots that were exported (always the newest one), oldest first."""
        rng = self.rng
        written = False
        for number, (at, state) in enumerate(events):
            final = number == len(events) - 1
            if not final and not export_all and rng.random() >= 0.55:
                continue
            record = dict(base)
            for name in ("status", "messages", "first_response_at", "solved_at", "assignee_team", "assignee"):
                record[name] = state[name]
            if state["satisfaction_rating"] is not None or rng.random() < 0.5:
                record["satisfaction_rating"] = state["satisfaction_rating"]
            else:
                record.pop("satisfaction_rating")
            record["updated_at"] = self.ts(rng, at)
            self.write(self.files, at, record, new=not written)
            written = True
            if final and rng.random() < 0.01:
                self.write(self.files, at, record, new=False)  # the same export line twice

    def bad_template(self, epoch: int, csv_mode: bool = False) -> dict:
        rng = self.rng
        ticket_id = self.next_id
        self.next_id += 1
        return {"ticket_id": ticket_id, "created_at": self.ts(rng, epoch), "updated_at": self.ts(rng, epoch + 60),
                "channel": "online_chat", "status": "new", "priority": "normal", "category": "咨询",
                "requester": {"name": rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES), "phone": None, "email": None,
                              "member_id": None},
                "subject": rng.choice(GENERIC_SUBJECTS),
                "messages": [{"at": self.ts(rng, epoch), "author_role": "customer", "body": "请尽快处理"}]}
