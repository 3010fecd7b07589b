"""What every feedback source generator shares: person choice, writing, bad lines, forced coverage."""

from __future__ import annotations

import copy
import json
import random

from devtools.demo.context import Context, SourceStats
from devtools.demo.noise import TsStyler, month_key
from devtools.demo.phrases import ALL_TAGS, PHRASE_BANK
from devtools.demo.writers import LandingFiles

BAD_TIMESTAMPS = ("昨天下午三点", "2026-13-45 25:61:00", "not a date", "0000-00-00 00:00:00",
                  "2026-02-30T10:00:00+08:00", "下周一", "12/31/2026 25:00")
OUT_OF_RANGE = {"nps": (11, -1, 15, 100), "csat": (0, 6, 10), "ces": (0, 8, 9), "rating": (0, 6, 10, -1)}
WRONG_TYPES = {
    "nps": ("九分", "满分", "十"), "csat": ("满意", "很好"), "ces": ("容易", "一般"),
    "rating": ("五星", "好评"), "reposts": ("1.2万", "很多"), "messages": ("客户来电咨询，详见录音",),
    "consent_analytics": ("是", "同意"),
}
INVALID_JSON_TAILS = ("<html><body><h1>502 Bad Gateway</h1></body></html>", "Traceback (most recent call last):")


class FeedbackSource:
    """Base of the per-source generators (class attributes name the source)."""

    folder = ""          # landing folder and summary key, e.g. "surveys"
    truth_source = ""    # `source` value in the truth file / marts, e.g. "survey"
    code = ""            # one letter for anonymous person ids
    id_field = ""

    def __init__(self, ctx: Context, n_items: int):
        self.ctx = ctx
        self.n_items = n_items
        self.rng = random.Random(f"{ctx.seed}:{self.folder}")
        self.stats = SourceStats()
        self.ts = TsStyler()

    # --- persons ------------------------------------------------------------------------------
    def choose_person(self, member_share: float, nonmember_share: float) -> int | None:
        """A member, a non-member with identifiers, or None for an anonymous one-off person."""
        roll = self.rng.random()
        if roll < member_share:
            return self.ctx.population.pick_member(self.rng)
        if roll < member_share + nonmember_share:
            return self.ctx.population.pick_nonmember(self.rng)
        return None

    def person_id(self, person: int | None) -> str:
        return self.ctx.anonymous_person_id(self.code) if person is None else self.ctx.person_id(person)

    def forced_primary(self, index: int, sentiment: str, primary: str | None, positive_first: bool):
        """The first 33 items of a source walk through every tag, so small runs still cover all tags."""
        if index >= len(ALL_TAGS):
            return sentiment, primary
        tag = ALL_TAGS[index]
        wanted = "positive" if positive_first else "negative"
        if wanted == "positive" and not PHRASE_BANK[tag].get("pos"):
            wanted = "negative"
        return wanted, tag

    # --- writing ------------------------------------------------------------------------------
    def write(self, files: LandingFiles, epoch: int, record, *, new: bool, key: str | None = None) -> tuple[str, int]:
        """Write one valid line; `new` is False for a later version / duplicate of an id."""
        location = files.write(key or month_key(epoch), record)
        self.stats.lines_written += 1
        if new:
            self.stats.records_valid_unique += 1
        else:
            self.stats.duplicate_lines += 1
        return location

    def write_bad(self, files: LandingFiles, epoch: int, kind: tuple[str, str], csv_mode: bool = False,
                  key: str | None = None) -> None:
        """Write one bad line of the given (kind, field) near `epoch` and log it in bad_records.csv."""
        record = self.bad_template(epoch, csv_mode)
        payload, record_id = corrupt(self.rng, kind, record, self.id_field, csv_mode)
        relpath, line = files.write(key or month_key(epoch), payload)
        self.stats.lines_written += 1
        self.stats.bad_records += 1
        self.stats.bad_by_kind[reason_code(*kind)] += 1
        self.ctx.log_bad(self.folder, relpath, line, record_id, kind[0], kind[1])

    def bad_template(self, epoch: int, csv_mode: bool = False) -> dict:
        """A plausible record with a fresh id that a bad line is made from (overridden per source)."""
        raise NotImplementedError


def reason_code(kind: str, field_path: str) -> str:
    """The quarantine reason the shared spec expects: kind, plus the field (leaf name) if any."""
    return f"{kind}:{field_path.split('.')[-1]}" if field_path else kind


def strictly_increasing(events: list[tuple[int, dict]]) -> list[tuple[int, dict]]:
    """Sort (time, changes) events and nudge equal times apart: versions of a record never tie."""
    result: list[tuple[int, dict]] = []
    for at, changes in sorted(events, key=lambda e: e[0]):
        if result and at <= result[-1][0]:
            at = result[-1][0] + 1
        result.append((at, changes))
    return result


def set_path(record: dict, dotted: str, value) -> None:
    """Set record['a']['b'] for 'a.b' (creating the dict when missing)."""
    *parents, leaf = dotted.split(".")
    target = record
    for name in parents:
        target = target.setdefault(name, {})
        if not isinstance(target, dict):
            return
    target[leaf] = value


def corrupt(rng: random.Random, kind: tuple[str, str], record: dict, id_field: str, csv_mode: bool):
    """Turn a good record into a bad line. Returns (payload, record id a loader could still read)."""
    name, field_name = kind
    record = copy.deepcopy(record)
    record_id = record.get(id_field)
    if name == "invalid_json":
        text = json.dumps(record, ensure_ascii=False)
        roll = rng.random()
        if roll < 0.4:
            return text[: max(10, len(text) * 2 // 3)], None
        if roll < 0.6:
            return str(record), None  # python repr: single quotes, None
        if roll < 0.8:
            return text[:-1] + ",}", None
        return rng.choice(INVALID_JSON_TAILS), None
    if name == "not_an_object":
        return rng.choice((json.dumps([record_id, "export"], ensure_ascii=False), "null", '"ok"', "42")), None
    if name == "missing_id":
        if csv_mode:
            record[id_field] = ""
        elif rng.random() < 0.7:
            record.pop(id_field, None)
        else:
            record[id_field] = None
        return (record, None)
    leaf = field_name.split(".")[-1]
    if name == "bad_timestamp":
        set_path(record, field_name, rng.choice(BAD_TIMESTAMPS))
    elif name == "out_of_range":
        set_path(record, field_name, rng.choice(OUT_OF_RANGE[leaf]))
    elif name == "wrong_type":
        set_path(record, field_name, rng.choice(WRONG_TYPES[leaf]))
    else:
        raise ValueError(name)
    return record, record_id
