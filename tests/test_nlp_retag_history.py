"""Changing the taxonomy seed and re-running dbt re-tags every existing feedback item.

Builds the real dbt project (a temporary copy, so the repository's seed is untouched) on a tiny
warehouse whose only raw data is three social posts, then edits the copy's taxonomy seed the way
a business user would (a new keyword on one tag, a new tag, a removed tag) and rebuilds: the old
rows must carry the new tags in int_feedback__enriched and in the fct_feedback mart, without
the text analysis (cleaning, masking, sentiment, risks) running again, and with the rows a full
refresh gives. dbt runs in this process, so the UDFs' calls can be counted.
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.project import voc_dbt_project

pytestmark = pytest.mark.e2e

POSTS = [
    ("weibo:1", "这牌子成像糊成一片"),  # no default tag: 拍照 is a keyword of 产品质量-使用效果
    ("weibo:2", "物流太慢了，等了一周"),
    ("weibo:3", "客服态度很好"),
    ("weibo:4", "物流太慢了，等了一周"),  # the same words as weibo:2: analysed once
]
NEW_TAG = "产品体验-拍照效果"


def _copy_project(target: Path) -> Path:
    source = Path(voc_dbt_project.project_dir)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    return target


def _load_raw_posts(database: Path) -> None:
    with duckdb.connect(str(database)) as conn:
        conn.execute("create schema raw")
        conn.execute(
            """create table raw.social (post_id varchar, platform varchar, author__uid varchar,
            author__nickname varchar, author__followers bigint, author__verified boolean, text varchar,
            published_at timestamptz, url varchar, likes bigint, comments bigint, reposts bigint,
            is_repost boolean, _voc_file varchar, _voc_line bigint, _voc_updated_at timestamptz,
            _dlt_load_id varchar, _dlt_id varchar)"""
        )
        for line, (post_id, text) in enumerate(POSTS, start=1):
            conn.execute(
                "insert into raw.social values (?, 'weibo', ?, 'nick', 10, false, ?, '2026-11-01T10:00:00+08:00', "
                "null, 0, 0, 0, false, 'social/social_2026-11.jsonl', ?, timestamptz '2026-11-01 02:00:00+00', "
                "'1', ?)",
                [post_id, f"uid{line}", text, line, f"dlt{line}"],
            )


def _dbt(project: Path, *args: str) -> None:
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        [*args, "--project-dir", str(project), "--profiles-dir", str(project),
         "--target-path", str(project / "target"), "--log-path", str(project / "logs"), "--quiet"]
    )
    assert result.success, result.exception


def _build(project: Path) -> None:
    _dbt(project, "seed", "--full-refresh")
    _dbt(project, "run", "--select", "+fct_feedback")


def _tags(database: Path, relation: str) -> dict[str, list[str]]:
    with duckdb.connect(str(database)) as conn:
        return {row[0]: sorted(row[1]) for row in conn.execute(f"select feedback_id, tags from {relation}").fetchall()}


def _rows(database: Path, relation: str) -> list[tuple]:
    with duckdb.connect(str(database)) as conn:
        return conn.execute(f"select * from {relation} order by all").fetchall()


class _Calls:
    """Counts the texts each NLP part is computed for in this process (dbt runs in-process)."""

    def __init__(self, monkeypatch):
        from nlp_udfs import local

        self.counts = {"analyse": 0, "tag_analysis": 0, "extract_terms": 0}
        for name in self.counts:
            monkeypatch.setattr(local, name, self._counting(name, getattr(local, name)))

    def _counting(self, name, function):
        def counted(*args):
            self.counts[name] += 1
            return function(*args)

        return counted

    def take(self) -> dict[str, int]:
        from nlp_udfs import parallel

        parallel.result_cache.clear()  # the next build must not be served from memory
        counts, self.counts = self.counts, dict.fromkeys(self.counts, 0)
        return counts


def _edit_seed(seed: Path) -> None:
    with open(seed, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    rows = [row for row in rows if row["tag"] != "客户服务-服务态度"]  # a tag the business dropped
    for row in rows:
        if row["tag"] == "物流体验-时效性":
            row["keywords"] = "等了一周"  # a narrower keyword list
    rows.append({**{name: "" for name in fields}, "tag": NEW_TAG, "l1": "产品体验", "l2": "拍照效果",
                 "keywords": "拍照|成像", "is_complaint": "true", "owner_team": "产品部"})
    with open(seed, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.timeout(600)
def test_editing_the_taxonomy_seed_retags_existing_feedback(tmp_path, dbt_manifest, restore_environ, monkeypatch):
    project = _copy_project(tmp_path / "dbt_project")
    database = tmp_path / "voc.duckdb"
    os.environ["VOC_DUCKDB_PATH"] = str(database)
    os.environ["VOC_NLP_WORKERS"] = "1"  # every text in this process, where the calls are counted
    _load_raw_posts(database)
    calls = _Calls(monkeypatch)
    calls.take()

    _build(project)
    # four posts, three distinct texts: each text analysed, tagged and segmented once
    assert calls.take() == {"analyse": 3, "tag_analysis": 3, "extract_terms": 3}
    assert len(_rows(database, "intermediate.int_feedback__text_analysis")) == 3
    before = _tags(database, "intermediate.int_feedback__enriched")
    assert before["social:weibo:1"] == []
    assert before["social:weibo:2"] == before["social:weibo:4"] == ["物流体验-时效性"]
    assert before["social:weibo:3"] == ["客户服务-服务态度"]
    analysis_before = _rows(database, "intermediate.int_feedback__text_analysis")

    _build(project)  # nothing changed: nothing is computed again
    assert calls.take() == {"analyse": 0, "tag_analysis": 0, "extract_terms": 0}

    _edit_seed(project / "seeds" / "taxonomy.csv")
    _build(project)
    # a taxonomy edit re-tags history from the stored analysis; the new keywords (拍照, 成像,
    # 等了一周) change jieba's user dictionary, so the terms are segmented again too
    assert calls.take() == {"analyse": 0, "tag_analysis": 3, "extract_terms": 3}
    assert _rows(database, "intermediate.int_feedback__text_analysis") == analysis_before
    after = _tags(database, "intermediate.int_feedback__enriched")
    assert after["social:weibo:1"] == [NEW_TAG]  # an old post gets the new tag
    assert after["social:weibo:2"] == after["social:weibo:4"] == ["物流体验-时效性"]  # the narrower keyword
    assert after["social:weibo:3"] == []  # the dropped tag is gone from history
    assert _tags(database, "marts.fct_feedback") == after

    _edit_vetoes(project / "seeds" / "taxonomy.csv")
    _build(project)  # a veto word is no dictionary word: tags only
    assert calls.take() == {"analyse": 0, "tag_analysis": 3, "extract_terms": 0}
    vetoed = _tags(database, "intermediate.int_feedback__enriched")
    assert vetoed["social:weibo:1"] == [] and vetoed["social:weibo:2"] == ["物流体验-时效性"]

    incremental = {name: _rows(database, f"intermediate.{name}") for name in ENRICHMENT_MODELS}
    _dbt(project, "run", "--select", "+fct_feedback", "--full-refresh")
    assert {name: _rows(database, f"intermediate.{name}") for name in ENRICHMENT_MODELS} == incremental


ENRICHMENT_MODELS = ("int_feedback__text_analysis", "int_feedback__text_tags", "int_feedback__text_terms",
                     "int_feedback__enriched")


def _edit_vetoes(seed: Path) -> None:
    """The new tag no longer fires on a clause about a blur (糊): a veto word, no new keyword."""
    with open(seed, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    for row in rows:
        if row["tag"] == NEW_TAG:
            row["negative_keywords"] = "糊"
    with open(seed, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
