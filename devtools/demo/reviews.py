"""E-commerce and app-store reviews, with seller replies and append reviews (追评)."""

from __future__ import annotations

from devtools.demo.base import FeedbackSource, strictly_increasing
from devtools.demo.context import BadPlanner
from devtools.demo.identity import ECOMMERCE_PLATFORMS, mix64
from devtools.demo.noise import Decorator, iso_local, local_date_str
from devtools.demo.phrases import SELLER_REPLIES_NEGATIVE, SELLER_REPLIES_POSITIVE
from devtools.demo.surveys import pick_channel
from devtools.demo.text import Composed, compose, long_text
from devtools.demo.truth import record_keys
from devtools.demo.writers import LandingFiles

PLATFORMS = (("tmall", 0.40), ("jd", 0.35), ("pdd", 0.12), ("app_store", 0.07), ("android_market", 0.06))
APP_PLATFORMS = ("app_store", "android_market")
ID_PREFIX = {"tmall": "TM", "jd": "JD", "pdd": "PDD", "app_store": "AS", "android_market": "AM"}
SHOPS = {"tmall": ("tmall-flagship", "tmall-flagship", "tmall-outlet"), "jd": ("jd-flagship", "jd-self-operated"),
         "pdd": ("pdd-official",), "app_store": ("heyue-app-ios",), "android_market": ("heyue-app-android",)}
RATINGS = {"positive": (5, 5, 5, 5, 4, 4), "neutral": (3, 3, 4, 4, 5), "negative": (1, 1, 1, 2, 2, 3)}
DEFAULT_REVIEW_TEXT = "此用户没有填写评价。"
APPEND_PREFIXES = ("", "", "追评：", "用了一段时间，", "补充一下：")
NICK_CHARS = "abcdefghjklmnpqrstwxyz小大王李张甜心"
SKU_PROPS = ("颜色:白色;版本:标准版", "颜色:星空灰", "颜色:樱花粉;套餐:官方标配", "版本:Pro")


