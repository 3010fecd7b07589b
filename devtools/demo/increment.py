"""`add_increment()`: a later day of exports on top of a generated demo landing folder.

A nightly run sees a little new data: brand-new feedback plus new versions of feedback it already
holds (a ticket that progressed, a survey answer that was edited, a review that got its 追评 or a
seller reply, a post whose engagement grew). This module writes such a day as NEW landing files,
so the loaders (which skip files they already loaded, by sha256) pick up exactly the increment.
Existing files are never opened for writing.

* New records come from the generator's own per-source code (`_item`) driven by a `Context`
  rebuilt from the landing's `_truth/manifest.json`: the same seed and size give the same
  population, stores and products, so new feedback references the same members and identifiers
  with the same realistic text, mess and bad lines as the original run.
* Changed records are existing records (picked by a seeded hash of their id) re-exported with a
  version time on the increment day, which is later than every version already in the landing.

Each call takes the next day after the generated window (or after the previous increment), names
its files like the generator's but with that date (`surveys/surveys_2026-11-16_p01.jsonl`), and
appends what it wrote to `_truth/increments.json`. The ground truth of the original run
(`feedback_truth.csv`, `summary.json`) is left as generated.
"""

from __future__ import annotations

import hashlib
import json
import random
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

from devtools.demo.base import FeedbackSource
from devtools.demo.context import BadPlanner, Context, Window
from devtools.demo.generator import TRUTH_DIR
from devtools.demo.phrases import AGENT_CLOSINGS, AGENT_REPLIES, SELLER_REPLIES_NEGATIVE, SELLER_REPLIES_POSITIVE, TICKET_FOLLOWUPS
from devtools.demo.reviews import APPEND_PREFIXES, ReviewGenerator
from devtools.demo.social import SocialGenerator
from devtools.demo.surveys import CSV_COLUMNS, SURVEY_TYPES, SurveyGenerator
from devtools.demo.text import compose, phrase
from devtools.demo.tickets import TicketGenerator
from devtools.demo.writers import LandingFiles
from loaders.families import FEEDBACK_FAMILIES

INCREMENTS_FILE = "increments.json"
# Indexes passed to the generators' `_item` start here: below it they force tag coverage,
# identity edge cases and the one very long text, which belong to the original run only.
FIRST_FREE_INDEX = 1000
# Reviews and social posts get their ids from a bijection of a counter; the original run uses
# counters 1..(items + bad lines), so increments take counters from here on (each its own block).
COUNTER_BASE = 1_000_000_000
COUNTER_BLOCK = 10_000_000
MAX_RECORDS_PER_FILE = 25_000


@dataclass
class FamilyIncrement:
    """What one call wrote for one feedback family."""

    new: int = 0                  # brand-new valid records (distinct ids)
    changed: int = 0              # existing records re-exported with a later version
    new_feedback_items: int = 0   # feedback items the marts gain (new records, plus new 追评 on changed reviews)
    bad_lines: int = 0            # quarantine-bound lines among the new ones, as in the original run
    files: list[str] = field(default_factory=list)
    changed_ids: list[str] = field(default_factory=list)


class IncrementFiles(LandingFiles):
    """Landing files of one increment day: every record goes to `<name>_<day>_pNN.<ext>`.

    The generator keys files by month, which would reopen (and truncate) the original run's
    files; here the key is the increment's date and a file that already exists is an error.
    Remembers the ids of the dict records it wrote, so callers can check them.
    """

    def __init__(self, landing: Path, source: str, day_key: str, id_field: str, **kwargs):
        super().__init__(landing, source, max_records=MAX_RECORDS_PER_FILE, **kwargs)
        self.day_key = day_key
        self.id_field = id_field
        self.written_ids: list[str] = []
        clash = sorted((landing / source).glob(f"{self.name}_{day_key}_p*"))
        if clash:
            raise FileExistsError(f"increment files for {day_key} already exist: {clash[0]}")

    def write(self, key: str, record) -> tuple[str, int]:
        if isinstance(record, dict) and record.get(self.id_field) not in (None, ""):
            self.written_ids.append(str(record[self.id_field]))
        return super().write(self.day_key, record)


# --- reading the landing folder -------------------------------------------------------------------


def _family_lines(landing: Path, family: str):
    """(is_csv, parsed value) of every line of the family's files, with the loaders' readers."""
    from loaders.files.readers import discover_files, is_csv_name, is_jsonl_name, read_csv_rows, read_jsonl_lines

    accepts = (lambda name: is_jsonl_name(name) or is_csv_name(name)) if family == "surveys" else is_jsonl_name
    for path in discover_files(landing / family, accepts, root=landing):
        as_csv = is_csv_name(path.name)
        for line in (read_csv_rows(path) if as_csv else read_jsonl_lines(path)):
            yield as_csv, line.value


