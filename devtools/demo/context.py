"""Shared state of one generator run: time window, reference data, scenarios, samplers, stats."""

from __future__ import annotations

import calendar
import csv
import random
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path

from devtools.demo.identity import IdFactory, Population
from devtools.demo.noise import SHANGHAI_OFFSET_SECONDS, month_key
from devtools.demo.phrases import ALL_TAGS
from devtools.demo.signals import plan_signals
from devtools.demo.text import TagSampler
from devtools.demo.truth import IdentityTruth

BRAND = "禾悦"
BRAND_ACCOUNT = "禾悦官方旗舰店"
L1_ORDER = ("物流体验", "产品质量", "价格促销", "客户服务", "售后退换", "数字体验", "门店体验", "营销沟通", "风险合规")
BASE_TAG_WEIGHT = {
    "物流体验-时效性": 10, "物流体验-包装破损": 5, "物流体验-配送服务": 4, "物流体验-物流信息": 3,
    "产品质量-功能故障": 8, "产品质量-做工材质": 5, "产品质量-耐用性": 4, "产品质量-与描述不符": 3,
    "价格促销-价格": 5, "价格促销-促销规则": 3, "价格促销-优惠券": 3,
    "客户服务-服务态度": 6, "客户服务-响应速度": 6, "客户服务-问题解决": 5, "客户服务-专业能力": 3,
    "售后退换-退换货流程": 5, "售后退换-退款时效": 5, "售后退换-维修保养": 3, "售后退换-保修政策": 2,
    "数字体验-应用性能": 3, "数字体验-操作便捷": 3, "数字体验-账号登录": 2, "数字体验-支付问题": 3,
    "门店体验-门店环境": 3, "门店体验-排队等待": 3, "门店体验-店员服务": 4,
    "营销沟通-宣传不符": 2, "营销沟通-营销骚扰": 2, "营销沟通-会员权益": 3,
    "风险合规-安全隐患": 1, "风险合规-欺诈诈骗": 0.8, "风险合规-隐私泄露": 0.8, "风险合规-投诉维权": 1.2,
}
# Per sampler: multiplier of each L1 (in L1_ORDER), so each channel talks about its own topics.
SAMPLER_L1_MULTIPLIER = {
    "survey_purchase": (2, 2, 1.5, 1, 1, 0.5, 0.3, 1, 0.2),
    "survey_service": (0.5, 0.5, 0.3, 4, 2.5, 0.5, 0.2, 0.5, 0.3),
    "survey_store": (0.2, 0.8, 0.8, 0.5, 0.5, 0.2, 5, 0.8, 0.1),
    "survey_app": (0.2, 0.1, 0.5, 0.5, 0.3, 6, 0.1, 1.5, 0.2),
    "survey_delivery": (6, 0.5, 0.1, 0.5, 0.3, 0.1, 0.1, 0.1, 0.1),
    "ticket": (2, 2, 0.5, 2, 3, 1.5, 0.5, 1, 1.2),
    "review": (3, 3, 2, 1, 1, 0.2, 0.1, 0.8, 0.3),
    "review_app": (0.05, 0.05, 0.8, 1, 0.3, 8, 0.05, 2, 0.3),
    "review_append": (0.2, 4, 0.3, 0.8, 2, 0.1, 0.05, 0.5, 0.4),
    "social": (1, 2, 1, 1.5, 1, 1, 0.5, 2, 2),
}
HOUR_WEIGHTS = (0.3, 0.15, 0.1, 0.1, 0.1, 0.2, 0.5, 1, 1.5, 2, 2.3, 2.3, 2, 1.8, 1.8, 1.8, 1.8, 1.7, 1.8, 2.2, 2.6, 2.8, 2.2, 1.2)
HOUR_CUM = tuple(accumulate(HOUR_WEIGHTS))
EVENING_HOUR_SHARE = sum(HOUR_WEIGHTS[19:23]) / HOUR_CUM[-1]
SOURCE_STORE_SHARE = 0.45  # surveys and tickets: the sources whose feedback names a store