class ReviewGenerator(FeedbackSource):
    folder, truth_source, code, id_field = "reviews", "review", "R", "review_id"
    BAD = (("invalid_json", ""), ("missing_id", ""), ("bad_timestamp", "created_at"), ("out_of_range", "rating"),
           ("wrong_type", "rating"), ("not_an_object", ""))

    def __init__(self, ctx, n_items: int):
        super().__init__(ctx, n_items)
        self.counter = 0
        self.order_seq = 0
        self.decorate = Decorator(emoji=0.2, html=0.12, linebreak=0.08, punct=0.15, pii=0.02, fullwidth=0.04, spaces=0.04)
        self.long_text_index = min(5, max(n_items - 1, 0))

    def run(self) -> None:
        ctx = self.ctx
        self.files = LandingFiles(ctx.landing, "reviews", max_records=25_000, gzip_every=3)
        self.bad = BadPlanner(self.BAD, self.n_items, rate=0.0085)
        epoch = ctx.window.start_epoch
        for index, epoch in enumerate(ctx.window.timeline(self.rng, self.n_items)):
            self._item(index, epoch)
        for kind in self.bad.missing():
            self.write_bad(self.files, epoch, kind)
        self.stats.files = sorted(self.files.close())

    def _new_id(self, platform: str) -> str:
        self.counter += 1
        return f"{ID_PREFIX[platform]}-{self.ctx.ids.scatter(self.counter, 9 * 10**9, 40) + 10**9}"

    def _item(self, index: int, epoch: int) -> None:
        rng, ctx, pop = self.rng, self.ctx, self.ctx.population
        person = self.choose_person(0.45, 0.47)
        platform = pick_channel(rng, PLATFORMS)
        if person is not None and person < pop.n_members and rng.random() < 0.75:
            bound = [p for p in pop.bound_platforms(person) if p in ECOMMERCE_PLATFORMS]
            if bound:
                platform = rng.choice(bound)
        is_app = platform in APP_PLATFORMS
        if person is None:
            open_id = None if rng.random() < 0.7 else ""
            nick = rng.choice(("匿名买家", "***", "a***1"))
        else:
            open_id = ctx.ids.account(platform, person)
            value = mix64(person * 13 + len(platform))
            nick = (ctx.ids.nickname(person, platform) if is_app
                    else f"{NICK_CHARS[value % len(NICK_CHARS)]}***{(value >> 8) % 10}")
        person_id = self.person_id(person)
        product_sku = None if is_app else rng.choice(ctx.products)["product_sku"]
        roll = rng.random()
        sentiment, primary = ("positive" if roll < 0.55 else "negative" if roll < 0.85 else "neutral"), None
        sampler_name = "review_app" if is_app else "review"
        coverage = index
        if coverage < 33:
            sentiment, primary = self.forced_primary(coverage, sentiment, primary, False)
        else:
            sentiment, primary, product_sku = ctx.scenario.adjust(
                rng, sampler_name, epoch, None, product_sku, sentiment, primary)
        sampler = ctx.samplers[sampler_name]
        special = rng.random() if coverage >= 33 else 1.0
        if index == self.long_text_index:
            composed = long_text(rng, sampler, sentiment)
            content = composed.text
        elif special < 0.03 and not is_app:
            composed = Composed(DEFAULT_REVIEW_TEXT, "neutral")
            content = composed.text
            sentiment = "positive"  # platforms fill this text in for default (good) ratings
        elif special < 0.04:
            composed = Composed("", "neutral")
            content = rng.choice(("", " "))
        else:
            composed = compose(rng, sampler, sentiment, primary)
            content = self.decorate(rng, composed.text, sentiment=composed.sentiment)
        rating = rng.choice(RATINGS[sentiment])
        order_id = None
        if not is_app:
            self.order_seq += 1
            order_id = f"O{local_date_str(epoch - rng.randrange(2, 15) * 86400).replace('-', '')}{self.order_seq:05d}"
        review_id = self._new_id(platform)
        base = {"review_id": review_id, "platform": platform, "shop_id": rng.choice(SHOPS[platform]),
                "product_sku": product_sku, "order_id": order_id, "buyer_nick": nick, "buyer_open_id": open_id,
                "rating": rating, "content": content, "created_at": self.ts(rng, epoch), "modified_at": None,
                "append_content": None, "append_at": None, "has_images": rng.random() < 0.25, "seller_reply": None}
        if is_app:
            del base["order_id"]
        if epoch >= ctx.drift_at and rng.random() < 0.5:
            base["video_count"] = rng.choice((0, 0, 0, 1))
            if not is_app:
                base["sku_props"] = rng.choice(SKU_PROPS)
        kind = self.bad.next(rng)
        if kind:
            self.write_bad(self.files, epoch, kind)

        events = [(epoch, {})]
        reply_share = 0.4 if sentiment == "negative" else 0.15
        if rng.random() < reply_share:
            reply_at = epoch + rng.randrange(3600, 48 * 3600)
            replies = SELLER_REPLIES_NEGATIVE if sentiment == "negative" else SELLER_REPLIES_POSITIVE
            events.append((reply_at, {"seller_reply": rng.choice(replies)}))
        append = None
        roll = rng.random()
        if roll < 0.17:
            append_at = epoch + rng.randrange(3 * 86400, 45 * 86400)
            keep = rng.random() < (0.6 if sentiment == "positive" else 0.2)
            append_sentiment = sentiment if keep else ("negative" if sentiment != "negative" else "positive")
            append = compose(rng, ctx.samplers["review_append"], append_sentiment)
            text = rng.choice(APPEND_PREFIXES) + self.decorate(rng, append.text, sentiment=append.sentiment)
            events.append((append_at, {"append_content": text, "append_at": self.ts(rng, append_at)}))
        elif roll < 0.185:
            events.append((epoch + rng.randrange(3600, 5 * 86400), {"append_content": ""}))  # empty 追评 field
        events = [e for e in strictly_increasing(events) if ctx.window.clamp_ok(e[0])]

        state = dict(base)
        modified_style = rng.random()
        written = False
        for number, (at, changes) in enumerate(events):
            state.update(changes)
            if number == 0:
                state["modified_at"] = self.ts(rng, at) if modified_style < 0.5 else None
            else:
                state["modified_at"] = self.ts(rng, at)
            final = number == len(events) - 1
            if not final and rng.random() >= 0.5:
                continue
            record = {k: v for k, v in state.items()
                      if v is not None or k not in ("append_content", "append_at", "seller_reply", "modified_at")
                      or rng.random() < 0.5}
            self.write(self.files, at, record, new=not written)
            written = True
            if final and rng.random() < 0.01:
                self.write(self.files, at, record, new=False)

        keys = record_keys("reviews", base)
        self.ctx.truth.add_item(
            feedback_id=f"review:{review_id}", source="review", person_id=person_id, keys=keys, tags=composed.tags,
            signs=composed.signs, sentiment=composed.sentiment if content.strip() else "neutral", channel=platform,
            created_at=iso_local(epoch), rating=rating)
        self.stats.feedback_items += 1
        final_append = state.get("append_content")
        if append is not None and final_append:
            append_time = next(at for at, changes in events if changes.get("append_content"))
            self.ctx.truth.add_item(
                feedback_id=f"review:{review_id}:append", source="review", person_id=person_id, keys=keys,
                tags=append.tags, signs=append.signs, sentiment=append.sentiment, channel=platform,
                created_at=iso_local(append_time))
            self.stats.feedback_items += 1

    def bad_template(self, epoch: int, csv_mode: bool = False) -> dict:
        rng = self.rng
        platform = rng.choice(("tmall", "jd"))
        return {"review_id": self._new_id(platform), "platform": platform, "shop_id": SHOPS[platform][0],
                "product_sku": rng.choice(self.ctx.products)["product_sku"], "order_id": None,
                "buyer_nick": "b***7", "buyer_open_id": None, "rating": rng.randint(1, 5),
                "content": rng.choice(("好评", "一般", "物流很快")), "created_at": self.ts(rng, epoch),
                "modified_at": None, "has_images": False}