def _record_id(value, id_field: str) -> str | None:
    if not isinstance(value, dict):
        return None
    raw = value.get(id_field)
    if isinstance(raw, bool) or raw is None:
        return None
    text = str(raw).strip()
    return text or None


def _selection_key(seed: str, record_id: str) -> bytes:
    return hashlib.blake2b(f"{seed}:{record_id}".encode(), digest_size=8).digest()


@dataclass
class _Existing:
    ids: set[str]
    max_serial: int  # largest numeric part of the ids (survey R-nnnnnnn, ticket ids), 0 otherwise


def _scan_ids(landing: Path, family: str, id_field: str) -> _Existing:
    """Every record id in the family's files (valid or not: a bad line's id is taken too)."""
    ids: set[str] = set()
    max_serial = 0
    for _, value in _family_lines(landing, family):
        record_id = _record_id(value, id_field)
        if record_id is None:
            continue
        ids.add(record_id)
        digits = record_id[2:] if record_id.startswith("R-") else record_id
        if digits.isdigit():
            max_serial = max(max_serial, int(digits))
    return _Existing(ids, max_serial)


def _newest_versions(landing: Path, family: str, spec, wanted: set[str]) -> dict[str, tuple[bool, dict]]:
    """For each wanted id, the newest valid version as (is_csv, record as written in the file)."""
    from loaders.contracts import VERSION_COLUMN
    from loaders.validation import Rejected, validate_record, validate_survey_csv_row

    newest: dict[str, tuple] = {}
    for as_csv, value in _family_lines(landing, family):
        record_id = _record_id(value, spec.id_field)
        if record_id not in wanted:
            continue
        result = validate_survey_csv_row(value) if as_csv else validate_record(spec, value)
        if isinstance(result, Rejected) or result[VERSION_COLUMN] is None:
            continue
        previous = newest.get(record_id)
        if previous is None or result[VERSION_COLUMN] >= previous[0]:
            newest[record_id] = (result[VERSION_COLUMN], as_csv, value)
    return {record_id: (as_csv, value) for record_id, (_, as_csv, value) in newest.items()}


# --- the increment day ----------------------------------------------------------------------------


def _read_json(path: Path, default):
    if not path.is_file():
        return default
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _increment_day(manifest: dict, log: list) -> date:
    """The day after the generated window, or after the latest increment."""
    days = [date.fromisoformat(manifest["end_date"])] + [date.fromisoformat(entry["date"]) for entry in log]
    return max(days) + timedelta(days=1)


