"""Landing hygiene: files are read only from inside the landing folder, undecodable CSV rows are
quarantined as ``invalid_utf8``, and a renamed vendor field raises a WARN check naming both fields.

The discovery and drift tests are unit tests; the ones that load a warehouse are marked ``dlt``,
the one that executes the Dagster check also ``dagster``.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from record_guard import TEST_GUARD

from devtools.demo.api import generate
from loaders.contracts import FAMILY_SPECS, REVIEW_SPEC, SURVEY_SPEC
from loaders.contracts.drift import MAX_UNKNOWN_PATHS, FieldsSeen, contract_paths, family_drift
from loaders.contracts.surveys import survey_csv_row_to_json_shape
from loaders.files.readers import SYMLINK_OUTSIDE_LANDING, discover_files, is_csv_name, is_jsonl_name, scan_files
from loaders.pipeline import load_family
from loaders.validation import validate_record
from orchestration.assets.ingestion import raw_asset_key
from orchestration.landing_checks import (
    REFUSED_CHECK,
    RENAME_CHECK,
    build_landing_checks,
    refused_check_result,
    rename_check_result,
)
from orchestration.resources import VocWarehouse
from orchestration.sensors import landing_files
from orchestration.settings import VocSettings

SECRET = "CONTENT-OUTSIDE-LANDING-7f3a"
"""Written only into files outside the landing folder: it must never reach the warehouse."""


def _jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def _survey(response_id: str, comment: str = "不错") -> dict:
    return {
        "response_id": response_id,
        "submitted_at": "2025-06-01T10:00:00+08:00",
        "updated_at": "2025-06-01T10:00:00+08:00",
        "respondent": {"member_id": "M1", "phone": None, "unionid": None, "email": None},
        "answers": {"nps": 9, "csat": 4, "ces": None, "comment": comment},
    }


def _accept_loadable(name: str) -> bool:
    return is_jsonl_name(name) or is_csv_name(name)


@pytest.fixture
def linked_landing(tmp_path: Path) -> tuple[Path, Path]:
    """A landing folder with links leaving it (file, directory, relative, family folder) and
    links that stay inside it."""
    outside = tmp_path / "outside"
    _jsonl(outside / "secret.jsonl", [_survey("R-OUT-1", SECRET)])
    _jsonl(outside / "dir" / "more.jsonl", [_survey("R-OUT-2", SECRET)])
    landing = tmp_path / "landing"
    surveys = landing / "surveys"
    _jsonl(surveys / "good.jsonl", [_survey("R-1")])
    _jsonl(landing / "shared" / "kept.jsonl", [_survey("R-2")])
    (surveys / "sub").mkdir()
    os.symlink(outside / "secret.jsonl", surveys / "out.jsonl")  # absolute link to a file
    os.symlink(outside / "dir", surveys / "outdir")  # link to a directory
    os.symlink("../../../outside/secret.jsonl", surveys / "sub" / "relative.jsonl")  # relative, leaves
    os.symlink("../missing.jsonl", surveys / "sub" / "dangling.jsonl")  # inside, no target: skipped
    os.symlink("../../..", surveys / "sub" / "up")  # a directory above the landing folder
    os.symlink(outside / "secret.jsonl", surveys / "notes.txt")  # not a loadable name: not reported
    os.symlink("../shared/kept.jsonl", surveys / "inside.jsonl")  # stays inside: read
    os.symlink(".", surveys / "loop")  # stays inside, a loop: walked once
    os.symlink(outside / "dir", landing / "tickets")  # a whole family folder leaving
    return landing, outside


# --- discovery (unit) ----------------------------------------------------------------------------


def test_links_leaving_the_landing_folder_are_refused_and_inside_links_followed(linked_landing):
    landing, _ = linked_landing
    scan = scan_files(landing / "surveys", _accept_loadable, root=landing)
    assert [p.relative_to(landing).as_posix() for p in scan.files] == [
        "surveys/good.jsonl",
        "surveys/inside.jsonl",
    ]
    assert [(r.path.relative_to(landing).as_posix(), r.reason) for r in scan.refused] == [
        ("surveys/out.jsonl", SYMLINK_OUTSIDE_LANDING),
        ("surveys/outdir", SYMLINK_OUTSIDE_LANDING),
        ("surveys/sub/relative.jsonl", SYMLINK_OUTSIDE_LANDING),
        ("surveys/sub/up", SYMLINK_OUTSIDE_LANDING),
    ]
    family_link = scan_files(landing / "tickets", _accept_loadable, root=landing)
    assert family_link.files == [] and [r.path for r in family_link.refused] == [landing / "tickets"]
    assert discover_files(landing / "surveys", _accept_loadable, root=landing) == scan.files


def test_a_landing_folder_reached_through_a_link_is_still_the_boundary(linked_landing, tmp_path):
    landing, _ = linked_landing
    alias = tmp_path / "alias"
    os.symlink(landing, alias)
    scan = scan_files(alias / "surveys", _accept_loadable, root=alias)
    assert [p.name for p in scan.files] == ["good.jsonl", "inside.jsonl"]
    assert len(scan.refused) == 4


def test_the_landing_sensor_lists_files_through_the_same_safe_discovery(linked_landing):
    landing, _ = linked_landing
    assert sorted(file.rel for file in landing_files(landing)) == ["surveys/good.jsonl", "surveys/inside.jsonl"]


# --- drift evidence (unit) -----------------------------------------------------------------------


def _fields_seen(spec, records: list[dict]) -> str | None:
    seen = FieldsSeen(spec)
    for record in records:
        validated = validate_record(spec, record)
        assert isinstance(validated, dict)
        seen.observe(validated)
    return seen.to_json()


def _review(n: int = 1, **overrides) -> dict:
    record = {
        "review_id": f"JD-{n}", "platform": "jd", "shop_id": "s", "product_sku": "SKU-1", "order_id": "O1",
        "buyer_nick": "j***3", "buyer_open_id": "jd_1", "rating": 2, "content": "慢",
        "created_at": "2025-06-03T08:00:00Z", "modified_at": "2025-06-03T08:00:00Z", "append_content": None,
        "append_at": None, "has_images": False, "seller_reply": None,
    }
    record.update(overrides)
    return record


def _renamed(record: dict, old: str, new: str) -> dict:
    record = dict(record)
    record[new] = record.pop(old)
    return record


def _drift_of(family: str, files: dict[str, list[dict]], spec=None) -> dict:
    spec = spec or FAMILY_SPECS[family][0]
    rows = [(name, _fields_seen(spec, records)) for name, records in files.items()]
    return {drift.file: drift for drift in family_drift(FAMILY_SPECS[family], rows)}


USUAL_REVIEWS = [_review(n) for n in range(20)]


def test_a_renamed_field_is_a_suspected_rename_naming_both_fields():
    drifts = _drift_of("reviews", {
        "reviews/old.jsonl": USUAL_REVIEWS,
        "reviews/new.jsonl": [_renamed(_review(n), "rating", "score") for n in range(5)],
    })
    drift = drifts["reviews/new.jsonl"]
    assert drift.missing == ("rating",) and drift.unknown == ("score",) and drift.suspected_rename
    assert "rating" in drift.describe() and "score" in drift.describe() and "reviews/new.jsonl" in drift.describe()
    assert not drifts["reviews/old.jsonl"].suspected_rename


def test_an_extra_field_alone_or_a_missing_field_alone_is_no_rename():
    without_reply = [{k: v for k, v in _review(n).items() if k != "seller_reply"} for n in range(5)]
    drifts = _drift_of("reviews", {
        "reviews/old.jsonl": USUAL_REVIEWS,
        "reviews/extra.jsonl": [_review(n, video_count=2) for n in range(5)],
        "reviews/without.jsonl": without_reply,
    })
    assert drifts["reviews/extra.jsonl"].unknown == ("video_count",) and drifts["reviews/extra.jsonl"].missing == ()
    assert drifts["reviews/without.jsonl"].missing == ("seller_reply",) and drifts["reviews/without.jsonl"].unknown == ()
    assert not any(drift.suspected_rename for drift in drifts.values())


def test_an_optional_field_the_vendor_often_leaves_out_is_not_missing():
    # social updated_at: only a later crawl carries it; 1 post in 10 elsewhere, none in 20 here
    def post(n: int, **extra) -> dict:
        return {"post_id": f"weibo:{n}", "published_at": 1748910000, "text": "好", **extra}

    drifts = _drift_of("social", {
        "social/old.jsonl": [post(n, **({"updated_at": 1748913600} if n % 10 == 0 else {})) for n in range(50)],
        "social/new.jsonl": [post(n, lang="zh") for n in range(20)],
    })
    assert drifts["social/new.jsonl"].missing == () and not drifts["social/new.jsonl"].suspected_rename
    # nothing to compare the first file of a family with
    first = _drift_of("reviews", {"reviews/new.jsonl": [_renamed(_review(n), "rating", "score") for n in range(5)]})
    assert not first["reviews/new.jsonl"].suspected_rename


def test_nested_members_are_compared_only_where_their_parent_was_seen():
    def csv_row(n: int, nps_column: str = "nps") -> dict:
        return survey_csv_row_to_json_shape({
            "response_id": f"R-{n}", "submitted_at": "2025-06-01 10:00:00", nps_column: "9", "csat": "4",
            "ces": "", "comment": "好", "phone": "", "member_id": "", "unionid": "", "email": "",
        })

    # a renamed answer in the flat CSV export: answers.nps is gone, nps_score is new
    drifts = _drift_of("surveys", {
        "surveys/old.csv": [csv_row(n) for n in range(10)],
        "surveys/new.csv": [csv_row(n, "nps_score") for n in range(3)],
    })
    assert drifts["surveys/new.csv"].missing == ("answers.nps",) and drifts["surveys/new.csv"].unknown == ("nps_score",)

    def ticket(n: int, requester, messages) -> dict:
        return {"ticket_id": n, "created_at": "2025-06-02 20:41:07", "requester": requester, "messages": messages}

    usual = [ticket(n, {"name": "张三", "phone": "138", "email": None, "member_id": None},
                    [{"at": "2025-06-02 20:41:07", "author_role": "customer", "body": "慢"}]) for n in range(10)]
    drifts = _drift_of("tickets", {
        "tickets/old.jsonl": usual,
        # a parent that is always null, or lists that are always empty, say nothing about members
        "tickets/empty.jsonl": [ticket(n, None, []) for n in range(10)],
        # a renamed list member is seen
        "tickets/renamed.jsonl": [ticket(n, None, [{"at": "2025-06-02 20:41:07", "role": "customer", "body": "慢"}])
                                  for n in range(3)],
    })
    assert drifts["tickets/empty.jsonl"].missing == ()
    assert drifts["tickets/renamed.jsonl"].missing == ("messages.author_role",)
    assert drifts["tickets/renamed.jsonl"].unknown == ("messages.role",)


def test_two_table_family_is_compared_with_the_table_of_its_id_field():
    products = [{"product_sku": f"SKU-{n}", "product_name": "杯", "category": "厨具"} for n in range(5)]
    renamed = [_renamed(p, "category", "cat") for p in products]
    stores = [{"store_id": "SH1", "store_name": "上海一店", "city": "上海"}]
    drifts = _drift_of("reference", {"reference/products.jsonl": products, "reference/products_2.jsonl": renamed},
                       spec=FAMILY_SPECS["reference"][1])
    drifts.update(_drift_of("reference", {"reference/stores.jsonl": stores}, spec=FAMILY_SPECS["reference"][0]))
    assert drifts["reference/products_2.jsonl"].table == "products"
    assert drifts["reference/products_2.jsonl"].missing == ("category",)
    assert drifts["reference/stores.jsonl"].table == "stores" and drifts["reference/stores.jsonl"].missing == ()
    assert family_drift(FAMILY_SPECS["surveys"], [("api:surveys?page=1", None)]) == []
    assert contract_paths(SURVEY_SPEC) >= {"response_id", "respondent.phone", "answers.nps"}


def test_a_vendor_sending_data_as_keys_keeps_the_evidence_bounded():
    seen = FieldsSeen(REVIEW_SPEC)
    for n in range(3000):
        seen.observe({**_review(n), f"attr_{n:05d}": n})
    counts = seen.counts()
    unknown = {path for path in counts if path not in contract_paths(REVIEW_SPEC) and path != "*"}
    assert unknown == {f"attr_{n:05d}" for n in range(MAX_UNKNOWN_PATHS)}
    assert counts["*"] == 3000 and counts["rating"] == 3000
    assert all(len(shapes) <= 1000 for shapes in seen._shapes.values())


def test_rename_check_warns_naming_both_fields_and_passes_on_extra_fields_only():
    key = raw_asset_key("reviews")
    rows = [("reviews/a.jsonl", _fields_seen(REVIEW_SPEC, USUAL_REVIEWS)),
            ("reviews/b.jsonl", _fields_seen(REVIEW_SPEC, [_review(n, video_count=1) for n in range(5)])),
            ("reviews/c.jsonl", _fields_seen(REVIEW_SPEC, [_renamed(_review(n), "rating", "score") for n in range(5)])),
            ("api:reviews?page_no=1", None)]
    result = rename_check_result(key, "reviews", rows)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert "rating" in result.description and "score" in result.description and "reviews/c.jsonl" in result.description
    assert result.metadata["files_compared"].value == 3
    ok = rename_check_result(key, "reviews", rows[:2] + rows[3:])
    assert ok.passed and ok.severity == dg.AssetCheckSeverity.WARN


# --- loads (dlt) ---------------------------------------------------------------------------------


def _query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def _raw_text_values(db: Path) -> list[str]:
    """Every text value and column name of the raw schema."""
    values: list[str] = []
    with duckdb.connect(str(db), read_only=True) as connection:
        columns = connection.execute(
            "select table_name, column_name, data_type from information_schema.columns where table_schema = 'raw'"
        ).fetchall()
        for table, column, data_type in columns:
            values.append(column)
            if data_type == "VARCHAR":
                rows = connection.execute(f'select "{column}" from raw."{table}" where "{column}" is not null')
                values.extend(row[0] for row in rows.fetchall())
    return values


@pytest.mark.dlt
def test_links_leaving_landing_are_not_loaded_but_recorded_and_logged(linked_landing, tmp_path, caplog):
    landing, outside = linked_landing
    db = tmp_path / "wh" / "voc.duckdb"
    caplog.set_level(logging.WARNING, logger="loaders.files.extract")
    load_family("surveys", landing, db, TEST_GUARD)

    assert _query(db, "select response_id, _voc_file from raw.surveys order by 1") == [
        ("R-1", "surveys/good.jsonl"), ("R-2", "surveys/inside.jsonl"),
    ]
    assert not any(SECRET in value or str(outside) in value for value in _raw_text_values(db))
    assert _query(db, "select file, refused_reason, sha256, records_read from raw.surveys_files order by file") == [
        ("surveys/good.jsonl", None, _query(db, "select sha256 from raw.surveys_files where file like '%good%'")[0][0], 1),
        ("surveys/inside.jsonl", None, _query(db, "select sha256 from raw.surveys_files where file like '%inside%'")[0][0], 1),
        ("surveys/out.jsonl", SYMLINK_OUTSIDE_LANDING, None, 0),
        ("surveys/outdir", SYMLINK_OUTSIDE_LANDING, None, 0),
        ("surveys/sub/relative.jsonl", SYMLINK_OUTSIDE_LANDING, None, 0),
        ("surveys/sub/up", SYMLINK_OUTSIDE_LANDING, None, 0),
    ]
    logged = [record.getMessage() for record in caplog.records]
    for link in ("surveys/out.jsonl", "surveys/outdir", "surveys/sub/relative.jsonl", "surveys/sub/up"):
        assert any(link in message and SYMLINK_OUTSIDE_LANDING in message for message in logged), link
    assert not any(SECRET in message or str(outside) in message for message in logged)

    # a whole family folder that leaves the landing folder is refused the same way
    load_family("tickets", landing, db, TEST_GUARD)
    assert _query(db, "select file, refused_reason from raw.tickets_files") == [("tickets", SYMLINK_OUTSIDE_LANDING)]
    assert _query(db, "select count(*) from raw.tickets") == [(0,)]

    # recorded once: a rerun loads nothing (and still warns)
    caplog.clear()
    assert load_family("surveys", landing, db, TEST_GUARD).loads_ids == []
    assert any("surveys/out.jsonl" in record.getMessage() for record in caplog.records)

    # the operator removes links: their rows go; a real file in place of a link is read
    (landing / "surveys" / "outdir").unlink()
    (landing / "surveys" / "out.jsonl").unlink()
    _jsonl(landing / "surveys" / "out.jsonl", [_survey("R-3")])
    load_family("surveys", landing, db, TEST_GUARD)
    assert _query(db, "select file, refused_reason, records_read from raw.surveys_files order by file") == [
        ("surveys/good.jsonl", None, 1), ("surveys/inside.jsonl", None, 1), ("surveys/out.jsonl", None, 1),
        ("surveys/sub/relative.jsonl", SYMLINK_OUTSIDE_LANDING, 0), ("surveys/sub/up", SYMLINK_OUTSIDE_LANDING, 0),
    ]
    # the load log still adds up: read = loaded + quarantined
    assert _query(db, "select sum(records_read) - sum(records_loaded) - sum(records_quarantined) from raw.surveys_files") == [(0,)]

    warehouse = VocWarehouse(landing_dir=str(landing), duckdb_path=str(db))
    with warehouse.connect_read_only() as connection:
        rows = connection.execute("select file, refused_reason from raw.surveys_files order by file").fetchall()
    result = refused_check_result(raw_asset_key("surveys"), "surveys", rows)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert "surveys/sub/relative.jsonl" in result.description and SECRET not in result.description


@pytest.mark.dlt
def test_undecodable_csv_rows_are_quarantined_and_no_replacement_character_is_loaded(tmp_path):
    landing = tmp_path / "landing"
    (landing / "surveys").mkdir(parents=True)
    header = b"response_id,submitted_at,nps,comment,phone\r\n"
    rows = [
        b"R-1,2025-06-01 10:00:00,9,\xe7\x89\xa9\xe6\xb5\x81\xe5\xbe\x88\xe5\xbf\xab,\r\n",  # 物流很快
        b"R-2,2025-06-01 11:00:00,3,GBK \xce\xef\xc1\xf7 text,\r\n",  # 物流 in GBK: not UTF-8
        b"R-3,2025-06-01 12:00:00,7,ok,138\xff0013\r\n",
        b'R-4,2025-06-01 13:00:00,8,"two\nlines \xc3",\r\n',
        b"R-5,2025-06-01 14:00:00,10,\xe5\xa5\xbd,\r\n",
    ]
    (landing / "surveys" / "mixed.csv").write_bytes(b"\xef\xbb\xbf" + header + b"".join(rows))
    # the same fault in a JSONL line gets the same reason
    (landing / "surveys" / "lines.jsonl").write_bytes(
        json.dumps(_survey("R-6")).encode() + b"\n" + b'{"response_id": "R-7", "x": "\xff"}\n'
    )
    # a CSV whose header is not UTF-8: no column name can be trusted, every row goes
    with gzip.open(landing / "surveys" / "bad_header.csv.gz", "wb") as handle:
        handle.write(b"response_id,submitted_at,n\xffps\r\nR-8,2025-06-01 10:00:00,5\r\n")
    db = tmp_path / "wh" / "voc.duckdb"
    load_family("surveys", landing, db, TEST_GUARD)

    assert _query(db, "select response_id from raw.surveys order by 1") == [("R-1",), ("R-5",), ("R-6",)]
    assert _query(db, "select answers__comment from raw.surveys where response_id = 'R-1'") == [("物流很快",)]
    assert _query(db, "select file, line, reason from raw.surveys_quarantine order by file, line") == [
        ("surveys/bad_header.csv.gz", 2, "invalid_utf8"),
        ("surveys/lines.jsonl", 2, "invalid_utf8"),
        ("surveys/mixed.csv", 3, "invalid_utf8"),
        ("surveys/mixed.csv", 4, "invalid_utf8"),
        ("surveys/mixed.csv", 5, "invalid_utf8"),
    ]
    payload = _query(db, "select raw_payload from raw.surveys_quarantine where file = 'surveys/mixed.csv' and line = 3")
    assert payload == [("R-2,2025-06-01 11:00:00,3,GBK \\xce\\xef\\xc1\\xf7 text,",)]
    assert not any("\ufffd" in value for value in _raw_text_values(db))
    assert _query(db, "select sum(records_read), sum(records_loaded), sum(records_quarantined) from raw.surveys_files") == [
        (8, 3, 5)
    ]


@pytest.fixture
def renamed_demo_landing(tmp_path: Path) -> tuple[Path, str]:
    """Demo reviews files, one of which a vendor exported with ``rating`` renamed to ``score``."""
    landing = tmp_path / "landing"
    generate(landing, rows=150, seed=3)
    files = sorted(p for p in (landing / "reviews").iterdir() if p.name.endswith(".jsonl"))
    target = files[-1]
    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines() if line.strip()]
    renamed = []
    for record in records:
        if isinstance(record, dict) and "rating" in record:
            record["score"] = record.pop("rating")
        renamed.append(record)
    target.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in renamed), encoding="utf-8")
    return landing, f"reviews/{target.name}"


def _landing_check(family: str) -> dg.AssetChecksDefinition:
    return next(check for check in build_landing_checks() if check.node_def.name == f"landing_{family}")


@pytest.mark.dlt
@pytest.mark.dagster
def test_renamed_field_in_a_demo_file_raises_the_warn_check_naming_both_fields(renamed_demo_landing, tmp_path):
    landing, renamed_file = renamed_demo_landing
    db = tmp_path / "wh" / "voc.duckdb"
    load_family("reviews", landing, db, TEST_GUARD)
    check = _landing_check("reviews")
    asset_key = raw_asset_key("reviews")
    result = dg.materialize(
        [dg.AssetSpec(asset_key), check],
        resources={"warehouse": VocWarehouse(landing_dir=str(landing), duckdb_path=str(db)),
                   "settings": VocSettings(landing_dir=landing, warehouse_path=db)},
        selection=dg.AssetSelection.checks(check),
        raise_on_error=False,
    )
    assert result.success  # a WARN check reports; it does not fail the run
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    rename = evaluations[RENAME_CHECK]
    assert not rename.passed and rename.severity == dg.AssetCheckSeverity.WARN
    assert "rating" in rename.description and "score" in rename.description
    assert renamed_file in rename.description
    [shown] = rename.metadata["suspected_renames"].value
    assert shown["file"] == renamed_file and shown["table"] == "reviews"
    assert shown["missing_known_fields"] == ["rating"] and "score" in shown["unknown_fields"]
    assert evaluations[REFUSED_CHECK].passed


@pytest.mark.dlt
@pytest.mark.dagster
def test_demo_files_with_only_extra_fields_raise_no_rename_warning(tmp_path):
    landing = tmp_path / "landing"
    generate(landing, rows=150, seed=3)
    db = tmp_path / "wh" / "voc.duckdb"
    load_family("reviews", landing, db, TEST_GUARD)
    # the demo's later files carry fields the contract does not know (schema drift), none missing
    unknown = _query(db, "select fields_seen from raw.reviews_files")
    assert any("video_count" in row[0] for row in unknown)
    check = _landing_check("reviews")
    result = dg.materialize(
        [dg.AssetSpec(raw_asset_key("reviews")), check],
        resources={"warehouse": VocWarehouse(landing_dir=str(landing), duckdb_path=str(db)),
                   "settings": VocSettings(landing_dir=landing, warehouse_path=db)},
        selection=dg.AssetSelection.checks(check),
    )
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evaluations[RENAME_CHECK].passed and evaluations[REFUSED_CHECK].passed
    assert evaluations[RENAME_CHECK].metadata["files_compared"].value == len(list((landing / "reviews").iterdir()))
