"""No warehouse column holds an unkeyed digest of an input identifier (issue 14, keyed pseudonyms).

Read-only on the session's demo warehouse. Checked once against the warehouse of the code before
keyed pseudonyms (commit c4eacef): it failed there, on dim_customer.one_id, fct_feedback.one_id and
every other copy of 'cust_' + md5('phone:...')[:16].
"""

from __future__ import annotations

import duckdb
import pytest

from tests.pseudonym_scan import digest_prefixes, unkeyed_digest_hits

pytestmark = pytest.mark.e2e


def test_no_column_holds_an_unkeyed_digest_of_an_input_identifier(demo_warehouse):
    hits, identifiers, columns = unkeyed_digest_hits(demo_warehouse.warehouse_path, demo_warehouse.landing_dir)
    assert identifiers > 1000 and columns > 100  # the scan saw the demo's identifiers and every table
    assert hits == []


def test_the_scan_finds_an_unkeyed_digest_where_one_is_planted(demo_warehouse, tmp_path):
    """The scan is not blind: one_id set back to the old unkeyed form is found."""
    import shutil

    copy = tmp_path / "voc.duckdb"
    shutil.copy(demo_warehouse.warehouse_path, copy)
    with duckdb.connect(str(copy)) as con:
        member = con.execute("select min(member_id) from marts.dim_customer").fetchone()[0]
        con.execute(
            "update marts.dim_customer set one_id = 'cust_' || substr(md5('member_id:' || member_id), 1, 16) "
            "where member_id = ?", [member],
        )
    hits, _, _ = unkeyed_digest_hits(copy, demo_warehouse.landing_dir)
    assert [hit for hit in hits if hit.startswith("marts.dim_customer.one_id")], hits
    assert digest_prefixes({("member_id", member)})  # the planted value's source is an input identifier
