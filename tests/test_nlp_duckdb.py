"""DuckDB registration: Arrow UDFs, NULL safety, struct fields, taxonomy JSON from a subquery."""

import json

import duckdb
import pytest

from nlp_udfs import duckdb_functions
from nlp_udfs.duckdb_functions import ENRICH_SQL_TYPE, register_functions, taxonomy_from_json_cached
from nlp_udfs.enrich import enrich
from nlp_udfs.taxonomy import Taxonomy

TAXONOMY_ROWS = [
    ("物流体验-时效性", "物流体验", "时效性", "物流*慢|物流*快|还没发货", "退款", True, "物流部"),
    ("物流体验-包装破损", "物流体验", "包装破损", "包装破|破损", "", True, "物流部"),
    ("客户服务-响应速度", "客户服务", "响应速度", "没人理|打不通", None, True, "客服中心"),
]
TAXONOMY_JSON_SQL = """(
    select cast(to_json(list({'tag': tag, 'l1': l1, 'l2': l2, 'keywords': keywords,
        'negative_keywords': negative_keywords, 'is_complaint': is_complaint, 'owner_team': owner_team}
        order by tag)) as varchar)
    from taxonomy
)"""


@pytest.fixture()
def conn():
    connection = duckdb.connect()
    register_functions(connection)
    connection.execute(
        "create table taxonomy (tag varchar, l1 varchar, l2 varchar, keywords varchar, "
        "negative_keywords varchar, is_complaint boolean, owner_team varchar)"
    )
    connection.executemany("insert into taxonomy values (?, ?, ?, ?, ?, ?, ?)", TAXONOMY_ROWS)
    connection.execute("create table feedback (id integer, body varchar)")
    connection.executemany(
        "insert into feedback values (?, ?)",
        [
            (1, "物流挺快的,但是包装破了"),
            (2, None),
            (3, "申请退货三天了没人理,电话+86 138 0013 8000"),
            (4, "   "),
            (5, "今天天气不错"),
        ],
    )
    yield connection
    connection.close()


def fetch_dicts(connection, sql):
    relation = connection.execute(sql)
    names = [column[0] for column in relation.description]
    return [dict(zip(names, row)) for row in relation.fetchall()]


def test_functions_registered_with_declared_types(conn):
    rows = conn.execute(
        "select function_name, return_type, parameter_types from duckdb_functions() "
        "where function_name in ('voc_enrich', 'voc_mask_pii', 'voc_clean_text', 'voc_regex_contains') order by function_name"
    ).fetchall()
    assert [(name, params) for name, _, params in rows] == [
        ("voc_clean_text", ["VARCHAR"]),
        ("voc_enrich", ["VARCHAR", "VARCHAR"]),
        ("voc_mask_pii", ["VARCHAR"]),
        ("voc_regex_contains", ["VARCHAR", "VARCHAR"]),
    ]
    assert rows[1][1] == ENRICH_SQL_TYPE
    assert conn.execute("select typeof(voc_enrich('x', null))").fetchone()[0] == ENRICH_SQL_TYPE


def test_registering_twice_does_not_fail(conn):
    register_functions(conn)
    register_functions(conn)
    assert conn.execute("select voc_mask_pii('电话13800138000')").fetchone()[0] == "电话138****8000"


def test_registering_through_a_second_cursor_does_not_fail(conn):
    cursor = conn.cursor()
    register_functions(cursor)
    assert cursor.execute("select voc_clean_text('好评！！！')").fetchone()[0] == "好评！"


def test_mask_and_clean_udfs_are_null_safe(conn):
    rows = conn.execute("select id, voc_mask_pii(body), voc_clean_text(body) from feedback order by id").fetchall()
    assert rows == [
        (1, "物流挺快的,但是包装破了", "物流挺快的,但是包装破了"),
        (2, "", ""),
        (3, "申请退货三天了没人理,电话138****8000", "申请退货三天了没人理,电话+86 138 0013 8000"),
        (4, "   ", ""),
        (5, "今天天气不错", "今天天气不错"),
    ]


def test_enrich_struct_fields_with_taxonomy_from_subquery(conn):
    rows = fetch_dicts(
        conn,
        f"select id, voc_enrich(body, {TAXONOMY_JSON_SQL}) as nlp from feedback order by id",
    )
    by_id = {row["id"]: row["nlp"] for row in rows}
    first = by_id[1]
    assert list(first) == ["text_clean", "text_masked", "sentiment_score", "sentiment_label", "tags",
                           "primary_tag", "tag_evidence", "terms", "risks", "risk_evidence"]
    assert first["tags"] == ["物流体验-时效性", "物流体验-包装破损"]
    assert first["primary_tag"] == "物流体验-包装破损"
    evidence = json.loads(first["tag_evidence"])
    assert [(e["tag"], e["sentiment"]) for e in evidence] == [
        ("物流体验-时效性", "positive"), ("物流体验-包装破损", "negative")]
    assert first["sentiment_label"] == "negative" and -1 <= first["sentiment_score"] < 0

    third = by_id[3]
    assert third["text_masked"] == "申请退货三天了没人理,电话138****8000"
    assert third["text_clean"] == "申请退货三天了没人理,电话[PHONE]"
    assert third["tags"] == ["客户服务-响应速度"]
    assert "13800138000" not in json.dumps(third, ensure_ascii=False)

    assert by_id[5]["tags"] == [] and by_id[5]["primary_tag"] is None and by_id[5]["tag_evidence"] == "[]"