CITIES = (
    ("上海", "SH", "华东", ("徐汇", "静安", "浦东", "长宁", "闵行")),
    ("北京", "BJ", "华北", ("朝阳", "海淀", "西单", "望京")),
    ("广州", "GZ", "华南", ("天河", "越秀", "番禺")),
    ("深圳", "SZ", "华南", ("南山", "福田", "宝安")),
    ("杭州", "HZ", "华东", ("西湖", "滨江", "萧山")),
    ("成都", "CD", "西南", ("锦江", "高新", "武侯")),
    ("南京", "NJ", "华东", ("鼓楼", "新街口")),
    ("天津", "TJ", "华北", ("和平", "南开")),
    ("重庆", "CQ", "西南", ("解放碑", "观音桥")),
    ("苏州", "SU", "华东", ("园区", "姑苏")),
)
CATALOG = (
    ("厨房电器", ("电饭煲", "空气炸锅", "电热水壶", "破壁机", "电压力锅", "微波炉")),
    ("个护电器", ("吹风机", "电动牙刷", "剃须刀", "卷发棒")),
    ("清洁电器", ("扫地机器人", "无线吸尘器", "洗地机", "除螨仪")),
    ("生活电器", ("电暖器", "加湿器", "空气净化器", "电风扇", "除湿机")),
    ("智能穿戴", ("智能手表", "运动手环", "蓝牙耳机")),
)
PRODUCT_LINES = (("经典系列", ""), ("Pro系列", "Pro"), ("青春系列", "Lite"), ("Max系列", "Max"))
DEFECT_PRODUCT_TYPE = "电暖器"


def local_hour(epoch: int) -> int:
    """Hour of day (0-23) of an epoch in Asia/Shanghai."""
    return (epoch + SHANGHAI_OFFSET_SECONDS) // 3600 % 24


def local_midnight_epoch(day: date) -> int:
    """Epoch seconds of 00:00 Asia/Shanghai on that date."""
    return calendar.timegm(day.timetuple()) - SHANGHAI_OFFSET_SECONDS


def allocate(total: int, weights: list[float]) -> list[int]:
    """Split an integer total proportionally to weights (largest remainder, deterministic)."""
    weight_sum = sum(weights)
    exact = [total * w / weight_sum for w in weights]
    counts = [int(x) for x in exact]
    remainder = total - sum(counts)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[:remainder]:
        counts[i] += 1
    return counts


class Window:
    """The generated period: `days` local dates ending at end_date, with realistic daily volume."""

    def __init__(self, end_date: date, days: int):
        self.end_date = end_date
        self.days = days
        self.start_date = end_date - timedelta(days=days - 1)
        self.start_epoch = local_midnight_epoch(self.start_date)
        self.end_epoch = local_midnight_epoch(end_date) + 86399
        self.day_weights = [self._day_weight(i) for i in range(days)]

    def _day_weight(self, index: int) -> float:
        day = self.start_date + timedelta(days=index)
        weight = 0.9 + 0.2 * index / max(self.days - 1, 1)  # the brand grows a little
        if day.weekday() >= 5:
            weight *= 1.15
        if day.month == 6 and 16 <= day.day <= 20:
            weight *= 1.6  # 618 shopping festival
        if day.month == 11 and 10 <= day.day <= 13:
            weight *= 2.0  # 双11
        return weight

    def timeline(self, rng: random.Random, n_items: int):
        """Sorted creation epochs of n_items spread over the window."""
        for index, count in enumerate(allocate(n_items, self.day_weights)):
            base = self.start_epoch + index * 86400
            times = []
            for _ in range(count):
                hour = bisect_right(HOUR_CUM, rng.random() * HOUR_CUM[-1])
                times.append(base + min(hour, 23) * 3600 + rng.randrange(3600))
            times.sort()
            yield from times

    def clamp_ok(self, epoch: int) -> bool:
        """True when a version time is still inside the window (later versions are not exported yet)."""
        return epoch <= self.end_epoch


INTERVENTION_TOPIC_SHARE = 0.25
# Root-cause signals (docs/root-cause.md): a problem local to one store, and an evening-peak
# problem tied to a promotion; the logistics spike is the nationwide one.
LOCAL_PROBLEM_STORE = "SZ001"
LOCAL_PROBLEM_TAG = "门店体验-店员服务"
LOCAL_PROBLEM_WEEKS_BEFORE_END = 6
EVENING_PROBLEM_TAG = "客户服务-响应速度"
EVENING_PROBLEM_CO_TAG = "价格促销-促销规则"
EVENING_PROBLEM_HOURS = (19, 20, 21, 22)
EVENING_PROBLEM_WEEKS_BEFORE_END = 3
SIGNAL_BASELINE_WEEKS = 8  # a planted week needs this much history before it (root_cause_settings)
STORE_SOURCES = ("survey_purchase", "survey_service", "survey_store", "survey_app", "survey_delivery", "ticket")
NEGATIVE_SHARE_BEFORE = 0.90
NEGATIVE_SHARE_AFTER = 0.15


