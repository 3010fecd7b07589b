"""Social-listening mentions (Weibo, Xiaohongshu, Douyin, Zhihu, Bilibili)."""

from __future__ import annotations

import math

from devtools.demo.base import FeedbackSource
from devtools.demo.context import BRAND_ACCOUNT, BadPlanner
from devtools.demo.identity import SOCIAL_PLATFORMS, mix64
from devtools.demo.noise import Decorator, TsStyler, iso_local
from devtools.demo.surveys import pick_channel
from devtools.demo.text import compose
from devtools.demo.truth import record_keys
from devtools.demo.writers import LandingFiles

PLATFORMS = (("weibo", 0.45), ("xiaohongshu", 0.25), ("douyin", 0.15), ("zhihu", 0.08), ("bilibili", 0.07))
TOPICS = ("#禾悦#", "#禾悦售后#", "#家电测评#", "#家电推荐#", "#避雷#", "#好物分享#")
MENTIONS = ("@" + BRAND_ACCOUNT, "@禾悦客服", "@禾悦家电")
REPOST_REASONS = ("转发微博", "+1", "码住", "真的假的", "同款", "")
ALNUM = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
MEDIA = ("image", "video", "text")


def _alnum(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        chars.append(ALNUM[value % len(ALNUM)])
        value //= len(ALNUM)
    return "".join(chars)


class SocialGenerator(FeedbackSource):
    folder, truth_source, code, id_field = "social", "social", "W", "post_id"
    BAD = (("invalid_json", ""), ("missing_id", ""), ("bad_timestamp", "published_at"), ("wrong_type", "reposts"),
           ("not_an_object", ""))

    def __init__(self, ctx, n_items: int):
        super().__init__(ctx, n_items)
        self.counter = 0
        self.ts = TsStyler((0.25, 0.15, 0.2, 0.4))
        self.decorate = Decorator(emoji=0.45, html=0.02, linebreak=0.1, punct=0.25, pii=0.02, fullwidth=0.03, spaces=0.03)

    def run(self) -> None:
        ctx = self.ctx
        self.files = LandingFiles(ctx.landing, "social", max_records=25_000, gzip_every=3, ascii_every=4)
        self.bad = BadPlanner(self.BAD, self.n_items, rate=0.0077)
        epoch = ctx.window.start_epoch
        for index, epoch in enumerate(ctx.window.timeline(self.rng, self.n_items)):
            self._item(index, epoch)
        for kind in self.bad.missing():
            self.write_bad(self.files, epoch, kind)
        self.stats.files = sorted(self.files.close())

    def _post_id(self, platform: str) -> tuple[str, str]:
        """(post_id, native id): bijections of a counter, so post ids never repeat."""
        self.counter += 1
        bij = self.ctx.ids.scatter
        if platform == "weibo":
            native = str(4_800_000_000_000_000 + bij(self.counter, 10**15, 30))
        elif platform == "xiaohongshu":
            native = f"6{bij(self.counter, 16**15, 31):015x}{mix64(self.counter) % 16**8:08x}"
        elif platform == "douyin":
            native = str(7_300_000_000_000_000_000 + bij(self.counter, 10**17, 32))
        elif platform == "zhihu":
            native = str(1_000_000_000 + bij(self.counter, 9 * 10**9, 33))
        else:
            native = "BV1" + _alnum(bij(self.counter, len(ALNUM) ** 9, 34), 9)
        return f"{platform}:{native}", native

    def _item(self, index: int, epoch: int) -> None:
        rng, ctx, pop = self.rng, self.ctx, self.ctx.population
        person = self.choose_person(0.30, 0.68)
        platform = pick_channel(rng, PLATFORMS)
        if person is not None and person < pop.n_members and rng.random() < 0.8:
            bound = [p for p in pop.bound_platforms(person) if p in SOCIAL_PLATFORMS]
            if bound:
                platform = rng.choice(bound)
        uid = ctx.ids.account(platform, person) if person is not None else None
        nickname = ctx.ids.nickname(person, platform) if person is not None else "用户已注销"
        person_id = self.person_id(person)
        followers = min(int(math.exp(rng.gauss(5.0, 2.0))), 20_000_000)
        verified = (followers > 50_000 and rng.random() < 0.6) or rng.random() < 0.01

        roll = rng.random()
        sentiment, primary = ("negative" if roll < 0.5 else "positive" if roll < 0.8 else "neutral"), None
        if index < 33:
            sentiment, primary = self.forced_primary(index, sentiment, primary, True)
        else:
            sentiment, primary, _ = ctx.scenario.adjust(rng, "social", epoch, None, None, sentiment, primary)
        composed = compose(rng, ctx.samplers["social"], sentiment, primary)
        text = self.decorate(rng, composed.text, sentiment=composed.sentiment)
        is_repost = rng.random() < 0.12 and index >= 33
        if is_repost:
            original_author = ctx.ids.nickname(rng.randrange(10**6) + 10**7, platform)
            text = f"{rng.choice(REPOST_REASONS)}//@{original_author}:{text}"
        if rng.random() < 0.55:
            topic = rng.choice(TOPICS)
            text = f"{topic}{text}" if rng.random() < 0.6 else f"{text} {topic}"
        if rng.random() < 0.4:
            text = f"{text} {rng.choice(MENTIONS)}"
        if platform == "weibo" and rng.random() < 0.3:
            text = f"{text} http://t.cn/A6{_alnum(mix64(self.counter + 7), 5)}"
        post_id, native = self._post_id(platform)
        url = {
            "weibo": f"https://weibo.com/{uid or 0}/{_alnum(mix64(self.counter), 9)}",
            "xiaohongshu": f"https://www.xiaohongshu.com/explore/{native}",
            "douyin": f"https://www.douyin.com/video/{native}",
            "zhihu": f"https://www.zhihu.com/answer/{native}",
            "bilibili": f"https://www.bilibili.com/video/{native}",
        }[platform]
        likes = int(math.exp(rng.gauss(1.5, 1.5)))
        author = {"uid": uid, "nickname": nickname, "followers": followers, "verified": verified}
        if rng.random() < 0.05:
            del author["verified"]
        record = {"post_id": post_id, "platform": platform, "author": author, "text": text,
                  "published_at": self.ts(rng, epoch), "url": url, "likes": likes,
                  "comments": int(likes * rng.random() * 0.5), "reposts": int(likes * rng.random() * 0.3),
                  "is_repost": is_repost}
        if epoch >= ctx.drift_at and rng.random() < 0.5:
            record["location"] = rng.choice(ctx.stores)["city"]
            record["lang"] = "zh-CN"
            record["media_type"] = rng.choice(MEDIA)
        kind = self.bad.next(rng)
        if kind:
            self.write_bad(self.files, epoch, kind)
        self.write(self.files, epoch, record, new=True)
        if rng.random() < 0.01:
            self.write(self.files, epoch, record, new=False)
        if rng.random() < 0.1:
            crawled_at = epoch + rng.randrange(86400, 5 * 86400)
            if ctx.window.clamp_ok(crawled_at):
                # a later crawl: engagement grew; the crawler adds updated_at (its crawl time)
                grown = dict(record, likes=likes * 3 + rng.randrange(50), comments=record["comments"] * 2 + 1,
                             reposts=record["reposts"] * 2 + 1, updated_at=self.ts(rng, crawled_at))
                self.write(self.files, crawled_at, grown, new=False)
        self.ctx.truth.add_item(
            feedback_id=f"social:{post_id}", source="social", person_id=person_id, keys=record_keys("social", record),
            tags=composed.tags, signs=composed.signs, sentiment=composed.sentiment, channel=platform,
            created_at=iso_local(epoch))
        self.stats.feedback_items += 1

    def bad_template(self, epoch: int, csv_mode: bool = False) -> dict:
        rng = self.rng
        post_id, native = self._post_id("weibo")
        return {"post_id": post_id, "platform": "weibo",
                "author": {"uid": str(rng.randrange(10**9, 10**10)), "nickname": "路人甲", "followers": 10,
                           "verified": False},
                "text": "#禾悦# 还行吧", "published_at": self.ts(rng, epoch), "url": f"https://weibo.com/0/{native}",
                "likes": 1, "comments": 0, "reposts": 0, "is_repost": False}