def test_enrich_null_and_blank_text_give_empty_outputs(conn):
    rows = conn.execute(
        f"""select id, nlp.text_clean, nlp.text_masked, nlp.sentiment_score, nlp.sentiment_label, nlp.tags,
                   nlp.primary_tag, nlp.tag_evidence, nlp.terms, nlp is null
            from (select id, voc_enrich(body, {TAXONOMY_JSON_SQL}) as nlp from feedback)
            where id in (2, 4) order by id"""
    ).fetchall()
    assert rows == [
        (2, "", "", 0.0, "neutral", [], None, "[]", [], False),
        (4, "", "", 0.0, "neutral", [], None, "[]", [], False),
    ]


def test_enrich_with_null_taxonomy_still_enriches(conn):
    row = conn.execute("select voc_enrich('客服态度差 13800138000', null)").fetchone()[0]
    assert row["tags"] == [] and row["text_masked"] == "客服态度差 138****8000"
    assert row["sentiment_label"] == "negative"


def test_udf_matches_python_enrich(conn):
    taxonomy_json = conn.execute(f"select {TAXONOMY_JSON_SQL}").fetchone()[0]
    taxonomy = Taxonomy.from_json(taxonomy_json)
    for text in ["物流挺快的,但是包装破了", "申请退货三天了没人理,电话+86 138 0013 8000"]:
        via_sql = conn.execute("select voc_enrich(?, ?)", [text, taxonomy_json]).fetchone()[0]
        assert via_sql == enrich(text, taxonomy)


def test_taxonomy_parsed_once_per_distinct_json(conn, monkeypatch):
    duckdb_functions._taxonomy_cache.clear()
    calls = []
    original = Taxonomy.from_json.__func__

    def counting_from_json(cls, text):
        calls.append(text)
        return original(cls, text)

    monkeypatch.setattr(Taxonomy, "from_json", classmethod(counting_from_json))
    conn.execute("create table many as select 'row ' || i || ' 物流太慢了' as body from range(5000) t(i)")
    count = conn.execute(
        f"select count(*) filter (where list_contains(voc_enrich(body, {TAXONOMY_JSON_SQL}).tags, "
        "'物流体验-时效性')) from many"
    ).fetchone()[0]
    assert count == 5000
    assert len(calls) == 1
    assert taxonomy_from_json_cached(calls[0]) is taxonomy_from_json_cached(calls[0])


def test_invalid_taxonomy_json_raises(conn):
    with pytest.raises(duckdb.Error):
        conn.execute("select voc_enrich('物流慢', 'not json')").fetchall()


def test_taxonomy_handle_stands_for_the_document(conn):
    taxonomy_json = conn.execute(f"select {TAXONOMY_JSON_SQL}").fetchone()[0]
    handle = conn.execute(f"select voc_taxonomy_handle({TAXONOMY_JSON_SQL})").fetchone()[0]
    assert handle.startswith("voc-taxonomy:") and len(handle) < 64
    rows = conn.execute(
        f"select voc_enrich(body, (select voc_taxonomy_handle({TAXONOMY_JSON_SQL}))) as by_handle, "
        "voc_enrich(body, ?) as by_document from feedback order by id",
        [taxonomy_json],
    ).fetchall()
    assert [by_handle for by_handle, _ in rows] == [by_document for _, by_document in rows]
    assert rows[0][0]["tags"] == ["物流体验-时效性", "物流体验-包装破损"]


def test_taxonomy_handle_changes_with_the_document(conn):
    first = conn.execute(f"select voc_taxonomy_handle({TAXONOMY_JSON_SQL})").fetchone()[0]
    conn.execute("update taxonomy set keywords = keywords || '|发货慢' where tag = '物流体验-时效性'")
    second = conn.execute(f"select voc_taxonomy_handle({TAXONOMY_JSON_SQL})").fetchone()[0]
    assert first != second


def test_unknown_taxonomy_handle_is_an_error_not_an_untagged_row(conn):
    with pytest.raises(duckdb.Error, match="unknown taxonomy handle"):
        conn.execute("select voc_enrich('物流慢', 'voc-taxonomy:0123456789abcdef')").fetchall()


