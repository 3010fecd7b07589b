"""Who the customers are: unique identifier spellings and a compact person model.

Identifiers are pure functions of integer serials through bijections, so two persons can only
share an identifier when the model says so (household phones/emails), never by accident. Person
attributes live in typed arrays (a few dozen bytes per person) so a million-row run stays small.
"""

from __future__ import annotations

import random
from array import array
from math import gcd

PHONE_PREFIXES = ("138", "139", "137", "136", "150", "151", "158", "186", "187", "188", "177", "199", "135", "182", "159")
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "sina.com", "foxmail.com", "hotmail.com")
PINYIN = (
    "zhangwei", "wangfang", "lina", "liuyang", "chenjing", "yangli", "zhaolei", "huangmin", "zhoujie", "wuxia",
    "xuqiang", "sunhao", "mayun", "zhutao", "huyan", "guoqing", "linfeng", "hejun", "gaoyuan", "luoxi",
    "tiantian", "xiaoyu", "amy", "jack", "lily", "kevin", "coco", "tony", "vivian", "leo",
)
SURNAMES = "张王李刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹"
GIVEN_NAMES = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "秀英", "霞",
    "平", "刚", "桂英", "婷", "晓东", "雪", "浩然", "子涵", "欣怡", "梓轩", "雨桐", "宇航", "思远", "佳怡",
)
NICK_ADJ = ("爱吃草莓的", "不想上班的", "快乐的", "努力搬砖的", "迷路的", "佛系", "暴躁的", "安静的", "会飞的", "早睡早起的",
            "熬夜的", "减肥中的", "追剧的", "天天向上的", "元气满满的")
NICK_NOUN = ("猫", "小鱼", "橘子", "打工人", "兔子", "大叔", "宝妈", "程序员", "奶茶", "咸鱼", "小熊", "少女")
TIERS = ("普通", "银卡", "金卡", "黑金")

# Platforms whose accounts a member can bind in the CRM (bit positions of Population.bound).
BINDABLE_PLATFORMS = ("jd", "tmall", "pdd", "weibo", "xiaohongshu", "douyin")
BIND_PROBABILITY = (0.30, 0.35, 0.10, 0.22, 0.15, 0.10)
ECOMMERCE_PLATFORMS = ("tmall", "jd", "pdd")
SOCIAL_PLATFORMS = ("weibo", "xiaohongshu", "douyin", "zhihu", "bilibili")
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
LOWER = "abcdefghijklmnopqrstuvwxyz"


def coprime_multiplier(modulus: int, start: int) -> int:
    """Smallest odd number >= start that is coprime with modulus (a bijection multiplier)."""
    candidate = start | 1
    while gcd(candidate, modulus) != 1:
        candidate += 2
    return candidate