@dataclass
class Scenario:
    """Storylines baked into the data so alerts and the intervention report have something to find."""

    spike_start: int
    burst_start: int
    defect_sku: str
    intervention_at: int
    intervention_region: str = "华东"
    intervention_tag: str = "售后退换-退换货流程"
    plant_signals: bool = True
    # Monday 00:00 (epoch) of the planted weeks, None when the window is too short for them.
    local_week_start: int | None = None
    evening_week_start: int | None = None
    local_probability: float = 0.0
    evening_probability: float = 0.0
    signal_rng: random.Random = field(default_factory=lambda: random.Random(0))

    def _in_week(self, week_start: int | None, epoch: int) -> bool:
        return week_start is not None and week_start <= epoch < week_start + 7 * 86400

    def relocate(self, source: str, epoch: int, store_id: str | None) -> str | None:
        """The store of an item: in the local problem's week a share of store feedback moves to its store.

        Decisions come from signal_rng, so the per-source random streams are not shifted by them.
        """
        if (self.plant_signals and source in STORE_SOURCES and self._in_week(self.local_week_start, epoch)
                and self.signal_rng.random() < self.local_probability):
            return LOCAL_PROBLEM_STORE
        return store_id

    def adjust(self, rng: random.Random, source: str, epoch: int, region: str | None, product_sku: str | None,
               sentiment: str, primary: str | None, *, store_id: str | None = None):
        """Bend (sentiment, primary tag, product) of an item toward the storylines.

        The primary tag may come back as a (primary, secondary) pair: compose() then writes both.
        With plant_signals off, no storyline bends anything.
        """
        if not self.plant_signals:
            return sentiment, primary, product_sku
        if store_id == LOCAL_PROBLEM_STORE and self._in_week(self.local_week_start, epoch):
            if self.signal_rng.random() < 0.9:
                return "negative", LOCAL_PROBLEM_TAG, product_sku
        if self._in_week(self.evening_week_start, epoch) and local_hour(epoch) in EVENING_PROBLEM_HOURS:
            if self.signal_rng.random() < self.evening_probability:
                return "negative", (EVENING_PROBLEM_TAG, EVENING_PROBLEM_CO_TAG), product_sku
        if epoch >= self.spike_start and source != "review_app" and rng.random() < 0.35:
            return "negative", ("物流体验-时效性" if rng.random() < 0.75 else "物流体验-物流信息"), product_sku
        if epoch >= self.burst_start and source in ("review", "ticket", "survey_purchase"):
            if (product_sku == self.defect_sku and rng.random() < 0.7) or rng.random() < 0.06:
                tag = "产品质量-功能故障" if rng.random() < 0.6 else "风险合规-安全隐患"
                return "negative", tag, self.defect_sku
        if region == self.intervention_region and rng.random() < INTERVENTION_TOPIC_SHARE:
            # The same share of the region's feedback is about returns before and after the change;
            # what the change improves is how it feels, so the effect shows in the negative rate
            # and sentiment (a test asserts it is significant even on small demo data).
            improved = epoch >= self.intervention_at
            negative_share = NEGATIVE_SHARE_AFTER if improved else NEGATIVE_SHARE_BEFORE
            return ("negative" if rng.random() < negative_share else "positive"), self.intervention_tag, product_sku
        return sentiment, primary, product_sku

    def describe(self) -> dict:
        from devtools.demo.noise import iso_local

        if not self.plant_signals:
            return {}
        return {**self._root_cause_signals(iso_local), **self._storylines(iso_local)}

    def _root_cause_signals(self, iso_local) -> dict:
        """Ground truth of the root-cause marts (tests/test_root_cause.py): episode and expected verdict."""
        signals = {
            "nationwide_problem": {"tag": "物流体验-时效性", "from": iso_local(self.spike_start)[:10],
                                   "episode_type": "tag_spike", "expected_verdict": "nationwide",
                                   "note": "the logistics spike: slow delivery everywhere, every channel"},
        }
        if self.local_week_start is not None:
            signals["local_store_problem"] = {
                "tag": LOCAL_PROBLEM_TAG, "week_start": iso_local(self.local_week_start)[:10],
                "store_id": LOCAL_PROBLEM_STORE, "episode_type": "tag_week", "expected_verdict": "local",
                "note": "in one week a share of store feedback comes from one store, complaining about its staff"}
        if self.evening_week_start is not None:
            signals["evening_promotion_problem"] = {
                "tag": EVENING_PROBLEM_TAG, "co_tag": EVENING_PROBLEM_CO_TAG, "hours": list(EVENING_PROBLEM_HOURS),
                "week_start": iso_local(self.evening_week_start)[:10], "episode_type": "tag_week",
                "expected_verdict": "local",
                "note": "in one week, evening feedback (19-22 h) complains about slow service during a promotion"}
        return {"root_cause_signals": signals}

    def _storylines(self, iso_local) -> dict:
        return {
            "logistics_spike": {"tag": "物流体验-时效性", "from": iso_local(self.spike_start),
                                "note": "about a third of all feedback in the last 5 days complains about slow delivery"},
            "defect_burst": {"product_sku": self.defect_sku, "tags": ["产品质量-功能故障", "风险合规-安全隐患"],
                             "from": iso_local(self.burst_start), "sources": ["review", "ticket", "survey"]},
            "intervention": {"tag": self.intervention_tag, "scope_region": self.intervention_region,
                             "effective_date": iso_local(self.intervention_at)[:10],
                             "note": "about a quarter of the region's feedback is about returns; 90% negative before, 15% after"},
        }


