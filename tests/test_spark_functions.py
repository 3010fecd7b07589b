"""The NLP functions on Spark give byte for byte what they give on DuckDB.

The same texts (demo texts of every source, plus NULL, empty, blank, emoji, a 19,000-character
text, personal data) go through every function that ``nlp_udfs.spark_functions`` registers, once
on a DuckDB connection (``duckdb_functions.register_functions``) and once on a local Spark
session through the session factory, in the same SQL; the results must be equal value for value
(strings as bytes, floats exactly), keyed by row id.
"""

from __future__ import annotations

import shutil

import pyarrow as pa
import pytest

from nlp_udfs import duckdb_functions, pseudonyms, spark_functions
from nlp_udfs.config import NlpConfig
from orchestration.settings import REPO_ROOT, SparkSettings

pytestmark = pytest.mark.spark

pyspark = pytest.importorskip("pyspark", reason="the spark extra is not installed (make install EXTRAS=spark)")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java 17 (apt-get install openjdk-17-jre-headless)", allow_module_level=True)

KEY = b"spark 'parity' key"
CONFIG = NlpConfig(workers=1)
TAXONOMY_SEED = REPO_ROOT / "dbt_project" / "seeds" / "taxonomy.csv"
EDGE_TEXTS = [
    None,
    "",
    "   ",
    "😀😀 好评!!👍🏻 物流超快🚚,包装完好",
    "退货三天了没人理,电话+86 138 0013 8000,邮箱 zhang.san@example.com,身份证 110101199003074514",
    "收货地址:北京市朝阳区建国路88号3单元502室,张三收",
    "手机号13912345678,订单号 20261107123456789,会员卡 6222021234567890123",
    "Great product but the delivery was late. 质量不错但是物流太慢了",
    "\t换行\n测试\r\n\u200b零宽字符\u3000全角空格",
    "客服态度很差" * 3000,  # ~18,000 characters
]
# demo texts of every source (devtools.demo), generated into a temporary landing folder
DEMO_ROWS = 120


@pytest.fixture(scope="module")
def texts(tmp_path_factory) -> list[str | None]:
    from devtools.bench.nlp_data import landing_texts
    from devtools.demo.generator import generate

    landing = tmp_path_factory.mktemp("landing")
    generate(landing, rows=DEMO_ROWS, seed=3)
    demo = landing_texts(landing)
    assert len(demo) >= DEMO_ROWS // 2
    return [*EDGE_TEXTS, *demo]


@pytest.fixture(scope="module")
def taxonomy_json() -> str:
    import duckdb

    with duckdb.connect() as con:
        return con.execute(
            """select cast(to_json(list({'tag': tag, 'l1': l1, 'l2': l2, 'keywords': keywords,
                   'negative_keywords': negative_keywords, 'is_complaint': is_complaint} order by tag)) as varchar)
               from read_csv(?, all_varchar = true)""",
            [str(TAXONOMY_SEED)],
        ).fetchone()[0]


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from orchestration.engine.spark_session import spark_session

    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = spark_session(SparkSettings("local[2]", str(warehouse), str(warehouse / "lake")), nlp=CONFIG, pseudonym_key=KEY)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def duck():
    import duckdb

    con = duckdb.connect()
    duckdb_functions.register_functions(con, CONFIG)
    pseudonyms.register(con, KEY)
    yield con
    con.close()