def mix64(value: int) -> int:
    """A cheap deterministic 64-bit scramble (splitmix64 finalizer) for filler characters."""
    value = (value + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return value ^ (value >> 31)


def b64(value: int, width: int) -> str:
    """Fixed-width base64url-alphabet spelling of a non-negative integer."""
    chars = []
    for _ in range(width):
        chars.append(B64[value & 63])
        value >>= 6
    return "".join(chars)


class IdFactory:
    """Spells identifiers from integer serials; distinct serials give distinct identifiers."""

    GOLDEN = 0.6180339887498949

    def __init__(self, seed: int):
        self.salt = random.Random(f"{seed}:ids").randrange(1, 10**6)
        self._multipliers: dict[tuple[int, int], int] = {}

    def scatter(self, serial: int, modulus: int, stream: int) -> int:
        """A bijection of [0, modulus) that scatters consecutive serials (golden-ratio multiplier)."""
        multiplier = self._multipliers.get((modulus, stream))
        if multiplier is None:
            multiplier = coprime_multiplier(modulus, int(modulus * self.GOLDEN) + 2 * stream)
            self._multipliers[(modulus, stream)] = multiplier
        return (serial * multiplier + self.salt * (stream + 1)) % modulus

    def phone(self, serial: int) -> str:
        """11-digit mobile; the 8-digit suffix alone is unique per serial (< 1e8)."""
        prefix = PHONE_PREFIXES[(serial * 7 + self.salt) % len(PHONE_PREFIXES)]
        return f"{prefix}{self.scatter(serial, 10**8, 1):08d}"

    def email(self, serial: int) -> str:
        """Lower-case email; the digit run embedded in the local part is unique per serial (< 1e7)."""
        number = self.scatter(serial, 10**7, 2)
        domain = EMAIL_DOMAINS[(serial * 3 + self.salt) % len(EMAIL_DOMAINS)]
        if domain == "qq.com":
            return f"{number + 10**7}@qq.com"
        name = PINYIN[(serial * 31 + self.salt) % len(PINYIN)]
        style = serial % 3
        local = f"{name}{number}" if style == 0 else f"{name}.{number}" if style == 1 else f"{name}_{number}"
        return f"{local}@{domain}"

    def unionid(self, serial: int, twin: bool = False) -> str:
        """28-char WeChat UnionID. Position 1 is lower case for everybody except 'twins', whose id
        equals another person's id with that one letter upper-cased: case-sensitive matching must
        keep them apart."""
        core = b64(self.scatter(serial, 2**60, 3), 10)
        head = b64(mix64(serial * 977 + self.salt), 6)
        tail = b64(mix64(serial * 983 + self.salt + 1), 10)
        letter = LOWER[(serial * 7 + self.salt) % 26]
        return "o" + (letter.upper() if twin else letter) + head + core + tail

    def member_id(self, member_index: int) -> str:
        return f"M{member_index + 1:07d}"

    def account(self, platform: str, person: int) -> str:
        """The person's account id on a platform (the same person always has the same one)."""
        filler = mix64(person * 131 + self.salt + len(platform))
        if platform == "jd":
            return f"jd_{self.scatter(person, 16**8, 10):08x}"
        if platform == "tmall":
            return f"tb{self.scatter(person, 10**10, 11):010d}"
        if platform == "pdd":
            return f"pdd_{self.scatter(person, 10**9, 12):09d}"
        if platform == "weibo":
            return str(5_000_000_000 + self.scatter(person, 2 * 10**9, 13))
        if platform == "xiaohongshu":
            return f"5f{self.scatter(person, 16**10, 14):010x}{filler & 0xFFFFFFFFFFFF:012x}"
        if platform == "douyin":
            return "MS4wLjABAAAA" + b64(self.scatter(person, 2**60, 15), 10) + b64(filler, 6)
        if platform == "zhihu":
            return f"{filler:016x}{self.scatter(person, 16**16, 16):016x}"
        if platform == "bilibili":
            return str(10_000_000 + self.scatter(person, 10**9, 17))
        if platform == "app_store":
            return f"as_{self.scatter(person, 16**12, 18):012x}"
        if platform == "android_market":
            return f"am_{self.scatter(person, 16**12, 19):012x}"
        raise ValueError(f"unknown platform {platform}")

    def person_name(self, name_index: int) -> str:
        return SURNAMES[name_index % len(SURNAMES)] + GIVEN_NAMES[(name_index // len(SURNAMES)) % len(GIVEN_NAMES)]

    def nickname(self, person: int, platform: str) -> str:
        """Social nickname: drawn from a small pool, so different persons often share one."""
        value = mix64(person * 7 + len(platform) + self.salt)
        name = NICK_ADJ[value % len(NICK_ADJ)] + NICK_NOUN[(value >> 8) % len(NICK_NOUN)]
        return name if (value >> 16) % 3 else f"{name}{(value >> 20) % 100}"


class Population:
    """All identified persons. Members are persons 0..n_members-1, non-members follow.

    Phones/emails are serials into IdFactory (-1 = none). A member who changed phone has
    old_phone != -1 and phone_changed_at (epoch): earlier feedback shows the old number.
    Households: two members share a phone serial (and sometimes an email serial).
    """

    def __init__(self, rng: random.Random, n_members: int, n_nonmembers: int, window_start: int, window_end: int,
                 n_stores: int):
        self.n_members = n_members
        self.n_persons = n = n_members + n_nonmembers
        self.window_start, self.window_end = window_start, window_end
        none = [-1] * n
        zero = [0] * n
        self.phone = array("q", none)
        self.old_phone = array("q", none)
        self.phone_changed_at = array("q", zero)
        self.email = array("q", none)
        self.old_email = array("q", none)
        self.email_changed_at = array("q", zero)
        self.unionid = array("q", none)
        self.unionid_twin = bytearray(n)
        self.bound = array("H", zero)
        self.bound_added = array("b", none)  # platform index bound during the window
        self.bound_added_at = array("q", zero)
        self.name = array("H", zero)
        self.registered_at = array("q", zero)
        self.tier = bytearray(n)
        self.tier_upgraded_at = array("q", zero)
        self.home_store = array("H", zero)
        self.consent = bytearray(n)
        self.household = array("q", none)
        self.used = bytearray(n)  # 1 once the person appears in a valid record
        self.households: list[tuple[int, int]] = []
        self.changed_phones: list[int] = []
        self.changed_emails: list[int] = []
        self.unionid_twins: list[tuple[int, int]] = []
        self._build(rng, n_stores)
        self._member_perm = _permutation(n_members, 0x9E37)
        self.reserved: set[int] = set()  # members kept out of the random feedback (planted storylines)
        self._nonmember_perm = _permutation(max(n_nonmembers, 1), 0x85EB)

    def _build(self, rng: random.Random, n_stores: int) -> None:
        span = self.window_end - self.window_start
        old_serial = self.n_persons  # serials for previous phones/emails follow the persons' own
        for person in range(self.n_persons):
            is_member = person < self.n_members
            self.name[person] = _common_name_index(rng)
            if rng.random() < (0.92 if is_member else 0.7):
                self.phone[person] = person
            if rng.random() < (0.45 if is_member else 0.35):
                self.email[person] = person
            if rng.random() < (0.6 if is_member else 0.35):
                self.unionid[person] = person
            if not is_member:
                continue
            bits = 0
            for index, probability in enumerate(BIND_PROBABILITY):
                if rng.random() < probability:
                    bits |= 1 << index
            self.bound[person] = bits
            self.home_store[person] = rng.randrange(n_stores)
            self.consent[person] = 1 if rng.random() < 0.85 else 0
            tier_roll = rng.random()
            self.tier[person] = 0 if tier_roll < 0.55 else 1 if tier_roll < 0.8 else 2 if tier_roll < 0.95 else 3
            if rng.random() < 0.85:
                self.registered_at[person] = self.window_start - rng.randrange(30 * 86400, 6 * 365 * 86400)
            else:
                self.registered_at[person] = self.window_start + rng.randrange(int(span * 0.9))
            reg = self.registered_at[person]
            if self.tier[person] > 0 and rng.random() < 0.07:
                self.tier_upgraded_at[person] = max(reg, self.window_start) + rng.randrange(max(span // 2, 1))
            unbound = [i for i in range(len(BINDABLE_PLATFORMS)) if not bits >> i & 1]
            if unbound and rng.random() < 0.05:
                self.bound_added[person] = rng.choice(unbound)
                self.bound_added_at[person] = max(reg, self.window_start) + rng.randrange(max(span // 2, 1))
        self._pair_households(rng)
        for person in range(self.n_members):
            if self.household[person] != -1:
                continue
            forced = len(self.changed_phones) < 2 and person >= 4
            if self.phone[person] != -1 and (forced or rng.random() < 0.03):
                self.old_phone[person] = old_serial
                old_serial += 1
                self.phone_changed_at[person] = self._change_time(rng, person)
                self.changed_phones.append(person)
            elif self.email[person] != -1 and rng.random() < 0.015:
                self.old_email[person] = old_serial
                old_serial += 1
                self.email_changed_at[person] = self._change_time(rng, person)
                self.changed_emails.append(person)
        for person in range(1, self.n_persons):
            base = person - 1
            if (self.unionid[base] != -1 and not self.unionid_twin[base] and self.unionid[person] != -1
                    and (not self.unionid_twins or rng.random() < 0.004)):
                self.unionid[person] = self.unionid[base]
                self.unionid_twin[person] = 1
                self.unionid_twins.append((base, person))

    def _pair_households(self, rng: random.Random) -> None:
        for person in range(1, self.n_members):
            partner = person - 1
            if self.household[partner] != -1 or self.phone[partner] == -1:
                continue
            if len(self.households) < 2 or rng.random() < 0.03:
                self.phone[person] = self.phone[partner]
                self.household[person], self.household[partner] = partner, person
                if rng.random() < 0.3:
                    if self.email[partner] == -1:
                        self.email[partner] = partner
                    self.email[person] = self.email[partner]
                self.households.append((partner, person))

    def _change_time(self, rng: random.Random, person: int) -> int:
        """A change inside the middle of the window, after registration."""
        span = self.window_end - self.window_start
        earliest = max(self.window_start + span // 4, self.registered_at[person] + 86400)
        latest = max(self.window_start + 3 * span // 4, earliest + 3600)
        return earliest + rng.randrange(latest - earliest)

    # --- feedback-time views ------------------------------------------------------------------
    def phone_at(self, person: int, epoch: int) -> int:
        """Phone serial in use at that time (-1 = none)."""
        if self.old_phone[person] != -1 and epoch < self.phone_changed_at[person]:
            return self.old_phone[person]
        return self.phone[person]

    def email_at(self, person: int, epoch: int) -> int:
        if self.old_email[person] != -1 and epoch < self.email_changed_at[person]:
            return self.old_email[person]
        return self.email[person]

    def is_member_at(self, person: int, epoch: int) -> bool:
        return person < self.n_members and self.registered_at[person] <= epoch

    def bound_platforms(self, person: int, epoch: int | None = None) -> list[str]:
        """Platforms the member has bound (optionally as of a time)."""
        if person >= self.n_members:
            return []
        bits = self.bound[person]
        result = [p for i, p in enumerate(BINDABLE_PLATFORMS) if bits >> i & 1]
        added = self.bound_added[person]
        if added != -1 and (epoch is None or epoch >= self.bound_added_at[person]):
            result.append(BINDABLE_PLATFORMS[added])
        return result

    def pick_member(self, rng: random.Random) -> int:
        """A member, skewed so that some members give feedback often (never a reserved one)."""
        k = int(self.n_members * rng.random() ** 1.5)
        person = self._member_perm(k)
        while person in self.reserved:  # the next one in the order: no extra random draw
            k = (k + 1) % self.n_members
            person = self._member_perm(k)
        return person

    def reserve(self, persons) -> None:
        """Keep these members out of pick_member (a storyline writes their feedback itself)."""
        if len(self.reserved | set(persons)) >= self.n_members:
            raise ValueError("cannot reserve every member")
        self.reserved.update(persons)

    def pick_nonmember(self, rng: random.Random) -> int:
        n = self.n_persons - self.n_members
        return self.n_members + self._nonmember_perm(int(n * rng.random() ** 1.3))


def _permutation(size: int, start: int):
    multiplier = coprime_multiplier(size, start) if size > 1 else 1
    offset = start % size if size else 0
    return lambda k: (k * multiplier + offset) % size


def _common_name_index(rng: random.Random) -> int:
    """Name index: a quarter of persons get one of a handful of very common names (张伟, 王芳...)."""
    if rng.random() < 0.25:
        return rng.randrange(6) + len(SURNAMES) * rng.randrange(2)
    return rng.randrange(len(SURNAMES) * len(GIVEN_NAMES))