class _Increment:
    """One increment day for one landing folder: shared context, per-family writers."""

    def __init__(self, landing: Path, scratch: Path, manifest: dict, day: date, number: int, seed: int):
        self.landing = landing
        self.day_key = day.isoformat()
        self.number = number
        self.seed = seed
        # The same arguments as the original run rebuild the same population, stores and products;
        # its truth and bad-line logs go to the scratch folder, not into the landing's _truth/.
        self.ctx = Context(scratch, manifest["rows"], manifest["seed"], date.fromisoformat(manifest["end_date"]),
                           manifest["days"])
        # New feedback and every new version fall on the increment day (later versions of new
        # tickets and reviews are cut at its end, as the generator cuts them at the window's end).
        self.ctx.window = Window(day, 1)

    def close(self) -> None:
        self.ctx.close()

    def rng(self, family: str, purpose: str) -> random.Random:
        return random.Random(f"{self.seed}:increment:{self.number}:{family}:{purpose}")

    # --- new records ------------------------------------------------------------------------------
    def new_records(self, family: str, count: int, existing: _Existing) -> tuple[FeedbackSource, list[IncrementFiles]]:
        """Write `count` brand-new items with the family's generator; returns it and its files."""
        generator = self._generator(family, count, existing)
        files = self._attach_files(generator, family)
        for index, epoch in enumerate(self.ctx.window.timeline(generator.rng, count)):
            generator._item(FIRST_FREE_INDEX + index, epoch)
        clash = [record_id for f in files for record_id in f.written_ids if record_id in existing.ids]
        if clash:
            raise RuntimeError(f"{family}: new records reuse existing ids, e.g. {clash[0]}")
        return generator, files

    def _generator(self, family: str, count: int, existing: _Existing) -> FeedbackSource:
        ctx = self.ctx
        if family == "surveys":
            generator = SurveyGenerator(ctx, count)
            generator.next_id = existing.max_serial + 1
        elif family == "tickets":
            generator = TicketGenerator(ctx, count)
            generator.next_id = existing.max_serial + 1
        elif family == "reviews":
            generator = ReviewGenerator(ctx, count)
            generator.counter = COUNTER_BASE + self.number * COUNTER_BLOCK
        else:
            generator = SocialGenerator(ctx, count)
            generator.counter = COUNTER_BASE + self.number * COUNTER_BLOCK
        generator.rng = self.rng(family, "new")
        return generator

    def _attach_files(self, generator: FeedbackSource, family: str) -> list[IncrementFiles]:
        """Give the generator increment-day files and bad-line planners (what its `run` would set up)."""
        id_field = generator.id_field
        if family == "surveys":
            generator.json_files = IncrementFiles(self.landing, family, self.day_key, id_field, gzip_every=3)
            generator.csv_files = IncrementFiles(self.landing, family, self.day_key, id_field, fmt="csv",
                                                 name="surveys_export", csv_columns=CSV_COLUMNS)
            generator.bad_json = BadPlanner(SurveyGenerator.JSON_BAD, int(generator.n_items * 0.75))
            generator.bad_csv = BadPlanner(SurveyGenerator.CSV_BAD, int(generator.n_items * 0.3))
            return [generator.json_files, generator.csv_files]
        rates = {"tickets": 0.022, "reviews": 0.0085, "social": 0.0077}
        extra = {"ascii_every": 4} if family == "social" else {}
        generator.files = IncrementFiles(self.landing, family, self.day_key, id_field, gzip_every=3, **extra)
        generator.bad = BadPlanner(type(generator).BAD, generator.n_items, rate=rates[family])
        return [generator.files]

    # --- changed records --------------------------------------------------------------------------
    def change_records(self, family: str, generator: FeedbackSource, files: list[IncrementFiles], count: int,
                       existing: _Existing, result: FamilyIncrement) -> None:
        """Re-export `count` existing records with a version on the increment day."""
        from loaders.contracts import RECORD_SPECS

        spec = RECORD_SPECS[family]
        selection_seed = f"{self.seed}:{self.number}:{family}"
        # a few spare candidates: an id seen only on bad lines has no valid version to change
        candidates = sorted(existing.ids, key=lambda record_id: _selection_key(selection_seed, record_id))
        candidates = candidates[: 2 * count + 20]
        newest = _newest_versions(self.landing, family, spec, set(candidates))
        chosen = [record_id for record_id in candidates if record_id in newest][:count]
        rng = self.rng(family, "changed")
        times = sorted(self.ctx.window.timeline(rng, len(chosen)))
        change = getattr(self, f"_change_{family}")
        for record_id, at in zip(chosen, times):
            as_csv, record = newest[record_id]
            version, gained_items = change(generator, rng, dict(record), at, as_csv)
            target = files[1] if as_csv else files[0]
            target.write(self.day_key, version)
            result.changed_ids.append(record_id)
            result.new_feedback_items += gained_items
        result.changed = len(chosen)

    def _change_surveys(self, generator: SurveyGenerator, rng, record: dict, at: int, as_csv: bool):
        """The respondent edited the answer: new scores, and a rewritten comment if there was one."""
        survey_type = next((t for t in SURVEY_TYPES if t[0] == record.get("survey_id")), SURVEY_TYPES[0])
        sentiment = rng.choice(("positive", "negative", "neutral"))
        answers = record if as_csv else dict(record.get("answers") or {})
        for question in ("nps", "csat", "ces"):
            if answers.get(question) not in (None, ""):
                score = generator._score(question, sentiment)
                answers[question] = "" if as_csv and score is None else score
        comment = answers.get("comment")
        if isinstance(comment, str) and comment.strip():
            composed = compose(rng, self.ctx.samplers[survey_type[3]], sentiment)
            answers["comment"] = generator.decorate(rng, composed.text, sentiment=composed.sentiment)
        if not as_csv:
            record["answers"] = answers
        record["updated_at"] = generator.ts(rng, at)
        return record, 0

    def _change_tickets(self, generator: TicketGenerator, rng, record: dict, at: int, as_csv: bool):
        """The ticket moved on: answered, solved, closed, or reopened by the customer."""
        messages = list(record.get("messages") or []) if isinstance(record.get("messages"), list) else []
        status = record.get("status")
        ts = generator.ts
        if status == "new":
            team = record.get("assignee_team") or "客服一组"
            record.update(status="open", first_response_at=ts(rng, at), assignee_team=team,
                          assignee=record.get("assignee") or f"agent_{rng.randint(1, 60):03d}")
            messages += [generator._message(at - 30, "system", f"工单已分配给 {team}"),
                         generator._message(at, "agent", rng.choice(AGENT_REPLIES))]
        elif status in ("open", "pending"):
            record.update(status="solved", solved_at=ts(rng, at))
            messages += [generator._message(at - 60, "agent", rng.choice(AGENT_CLOSINGS)),
                         generator._message(at, "system", "工单状态变更为 solved")]
        elif rng.random() < 0.5:
            # the customer is not satisfied: a new complaint reopens the ticket (new customer text)
            record.update(status="open", solved_at=None)
            complaint = phrase(rng, "客户服务-问题解决", "neg") + rng.choice(("！", "。", "！！！"))
            messages += [generator._message(at, "customer", complaint),
                         generator._message(at + 5, "system", "工单已重新打开")]
        elif status == "solved":
            record["status"] = "closed"
            messages.append(generator._message(at, "system", "工单已关闭"))
        else:
            messages.append(generator._message(at, "customer", rng.choice(TICKET_FOLLOWUPS)))
        record["messages"] = messages
        record["updated_at"] = ts(rng, at)
        return record, 0

    def _change_reviews(self, generator: ReviewGenerator, rng, record: dict, at: int, as_csv: bool):
        """The buyer adds a 追评 (a new feedback item), or the seller replies when there is one."""
        append = record.get("append_content")
        gained = 0
        if not (isinstance(append, str) and append.strip()):
            sentiment = rng.choice(("negative", "negative", "positive", "neutral"))
            composed = compose(rng, self.ctx.samplers["review_append"], sentiment)
            record["append_content"] = rng.choice(APPEND_PREFIXES) + generator.decorate(
                rng, composed.text, sentiment=composed.sentiment)
            record["append_at"] = generator.ts(rng, at)
            gained = 1
        else:
            rating = record.get("rating")
            negative = isinstance(rating, int) and rating <= 3
            record["seller_reply"] = rng.choice(SELLER_REPLIES_NEGATIVE if negative else SELLER_REPLIES_POSITIVE)
        record["modified_at"] = generator.ts(rng, at)
        return record, gained

    def _change_social(self, generator: SocialGenerator, rng, record: dict, at: int, as_csv: bool):
        """A later crawl of the post: engagement grew (posts cannot be edited)."""
        for name, factor in (("likes", 2), ("comments", 2), ("reposts", 2)):
            value = record.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                record[name] = value * factor + rng.randrange(1, 20)
        record["updated_at"] = generator.ts(rng, at)
        return record, 0


