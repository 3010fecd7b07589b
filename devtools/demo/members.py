"""CRM member records: a snapshot before the window, then dated files with new and changed members."""

from __future__ import annotations

from datetime import timedelta

from devtools.demo.base import FeedbackSource, strictly_increasing
from devtools.demo.context import BadPlanner
from devtools.demo.identity import BINDABLE_PLATFORMS, TIERS
from devtools.demo.noise import local_date_str, messy_email, messy_phone
from devtools.demo.writers import LandingFiles

SOURCE_CHANNELS = ("小程序", "门店", "APP", "官网")


class MemberGenerator(FeedbackSource):
    folder, truth_source, code, id_field = "members", "member", "M", "member_id"
    BAD = (("invalid_json", ""), ("missing_id", ""), ("bad_timestamp", "updated_at"),
           ("wrong_type", "consent_analytics"), ("not_an_object", ""))

    def __init__(self, ctx):
        super().__init__(ctx, ctx.population.n_members)
        self.snapshot_key = f"{(ctx.window.start_date - timedelta(days=1)).isoformat()}_snapshot"
        self.snapshot_at = ctx.window.start_epoch - 86400
        self.next_bad_id = ctx.population.n_members

    def run(self) -> None:
        ctx = self.ctx
        self.files = LandingFiles(ctx.landing, "members", max_records=25_000, gzip_every=3)
        self.bad = BadPlanner(self.BAD, int(self.n_items * 1.15))  # per member version
        for member in range(self.n_items):
            self._member(member)
        for kind in self.bad.missing():
            self.write_bad(self.files, ctx.window.end_epoch, kind)
        self.stats.files = sorted(self.files.close())

    def _key(self, epoch: int) -> str | None:
        return self.snapshot_key if epoch <= self.snapshot_at else None

    def _member(self, member: int) -> None:
        rng, ctx, pop, ids = self.rng, self.ctx, self.ctx.population, self.ctx.ids
        person_id = self.person_id(member)
        registered = pop.registered_at[member]
        tier = pop.tier[member]
        upgraded_at = pop.tier_upgraded_at[member]
        state = {
            "member_id": ids.member_id(member),
            "name": ids.person_name(pop.name[member]),
            "phone": self._phone(pop.old_phone[member] if pop.old_phone[member] != -1 else pop.phone[member]),
            "email": self._email(pop.old_email[member] if pop.old_email[member] != -1 else pop.email[member]),
            "unionid": ids.unionid(pop.unionid[member], bool(pop.unionid_twin[member]))
            if pop.unionid[member] != -1 else None,
            "tier": TIERS[tier - 1 if upgraded_at else tier],
            "city": ctx.stores[pop.home_store[member]]["city"],
            "home_store_id": ctx.stores[pop.home_store[member]]["store_id"],
            "registered_at": local_date_str(registered),
            "updated_at": None,
            "bound_accounts": [{"platform": p, "account_id": ids.account(p, member)}
                               for i, p in enumerate(BINDABLE_PLATFORMS) if pop.bound[member] >> i & 1],
            "consent_analytics": bool(pop.consent[member]),
        }
        if registered < ctx.window.start_epoch:
            first_at = registered + rng.randrange(max(self.snapshot_at - registered, 1))
        else:
            first_at = registered
        events = [(first_at, {})]
        if pop.old_phone[member] != -1:
            events.append((pop.phone_changed_at[member], {"phone": self._phone(pop.phone[member])}))
        if pop.old_email[member] != -1:
            events.append((pop.email_changed_at[member], {"email": self._email(pop.email[member])}))
        if upgraded_at:
            events.append((upgraded_at, {"tier": TIERS[tier]}))
        if pop.bound_added[member] != -1:
            platform = BINDABLE_PLATFORMS[pop.bound_added[member]]
            added = state["bound_accounts"] + [{"platform": platform, "account_id": ids.account(platform, member)}]
            events.append((pop.bound_added_at[member], {"bound_accounts": added}))
        span = ctx.window.end_epoch - max(first_at, ctx.window.start_epoch)
        if span > 3600 and rng.random() < 0.02:
            events.append((max(first_at, ctx.window.start_epoch) + rng.randrange(span),
                           {"consent_analytics": not state["consent_analytics"]}))
        if span > 3600 and rng.random() < 0.03:
            events.append((max(first_at, ctx.window.start_epoch) + rng.randrange(span), {}))  # a touch: same data
        events = [e for e in strictly_increasing(events) if ctx.window.clamp_ok(e[0])]

        for number, (at, changes) in enumerate(events):
            state.update(changes)
            state["updated_at"] = self.ts(rng, at)
            record = {k: v for k, v in state.items() if v is not None or k not in ("email", "unionid")
                      or rng.random() < 0.7}
            if not record["bound_accounts"] and rng.random() < 0.5:
                del record["bound_accounts"]
            if at >= ctx.drift_at and rng.random() < 0.4:
                record["wechat_nickname"] = ids.nickname(member, "wechat")
                record["source_channel"] = rng.choice(SOURCE_CHANNELS)
            key = self._key(at)
            kind = self.bad.next(rng)
            if kind:
                self.write_bad(self.files, at, kind, key=key)
            self.write(self.files, at, record, new=number == 0, key=key)
            ctx.truth.add_member_version(person_id, record)
            if rng.random() < 0.01:
                self.write(self.files, at, record, new=False, key=key)

    def _phone(self, serial: int) -> str | None:
        return messy_phone(self.rng, self.ctx.ids.phone(serial)) if serial != -1 else None

    def _email(self, serial: int) -> str | None:
        return messy_email(self.rng, self.ctx.ids.email(serial)) if serial != -1 else None

    def bad_template(self, epoch: int, csv_mode: bool = False) -> dict:
        rng = self.rng
        self.next_bad_id += 1
        return {"member_id": f"M{self.next_bad_id + 1:07d}", "name": "测试会员", "phone": None, "email": None,
                "unionid": None, "tier": "普通", "city": "上海", "home_store_id": self.ctx.stores[0]["store_id"],
                "registered_at": local_date_str(epoch), "updated_at": self.ts(rng, epoch),
                "bound_accounts": [], "consent_analytics": True}