@dataclass
class SourceStats:
    """Counts for summary.json; lines_written = records_valid_unique + duplicate_lines + bad_records."""

    lines_written: int = 0
    records_valid_unique: int = 0
    duplicate_lines: int = 0
    bad_records: int = 0
    feedback_items: int = 0
    bad_by_kind: Counter = field(default_factory=Counter)
    files: list = field(default_factory=list)

    def as_summary(self) -> dict:
        return {"lines_written": self.lines_written, "records_valid_unique": self.records_valid_unique,
                "duplicate_lines": self.duplicate_lines, "bad_records": self.bad_records,
                "feedback_items": self.feedback_items}


class BadPlanner:
    """Decides where bad lines go (about `rate` of the lines) and cycles through all bad kinds."""

    def __init__(self, kinds: tuple[tuple[str, str], ...], expected_items: int, rate: float = 0.007):
        """`rate` is the chance per item; sources whose items span several lines pass a higher rate."""
        self.kinds = kinds
        self.probability = min(0.05, max(rate, 1.5 * len(kinds) / max(expected_items, 1)))
        self.emitted = 0

    def next(self, rng: random.Random) -> tuple[str, str] | None:
        if rng.random() >= self.probability:
            return None
        kind = self.kinds[self.emitted % len(self.kinds)]
        self.emitted += 1
        return kind

    def missing(self) -> list[tuple[str, str]]:
        """Kinds not emitted yet (written at the end so every kind shows up at least once)."""
        return list(self.kinds[self.emitted:]) if self.emitted < len(self.kinds) else []


