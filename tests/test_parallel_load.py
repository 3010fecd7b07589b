"""Classifying a file's lines in worker processes changes nothing in the raw layer.

``loaders.files.parallel`` parses, validates and protects the lines of a large landing file in
forked workers. The demo landing data (with its bad lines, CSV surveys and drifted records) is
loaded once serially and once with every file sent through a pool of two workers, then a demo
increment goes through both; the raw tables, quarantine and load log are compared as in
``test_arrow_load.py``.
"""

from __future__ import annotations

import pytest
from record_guard import TEST_GUARD
from test_arrow_load import _differences

import loaders.files.extract as extract
from loaders.files.readers import INVALID_JSON, UNPARSED, Line
from loaders.pipeline import load_all

pytestmark = pytest.mark.dlt

ROWS = 1500
SEED = 9


@pytest.fixture(scope="module")
def serial_and_parallel(tmp_path_factory):
    from devtools.demo.api import add_increment, generate

    root = tmp_path_factory.mktemp("parallel_load")
    landing = root / "landing"
    generate(landing, rows=ROWS, seed=SEED)
    serial, parallel = root / "serial" / "voc.duckdb", root / "parallel" / "voc.duckdb"
    pooled_files: list[int] = []
    real_pool = extract.classify_in_pool

    def counting_pool(*args, **kwargs):
        pooled_files.append(1)
        return real_pool(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(extract, "PARALLEL_MIN_BYTES", 0)  # every file through the pool
        patch.setattr(extract, "classify_in_pool", counting_pool)
        load_all(landing, serial, TEST_GUARD, workers=1)
        serial_pooled = len(pooled_files)
        load_all(landing, parallel, TEST_GUARD, workers=2)
        first = _differences(serial, parallel)
        add_increment(landing, share=0.05, seed=SEED)
        load_all(landing, serial, TEST_GUARD, workers=1)
        load_all(landing, parallel, TEST_GUARD, workers=2)
    return {"first": first, "increment": _differences(serial, parallel), "serial_pooled": serial_pooled,
            "pooled": len(pooled_files)}


def test_the_pool_classified_the_files(serial_and_parallel):
    assert serial_and_parallel["serial_pooled"] == 0
    assert serial_and_parallel["pooled"] > 6  # at least one file per family, and the increment's


def test_first_load_gives_the_same_raw_tables(serial_and_parallel):
    assert serial_and_parallel["first"] == []


def test_increment_gives_the_same_raw_tables(serial_and_parallel):
    assert serial_and_parallel["increment"] == []


def test_lines_keep_their_order_and_markers_across_processes():
    lines = [Line(n, raw, UNPARSED) for n, raw in enumerate(['{"id": 1}', "{not json", '{"id": 3}'] * 700, start=1)]
    lines.insert(5, Line(9999, "<broken>", INVALID_JSON))
    protect = "<{}>".format
    serial = list(extract.classify_serially(lines, lambda value: value, protect))
    pooled = list(extract.classify_in_pool(iter(lines), lambda value: value, protect, workers=2))
    assert pooled == serial
    assert [number for number, _, _ in pooled] == [line.number for line in lines]
    assert pooled[1][1].reason == "invalid_json" and pooled[1][2] == "<{not json>"
    assert pooled[5][0] == 9999 and pooled[5][1].reason == "invalid_json"