def add_increment(landing_dir: Path, share: float = 0.01, seed: int | None = None) -> dict[str, dict]:
    """Write one increment day into `landing_dir` (a folder `generate()` filled) and return its counts.

    Per feedback family about `share` x (records already in the landing) records: half brand-new,
    half new versions of existing records. Returns `{family: {"new", "changed", "new_feedback_items",
    "bad_lines", "files", "changed_ids"}}` (also appended to `_truth/increments.json`).
    """
    if not 0 < share <= 1:
        raise ValueError("share must be in (0, 1]")
    landing = Path(landing_dir)
    truth = landing / TRUTH_DIR
    manifest = _read_json(truth / "manifest.json", None)
    if manifest is None:
        raise FileNotFoundError(f"{truth / 'manifest.json'} not found: generate demo data first")
    log = _read_json(truth / INCREMENTS_FILE, [])
    number = len(log) + 1
    day = _increment_day(manifest, log)
    seed = manifest["seed"] if seed is None else seed
    results: dict[str, FamilyIncrement] = {}
    with tempfile.TemporaryDirectory(prefix="voc-increment-") as scratch:
        increment = _Increment(landing, Path(scratch), manifest, day, number, seed)
        try:
            for family in FEEDBACK_FAMILIES:
                results[family] = _family_increment(increment, family, share)
        finally:
            increment.close()
    summary = {family: asdict(result) for family, result in results.items()}
    log.append({"date": day.isoformat(), "share": share, "seed": seed,
                "families": {family: {k: v for k, v in counts.items() if k != "changed_ids"}
                             for family, counts in summary.items()}})
    with open(truth / INCREMENTS_FILE, "w", encoding="utf-8", newline="\n") as handle:
        json.dump(log, handle, ensure_ascii=False, indent=2)
        handle.write("\n")
    return summary


def _family_increment(increment: _Increment, family: str, share: float) -> FamilyIncrement:
    from loaders.contracts import RECORD_SPECS

    existing = _scan_ids(increment.landing, family, RECORD_SPECS[family].id_field)
    total = max(2, round(share * len(existing.ids)))
    n_new = (total + 1) // 2
    result = FamilyIncrement()
    generator, files = increment.new_records(family, n_new, existing)
    result.new = generator.stats.records_valid_unique
    result.new_feedback_items = generator.stats.feedback_items
    result.bad_lines = generator.stats.bad_records
    increment.change_records(family, generator, files, total - n_new, existing, result)
    result.files = sorted(path for f in files for path in f.close())
    return result