class Context:
    """Everything the per-source generators share."""

    def __init__(self, landing: Path, rows: int, seed: int, end_date: date, days: int, plant_signals: bool = True):
        self.landing = landing
        self.rows = rows
        self.seed = seed
        self.window = Window(end_date, days)
        self.ids = IdFactory(seed)
        rng = random.Random(f"{seed}:reference")
        self.stores = self._make_stores(rng, 20 + min(20, rows // 25_000))
        self.products = self._make_products(rng, 30 + min(30, rows // 20_000))
        self.store_region = {s["store_id"]: s["region"] for s in self.stores}
        self.n_members = max(50, rows // 6)
        self.n_nonmembers = max(40, rows // 5)
        self.population = Population(random.Random(f"{seed}:population"), self.n_members, self.n_nonmembers,
                                     self.window.start_epoch, self.window.end_epoch, len(self.stores))
        pop = self.population
        self.linked_nonmember = next(
            (p for p in range(pop.n_members, pop.n_persons) if pop.phone[p] != -1 and pop.email[p] != -1), None)
        self.signals = plan_signals(self.population, self.window, seed, plant_signals)
        self.samplers = {name: TagSampler(self._weights(mult)) for name, mult in SAMPLER_L1_MULTIPLIER.items()}
        span = self.window.end_epoch - self.window.start_epoch
        defect = next(p for p in self.products if p["product_name"].find(DEFECT_PRODUCT_TYPE) >= 0)
        self.scenario = Scenario(
            spike_start=local_midnight_epoch(end_date - timedelta(days=min(4, days - 1))),
            burst_start=local_midnight_epoch(end_date - timedelta(days=min(13, days - 1))),
            defect_sku=defect["product_sku"],
            intervention_at=local_midnight_epoch(self.window.start_date + timedelta(days=days // 2)),
            plant_signals=plant_signals,
            signal_rng=random.Random(f"{seed}:signals"),
        )
        self._plan_signals(rows)
        self.drift_at = self.window.start_epoch + int(span * 0.6)  # vendors add fields from here on
        truth_dir = landing / "_truth"
        truth_dir.mkdir(parents=True, exist_ok=True)
        self.truth = IdentityTruth(truth_dir / ".staging.tsv")
        self._bad_handle = open(truth_dir / "bad_records.csv", "w", encoding="utf-8", newline="")
        self.bad_log = csv.writer(self._bad_handle, lineterminator="\n")
        self.bad_log.writerow(("source", "file", "line", "record_id", "kind", "field", "reason"))
        self.anonymous_persons = 0

    def _plan_signals(self, rows: int) -> None:
        """Weeks and strength of the planted root-cause signals, proportional to the data size.

        About 15 planted items at 2,500 rows (enough for the tests to find them on the session demo
        warehouse), growing slowly with size; weeks without 8 weeks of history are not planted.
        """
        window, scenario = self.window, self.scenario
        end_monday = window.end_date - timedelta(days=window.end_date.weekday())
        items_per_week = rows * 7 / window.days
        target = 14 + rows // 1500
        for weeks_before, attribute, candidates in (
            (LOCAL_PROBLEM_WEEKS_BEFORE_END, "local", items_per_week * (SOURCE_STORE_SHARE)),
            (EVENING_PROBLEM_WEEKS_BEFORE_END, "evening", items_per_week * EVENING_HOUR_SHARE),
        ):
            monday = end_monday - timedelta(weeks=weeks_before)
            if monday - timedelta(weeks=SIGNAL_BASELINE_WEEKS) < window.start_date:
                continue
            setattr(scenario, f"{attribute}_week_start", local_midnight_epoch(monday))
            setattr(scenario, f"{attribute}_probability", min(0.7, target / max(candidates, 1.0)))

    @staticmethod
    def _weights(multipliers) -> dict[str, float]:
        factor = dict(zip(L1_ORDER, multipliers))
        return {tag: BASE_TAG_WEIGHT[tag] * factor[tag.split("-")[0]] for tag in ALL_TAGS}

    def _make_stores(self, rng: random.Random, count: int) -> list[dict]:
        stores, per_city = [], Counter()
        for index in range(count):
            city, code, region, districts = CITIES[index % len(CITIES)]
            per_city[code] += 1
            k = per_city[code]
            district = districts[(k - 1) % len(districts)]
            suffix = "" if k <= len(districts) else "二"
            opened = date(2016, 1, 1) + timedelta(days=rng.randrange(8 * 365))
            stores.append({"store_id": f"{code}{k:03d}", "store_name": f"{BRAND}{city}{district}{suffix}店",
                           "city": city, "region": region, "opened_at": opened.isoformat()})
        return stores

    def _make_products(self, rng: random.Random, count: int) -> list[dict]:
        kinds = [(category, kind) for category, kinds in CATALOG for kind in kinds]
        products = []
        for index in range(count):
            category, kind = kinds[index % len(kinds)]
            line, short = PRODUCT_LINES[(index // len(kinds) + index) % len(PRODUCT_LINES)]
            model = f"{'ABCDEFGHKMS'[rng.randrange(11)]}{rng.randint(1, 9)}"
            launched = date(2021, 1, 1) + timedelta(days=rng.randrange(4 * 365))
            products.append({"product_sku": f"SKU-{1001 + index}", "product_name": f"{BRAND}{short}{kind} {model}",
                             "category": category, "product_line": line, "launched_at": launched.isoformat()})
        return products

    # --- helpers used by every source --------------------------------------------------------
    def person_id(self, person: int) -> str:
        self.population.used[person] = 1
        return f"P{person + 1:07d}"

    def anonymous_person_id(self, code: str) -> str:
        self.anonymous_persons += 1
        return f"A{code}{self.anonymous_persons:07d}"

    def log_bad(self, source: str, relpath: str, line: int, record_id, kind: str, field_name: str) -> None:
        reason = f"{kind}:{field_name.split('.')[-1]}" if field_name else kind
        self.bad_log.writerow((source, relpath, line, "" if record_id is None else record_id, kind, field_name, reason))

    def close(self) -> None:
        self._bad_handle.close()

    @staticmethod
    def key(epoch: int) -> str:
        return month_key(epoch)