def _inputs(texts: list[str | None], taxonomy_json: str) -> pa.Table:
    # every row holds the taxonomy document, a regex pattern and a payload, as the models pass them
    return pa.table({
        "id": pa.array(range(len(texts)), pa.int64()),
        "body": pa.array(texts, pa.string()),
        "taxonomy_json": pa.array([taxonomy_json] * len(texts), pa.string()),
        "pattern": pa.array([r"(物流|快递).{0,6}慢", None, r"\d{11}"] * (len(texts) // 3) + [r"好评"] * (len(texts) % 3)),
        "payload": pa.array(['{"review_id": "r1", "content": ' + repr(text or "") + "}" for text in texts]),
    })


# One statement per function, in SQL both engines read. voc_tag and voc_terms take the outputs of
# voc_analyse and the handle of voc_taxonomy_handle, as int_feedback__text_tags / __text_terms do.
# The handle is cross joined, not passed as a scalar subquery: Spark 4.3 fails a Python UDF whose
# argument is a scalar subquery that itself calls a Python UDF (NullPointerException in
# SparkPlan.session() on the executor; docs/spark.md).
HANDLE = "handle as (select voc_taxonomy_handle(max(taxonomy_json)) as h from inputs)"
STATEMENTS = {
    "voc_clean_text": "select id, voc_clean_text(body) as r from inputs",
    "voc_mask_pii": "select id, voc_mask_pii(body) as r from inputs",
    "voc_mask_payload": "select id, voc_mask_payload(payload) as r from inputs",
    "voc_regex_contains": "select id, voc_regex_contains(body, pattern) as r from inputs",
    "voc_pseudonym": "select id, voc_pseudonym('phone', body) as r from inputs",
    "voc_taxonomy_handle": "select id, voc_taxonomy_handle(taxonomy_json) as r from inputs",
    "voc_analysis_version": "select id, voc_analysis_version('analysis') as r from inputs",
    "voc_analyse": "select id, voc_analyse(body, (select count(*) from inputs)) as r from inputs",
    "voc_enrich": f"with {HANDLE} select id, voc_enrich(body, h) as r from inputs cross join handle",
    "voc_tag": f"""
        with {HANDLE}, analysed as (select id, voc_analyse(body, cast(null as bigint)) as a from inputs)
        select id, voc_tag(a.clauses, a.sentiment_score, h, (select count(*) from inputs)) as r
        from analysed cross join handle""",
    "voc_terms": f"""
        with {HANDLE}
        select id, voc_terms(voc_clean_text(body), h, cast(null as bigint)) as r from inputs cross join handle""",
    "voc_terms_version": f"with {HANDLE} select id, voc_terms_version(h) as r from inputs cross join handle",
}


def test_every_function_is_registered_under_its_duckdb_name():
    names = {name for name, *_ in duckdb_functions.FUNCTIONS} | {pseudonyms.SQL_FUNCTION}
    assert set(spark_functions.RESULT_ARROW_TYPES) == names == set(STATEMENTS)
    assert set(spark_functions.function_bodies()) == names


def test_the_workers_run_one_process_each():
    assert spark_functions.spark_nlp_config(NlpConfig(workers=8, cache_size=7)) == NlpConfig(workers=1, cache_size=7)


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_spark_gives_byte_identical_results(name, spark, duck, texts, taxonomy_json):
    table = _inputs(texts, taxonomy_json)
    duck.register("inputs", table)
    expected = sorted(duck.execute(STATEMENTS[name]).to_arrow_table().to_pylist(), key=lambda row: row["id"])
    # several partitions: the handle is made in one Python worker and resolved in others
    spark.createDataFrame(table.to_pandas()).repartition(3).createOrReplaceTempView("inputs")
    got = sorted(spark.sql(STATEMENTS[name]).toArrow().to_pylist(), key=lambda row: row["id"])
    assert len(got) == len(expected) == len(texts)
    mismatches = [(want["id"], want["r"], have["r"]) for want, have in zip(expected, got) if want != have]
    assert not mismatches, f"{name}: {len(mismatches)} rows differ, first: {mismatches[0]}"
    assert any(row["r"] not in (None, "", [], False) for row in expected)  # the comparison compared something


def test_a_handle_is_resolved_from_the_taxonomy_store_in_another_process(tmp_path, taxonomy_json):
    """What a second executor does: it never saw voc_taxonomy_handle run, and reads the store."""
    from nlp_udfs import parallel

    store = spark_functions.TaxonomyStore(str(tmp_path / "store"))
    handle = parallel.register_taxonomy(taxonomy_json)
    with pytest.raises(spark_functions.TaxonomyStoreError, match="not in the taxonomy store"):
        store.get(handle)
    store.put(handle, taxonomy_json)
    with parallel._taxonomy_cache_lock:
        parallel._registered_documents.pop(handle)
    spark_functions._ensure_known([handle, None, handle], store)
    assert parallel.resolve_taxonomy_argument(handle) == taxonomy_json
    forged = parallel.HANDLE_PREFIX + "0" * 32
    store.put(forged, taxonomy_json)
    with pytest.raises(spark_functions.TaxonomyStoreError, match="other nlp_udfs"):
        spark_functions._ensure_known([forged], store)
