"""`generate()`: write demo landing files for all six sources plus the ground truth."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

from devtools.demo.context import BRAND, BRAND_ACCOUNT, Context, SourceStats
from devtools.demo.members import MemberGenerator
from devtools.demo.noise import iso_local
from devtools.demo.reviews import ReviewGenerator
from devtools.demo.signals import SIGNALS_TRUTH
from devtools.demo.social import SocialGenerator
from devtools.demo.surveys import SurveyGenerator
from devtools.demo.tickets import TicketGenerator
from loaders.families import FAMILIES
from orchestration.settings import DEMO_MARKER_NAME

SOURCES = FAMILIES  # one landing folder per source family
TRUTH_DIR = "_truth"
# Share of `rows` per source; reviews include their append reviews (~15% of reviews).
SOURCE_SHARE = {"surveys": 0.30, "tickets": 0.15, "reviews": 0.35, "social": 0.20}
APPEND_RATE = 0.15


def generate(landing_dir: Path, rows: int = 20000, seed: int = 42, end_date: date = date(2026, 11, 15),
             days: int = 180, *, overwrite: bool | None = None, plant_signals: bool = True) -> dict:
    """Write demo data for all sources into landing_dir and return the summary dict.

    plant_signals=False leaves out every planted storyline (spike, burst, intervention effect,
    root-cause signals, and the key driver and closed-loop cases of devtools/demo/signals.py):
    data with no signal, to measure false alarms (docs/root-cause.md).

    Output is byte-identical for the same arguments. The generator owns the six source folders and
    `_truth/`: they are replaced when they hold a previous demo run (or when overwrite=True); when
    they hold anything else, FileExistsError is raised (unless overwrite=True).
    """
    if rows < 1 or days < 1:
        raise ValueError("rows and days must be positive")
    landing = Path(landing_dir)
    _prepare_landing(landing, overwrite)
    ctx = Context(landing, rows, seed, end_date, days, plant_signals=plant_signals)
    reference = _write_reference(ctx)
    members = MemberGenerator(ctx)
    members.run()
    n_reviews = max(1, round(rows * SOURCE_SHARE["reviews"] / (1 + APPEND_RATE)))
    generators = [
        SurveyGenerator(ctx, max(1, round(rows * SOURCE_SHARE["surveys"]))),
        TicketGenerator(ctx, max(1, round(rows * SOURCE_SHARE["tickets"]))),
        ReviewGenerator(ctx, n_reviews),
        SocialGenerator(ctx, max(1, round(rows * SOURCE_SHARE["social"]))),
    ]
    for generator in generators:
        generator.run()
    truth_stats = ctx.truth.finalize(landing / TRUTH_DIR / "feedback_truth.csv")
    ctx.close()

    stats = {g.folder: g.stats for g in generators} | {"members": members.stats, "reference": reference}
    surveys = generators[0]
    promoters, passives, detractors = surveys.nps_counts
    answered = promoters + passives + detractors
    pop = ctx.population
    n_persons = pop.n_members + sum(pop.used[pop.n_members:]) + ctx.anonymous_persons
    summary = {source: stats[source].as_summary() for source in SOURCES}
    summary.update({
        "nps": 100.0 * (promoters - detractors) / answered if answered else 0.0,
        "n_members": pop.n_members,
        "n_persons": n_persons,
        "seed": seed,
        "rows": rows,
    })
    manifest = {
        "seed": seed, "rows": rows, "start_date": ctx.window.start_date.isoformat(),
        "end_date": end_date.isoformat(), "days": days, "timezone": "Asia/Shanghai",
        "brand": BRAND, "brand_account": BRAND_ACCOUNT,
        "feedback_items": sum(stats[s].feedback_items for s in SOURCES),
        "files": {source: stats[source].files for source in SOURCES},
        "bad_records_by_kind": {source: dict(sorted(stats[source].bad_by_kind.items())) for source in SOURCES},
        "truth": truth_stats,
        "plant_signals": plant_signals,
        "scenarios": ctx.scenario.describe(),
        "identity_cases": _identity_cases(ctx),
        "stores": len(ctx.stores), "products": len(ctx.products),
    }
    truth_dir = landing / TRUTH_DIR
    _write_json(truth_dir / "summary.json", summary)
    _write_json(truth_dir / "manifest.json", manifest)
    _write_json(truth_dir / SIGNALS_TRUTH, ctx.signals.truth(ctx.ids, iso_local))
    mark_demo_landing(landing)
    return summary


def mark_demo_landing(landing: Path) -> None:
    """Mark the landing folder as demo data: the pipeline may pseudonymize it under the public
    demo key (orchestration.settings refuses that key on a folder without the marker)."""
    (landing / DEMO_MARKER_NAME).write_text(
        "Written by the VoC demo generator (python -m devtools generate). Delete this file if you\n"
        "put real exports here: real data needs a secret VOC_HASH_SALT.\n",
        encoding="utf-8",
    )


def is_unmarked_demo_landing(landing: Path) -> bool:
    """A landing folder this generator filled before it wrote markers (its ground truth is there)."""
    return (landing / TRUTH_DIR / "summary.json").is_file() and not (landing / DEMO_MARKER_NAME).is_file()


def _prepare_landing(landing: Path, overwrite: bool | None) -> None:
    owned = [landing / name for name in (*SOURCES, TRUTH_DIR)]
    occupied = [path for path in owned if path.is_dir() and any(path.iterdir())]
    if occupied:
        previous_demo = (landing / TRUTH_DIR / "summary.json").is_file()
        if overwrite is False or (overwrite is None and not previous_demo):
            names = ", ".join(p.name for p in occupied)
            raise FileExistsError(f"{landing} already holds data in {names}; pass overwrite=True to replace it")
        for path in occupied:
            shutil.rmtree(path)
    landing.mkdir(parents=True, exist_ok=True)


def _write_reference(ctx: Context) -> SourceStats:
    stats = SourceStats()
    folder = ctx.landing / "reference"
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (("stores", ctx.stores), ("products", ctx.products)):
        with open(folder / f"{name}.jsonl", "w", encoding="utf-8", newline="\n") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        stats.lines_written += len(rows)
        stats.records_valid_unique += len(rows)
        stats.files.append(f"reference/{name}.jsonl")
    return stats


def _identity_cases(ctx: Context, limit: int = 20) -> dict:
    """Where the identity edge cases are, for tests of the identity resolution."""
    pop, ids = ctx.population, ctx.ids
    return {
        "household_phones": {
            "count": len(pop.households),
            "examples": [{"phone": ids.phone(pop.phone[a]), "member_ids": [ids.member_id(a), ids.member_id(b)]}
                         for a, b in pop.households[:limit]]},
        "changed_phones": {
            "count": len(pop.changed_phones),
            "examples": [{"member_id": ids.member_id(m), "old_phone": ids.phone(pop.old_phone[m]),
                          "new_phone": ids.phone(pop.phone[m]), "changed_at": iso_local(pop.phone_changed_at[m])}
                         for m in pop.changed_phones[:limit]]},
        "changed_emails": {
            "count": len(pop.changed_emails),
            "examples": [{"member_id": ids.member_id(m), "old_email": ids.email(pop.old_email[m]),
                          "new_email": ids.email(pop.email[m])} for m in pop.changed_emails[:limit]]},
        "unionid_case_twins": {
            "count": len(pop.unionid_twins),
            "examples": [{"person_ids": [f"P{a + 1:07d}", f"P{b + 1:07d}"],
                          "unionids": [ids.unionid(pop.unionid[a]), ids.unionid(pop.unionid[b], True)]}
                         for a, b in pop.unionid_twins[:limit]]},
        "linked_nonmember": None if ctx.linked_nonmember is None else f"P{ctx.linked_nonmember + 1:07d}",
    }


def _write_json(path: Path, payload: dict) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        json.dump(payload, handle, ensure_ascii=False, indent=2)
        handle.write("\n")