def test_regex_contains_compiles_data_patterns_like_duckdb_matches_them(conn):
    conn.execute(
        "create table cases as select * from (values "
        "('建议增加夜间配送', '建议|希望'), ('物流太慢', '建议|希望'), ('产品质量-功能故障', '^(产品质量-功能故障|产品质量-耐用性)$'), "
        "('产品质量-功能故障x', '^(产品质量-功能故障)$'), (null, 'a'), ('a', null)) t(body, pattern)"
    )
    rows = conn.execute(
        "select voc_regex_contains(body, pattern), regexp_matches(body, pattern) from cases"
    ).fetchall()
    assert [ours for ours, _ in rows] == [True, False, True, False, None, None]
    assert [ours for ours, _ in rows] == [duckdb_native for _, duckdb_native in rows]


def test_analyse_then_tag_and_terms_give_what_voc_enrich_gives(conn):
    """The three parts of the split enrichment (analysis, tags from the stored clauses, terms)
    put together are voc_enrich, row for row, NULL and whitespace-only texts included."""
    conn.execute("insert into feedback values (6, '👍👍👍'), (7, '物流太慢了!!! 客服也没人理，包装破损')")
    conn.execute(f"create table handle as select voc_taxonomy_handle({TAXONOMY_JSON_SQL}) as handle")
    rows = conn.execute(
        """
        with analysed as (
            select id, body, voc_analyse(body, (select count(*) from feedback)) as a from feedback
        ), tagged as (
            select id, body, a, voc_tag(a.clauses, a.sentiment_score, (select handle from handle), null) as t,
                voc_terms(a.text_clean, (select handle from handle), null) as terms
            from analysed
        )
        select id,
            {'text_clean': a.text_clean, 'text_masked': a.text_masked, 'sentiment_score': a.sentiment_score,
             'sentiment_label': a.sentiment_label, 'tags': t.tags, 'primary_tag': t.primary_tag,
             'tag_evidence': t.tag_evidence, 'terms': terms, 'risks': a.risks, 'risk_evidence': a.risk_evidence}
                = voc_enrich(body, (select handle from handle)) as same,
            t.tags
        from tagged order by id
        """
    ).fetchall()
    assert [row[1] for row in rows] == [True] * 7
    assert rows[0][2] == ["物流体验-时效性", "物流体验-包装破损"] and rows[6][2]


def test_stored_clauses_are_read_back_field_by_field():
    import pyarrow as pa

    column = pa.array(
        [[{"text": "物流慢", "start": 0, "raw": -1.5}, {"text": "包装破了", "start": 4, "raw": 0.0}], None, [],
         [{"text": "好", "start": 0, "raw": 1.0}]],
        type=pa.list_(duckdb_functions.CLAUSE_ARROW_TYPE),
    )
    assert duckdb_functions.clause_lists(column) == [(("物流慢", 0, -1.5), ("包装破了", 4, 0.0)), None, (), (("好", 0, 1.0),)]
    assert duckdb_functions.clause_lists(column.slice(2)) == [(), (("好", 0, 1.0),)]  # offsets of a slice


def test_versions_of_the_parts_follow_what_each_depends_on():
    """The analysis version ignores the taxonomy; the terms version follows the keyword words
    (jieba's user dictionary), not vetoes, flags or the other columns."""
    from nlp_udfs.parallel import analysis_version, enrichment_fingerprint, taxonomy_handle, terms_version

    def document(rows):
        return json.dumps([{"tag": tag, "l1": l1, "l2": l2, "keywords": keywords, "negative_keywords": negative,
                            "is_complaint": complaint} for tag, l1, l2, keywords, negative, complaint, _ in rows])

    base = document(TAXONOMY_ROWS)
    vetoed = document([(*row[:4], "不慢", *row[5:]) for row in TAXONOMY_ROWS])
    flags = document([(*row[:5], not row[5], row[6]) for row in TAXONOMY_ROWS])
    keyword = document([*TAXONOMY_ROWS, ("产品体验-拍照", "产品体验", "拍照", "拍照模糊", None, True, "产品部")])
    assert analysis_version().endswith(enrichment_fingerprint())
    assert terms_version(base) == terms_version(vetoed) == terms_version(flags)
    assert terms_version(keyword) != terms_version(base)
    assert len({taxonomy_handle(value) for value in (base, vetoed, flags, keyword)}) == 4  # every edit re-tags


def test_progress_of_a_long_step_reports_rows_rate_and_time_left():
    from nlp_udfs import progress

    now, messages = [0.0], []
    progress.set_sink(messages.append, clock=lambda: now[0])
    try:
        progress.advance("short step", 500, 1000)
        now[0] = 1.0
        progress.advance("short step", 500, 1000)
        assert messages == []  # done within the interval: nothing to say
        for _ in range(3):
            now[0] += 5.0
            progress.advance("nlp text analysis", 10_000, 40_000)
        progress.advance("nlp text analysis", 100, None)  # no total: ignored
        # the rate counts from the end of the first batch, 10 s and 20,000 rows before
        assert messages == ["nlp text analysis: 30,000 of 40,000 rows (75%), 2,000 rows/s, about 5 s left"]
        now[0] += 5.0
        progress.advance("nlp text analysis", 10_000, 40_000)
        assert messages[-1] == "nlp text analysis: 40,000 rows done in 20 s (2,000 rows/s)"
    finally:
        progress.set_sink(None)
