"""VocSettings: every VOC_* variable read once, defaults in one place, folders derived."""

from __future__ import annotations

import os

import pytest

from loaders.api.config import ApiConfigError
from nlp_udfs.config import NlpConfig
from orchestration.settings import (
    DEFAULT_LANDING_DIR,
    DEFAULT_WAREHOUSE_PATH,
    REPO_ROOT,
    VocSettings,
)


def test_defaults_need_no_environment():
    settings = VocSettings.from_env({})
    assert (settings.landing_dir, settings.warehouse_path) == (DEFAULT_LANDING_DIR, DEFAULT_WAREHOUSE_PATH)
    assert settings.nlp == NlpConfig() and not settings.api.sources
    assert settings.ops_webhook_url is None and settings.ops_webhook_format == "json"
    assert dict(settings.alert_webhook_urls) == {}


def test_relative_paths_are_taken_from_the_repository_root():
    settings = VocSettings.from_env({"VOC_LANDING_DIR": "x/landing", "VOC_DUCKDB_PATH": "x/wh/voc.duckdb"})
    assert settings.landing_dir == REPO_ROOT / "x" / "landing"
    assert settings.warehouse_path == REPO_ROOT / "x" / "wh" / "voc.duckdb"


def test_the_folders_beside_the_warehouse(tmp_path):
    settings = VocSettings.from_env({"VOC_DUCKDB_PATH": str(tmp_path / "data" / "warehouse" / "voc.duckdb")})
    warehouse_dir = tmp_path / "data" / "warehouse"
    assert settings.dagster_home == warehouse_dir / "dagster_home"
    assert settings.reports_dir == tmp_path / "data" / "reports"
    assert settings.quality_report_dir == warehouse_dir / "quality_report"
    assert settings.dlt_pipelines_dir == warehouse_dir / ".dlt_pipelines"
    configured = VocSettings.from_env(
        {"VOC_DUCKDB_PATH": str(warehouse_dir / "voc.duckdb"), "DAGSTER_HOME": str(tmp_path / "dh"), "VOC_REPORTS_DIR": str(tmp_path / "r")}
    )
    assert (configured.dagster_home, configured.reports_dir) == (tmp_path / "dh", tmp_path / "r")


def test_the_publication_folder_and_how_many_are_kept(tmp_path):
    warehouse = tmp_path / "data" / "warehouse" / "voc.duckdb"
    settings = VocSettings.from_env({"VOC_DUCKDB_PATH": str(warehouse)})
    assert settings.publish_dir == tmp_path / "data" / "published" and settings.publish_keep == 7
    moved = VocSettings.from_env({"VOC_PUBLISH_DIR": "x/pub", "VOC_PUBLISH_KEEP": " 3 "})
    assert moved.publish_dir == REPO_ROOT / "x" / "pub" and moved.publish_keep == 3
    assert moved.child_env({})["VOC_PUBLISH_DIR"] == str(REPO_ROOT / "x" / "pub")
    assert VocSettings.from_env(moved.child_env({})).publish_keep == 3
    for bad in ("0", "seven"):
        with pytest.raises(ApiConfigError, match="VOC_PUBLISH_KEEP"):
            VocSettings.from_env({"VOC_PUBLISH_KEEP": bad})


def test_secrets_are_read_but_never_shown():
    settings = VocSettings.from_env({
        "VOC_OPS_WEBHOOK_URL": "https://ops.example/hook?key=s3cret",
        "VOC_OPS_WEBHOOK_FORMAT": " WeCom ",
        "VOC_ALERT_WEBHOOK_VIP_SERVICE": "https://vip.example/?key=s3cret",
        "VOC_ALERT_WEBHOOK_EMPTY": "  ",
        "VOC_SURVEYS_MODE": "api",
        "VOC_SURVEYS_BASE_URL": "https://vendor.example/",
        "VOC_SURVEYS_TOKEN": "s3cret",
    })
    assert settings.ops_webhook_format == "wecom"
    assert dict(settings.alert_webhook_urls) == {"VOC_ALERT_WEBHOOK_VIP_SERVICE": "https://vip.example/?key=s3cret"}
    assert settings.api.sources["surveys"].base_url == "https://vendor.example"
    assert "s3cret" not in repr(settings)


def test_nlp_configuration_is_read_here_and_handed_to_dbt():
    settings = VocSettings.from_env({"VOC_SEGMENTER": "jieba", "VOC_SENTIMENT_MODEL": "off", "VOC_NLP_WORKERS": "3"})
    assert settings.nlp == NlpConfig(segmenter="jieba", sentiment_model=False, workers=3)
    assert settings.dbt_vars() == {
        "voc_warehouse_path": str(DEFAULT_WAREHOUSE_PATH),
        "voc_segmenter": "jieba",
        "voc_sentiment_model": "off",
        "voc_nlp_workers": "3",
        "voc_nlp_cache_size": "50000",
    }
    with pytest.raises(ValueError):
        VocSettings.from_env({"VOC_SEGMENTER": "thulac"})


def test_a_bad_api_setting_is_refused_when_the_settings_are_read():
    with pytest.raises(ApiConfigError, match="VOC_TICKETS_BASE_URL"):
        VocSettings.from_env({"VOC_TICKETS_MODE": "api"})


def test_child_env_is_built_without_touching_this_process(tmp_path):
    before = dict(os.environ)
    settings = VocSettings.from_env({"VOC_LANDING_DIR": str(tmp_path / "l"), "VOC_DUCKDB_PATH": str(tmp_path / "w.duckdb")})
    env = settings.child_env({"PATH": "/usr/bin", "VOC_HASH_SALT": "pepper"})
    assert dict(os.environ) == before
    assert env["VOC_LANDING_DIR"] == str(tmp_path / "l") and env["VOC_DUCKDB_PATH"] == str(tmp_path / "w.duckdb")
    assert env["DAGSTER_HOME"] == str(tmp_path / "dagster_home") and env["VOC_HASH_SALT"] == "pepper"
    assert env["PATH"].split(os.pathsep)[-1] == "/usr/bin"
    child = VocSettings.from_env(env)  # a child reads back the same settings
    assert (child.landing_dir, child.warehouse_path, child.dagster_home, child.nlp) == (
        settings.landing_dir, settings.warehouse_path, settings.dagster_home, settings.nlp
    )


# --- the pseudonym key ---------------------------------------------------------------------------


def _demo_landing(tmp_path):
    from orchestration.settings import DEMO_MARKER_NAME

    landing = tmp_path / "demo_landing"
    landing.mkdir()
    (landing / DEMO_MARKER_NAME).write_text("demo\n", encoding="utf-8")
    return landing


def test_the_key_is_read_as_bytes_and_never_shown(tmp_path):
    from nlp_udfs.pseudonyms import DEMO_KEY, decode_key

    key = "k'\"\\{{ x }}%键 "
    settings = VocSettings.from_env({"VOC_HASH_SALT": key})
    assert settings.hash_key == key.encode() and not settings.uses_demo_key
    assert key not in repr(settings) and repr(key.encode()) not in repr(settings)
    assert VocSettings.from_env({}).hash_key == DEMO_KEY and VocSettings.from_env({"VOC_HASH_SALT": " "}).uses_demo_key
    # a dbt child gets it as the DBT_ENV_SECRET_ text the plugin decodes, never in --vars
    env = settings.child_env({"PATH": "/usr/bin"})
    assert decode_key(env["DBT_ENV_SECRET_VOC_HASH_KEY"]) == key.encode()
    assert key not in str(settings.dbt_vars()) and env["DBT_ENV_SECRET_VOC_HASH_KEY"] not in str(settings.dbt_vars())


def test_the_key_is_in_this_process_environment_only_while_dagster_dbt_starts_dbt():
    from nlp_udfs.pseudonyms import decode_key

    settings = VocSettings.from_env({"VOC_HASH_SALT": "abc"})
    before = dict(os.environ)
    with settings.dbt_key_in_environment():
        assert decode_key(os.environ["DBT_ENV_SECRET_VOC_HASH_KEY"]) == b"abc"
    assert dict(os.environ) == before


@pytest.mark.parametrize("salt", [None, "voc-demo-salt"])
def test_real_landing_data_without_a_key_of_its_own_is_refused(tmp_path, salt):
    landing = tmp_path / "exports"
    (landing / "surveys").mkdir(parents=True)
    (landing / "surveys" / "s.jsonl").write_text("{}\n", encoding="utf-8")
    environ = {"VOC_LANDING_DIR": str(landing)}
    if salt is not None:
        environ["VOC_HASH_SALT"] = salt
    problem = VocSettings.from_env(environ).pseudonym_key_problem()
    assert problem and "VOC_HASH_SALT" in problem and str(landing) in problem and ".voc-demo" in problem
    assert ("public demo key" if salt else "not set") in problem and "nothing was written" in problem


def test_api_mode_without_a_key_is_refused_even_on_a_demo_landing(tmp_path):
    environ = {"VOC_LANDING_DIR": str(_demo_landing(tmp_path)), "VOC_TICKETS_MODE": "api",
               "VOC_TICKETS_BASE_URL": "https://helpdesk.example"}
    problem = VocSettings.from_env(environ).pseudonym_key_problem()
    assert problem and "tickets load from vendor APIs" in problem
    assert VocSettings.from_env({**environ, "VOC_HASH_SALT": "our own secret"}).pseudonym_key_problem() is None


def test_the_demo_runs_with_the_demo_key_and_real_data_with_its_own(tmp_path):
    assert VocSettings.from_env({"VOC_LANDING_DIR": str(_demo_landing(tmp_path))}).pseudonym_key_problem() is None
    real = {"VOC_LANDING_DIR": str(tmp_path / "exports"), "VOC_HASH_SALT": "our own secret"}
    assert VocSettings.from_env(real).pseudonym_key_problem() is None


def test_the_demo_generator_marks_its_landing_folder(tmp_path):
    from devtools.demo.api import generate

    settings = VocSettings.from_env({"VOC_LANDING_DIR": str(tmp_path / "landing")})
    assert not settings.landing_is_demo()
    generate(settings.landing_dir, rows=30, seed=1)
    assert settings.landing_is_demo() and settings.landing_has_source_files()
    assert settings.pseudonym_key_problem() is None


def test_ensure_demo_marks_demo_data_generated_before_the_marker(tmp_path):
    from click.testing import CliRunner

    from devtools.cli import main
    from devtools.demo.api import generate

    landing = tmp_path / "landing"
    generate(landing, rows=30, seed=1)
    (landing / ".voc-demo").unlink()  # as the generator left it before markers
    (tmp_path / "exports" / "surveys").mkdir(parents=True)
    (tmp_path / "exports" / "surveys" / "s.jsonl").write_text("{}\n", encoding="utf-8")
    for folder in (landing, tmp_path / "exports"):
        result = CliRunner().invoke(main, ["ensure-demo"], env={"VOC_LANDING_DIR": str(folder)})
        assert result.exit_code == 0, result.output
    assert VocSettings.from_env({"VOC_LANDING_DIR": str(landing)}).landing_is_demo()
    assert not VocSettings.from_env({"VOC_LANDING_DIR": str(tmp_path / "exports")}).landing_is_demo()  # real stays real


# --- the engine (docs/spark.md) ------------------------------------------------------------------


def test_the_engine_is_duckdb_unless_spark_is_chosen(tmp_path):
    from orchestration.settings import DEFAULT_SPARK_MASTER

    warehouse = tmp_path / "data" / "warehouse" / "voc.duckdb"
    settings = VocSettings.from_env({"VOC_DUCKDB_PATH": str(warehouse)})
    assert settings.engine == "duckdb" and not settings.uses_spark
    assert settings.spark_master == DEFAULT_SPARK_MASTER == "local[2]"
    # beside the warehouse folder, like the reports: data/lake and data/spark-warehouse by default
    assert settings.lake_dir == str(tmp_path / "data" / "lake")
    assert settings.spark_warehouse_dir == str(tmp_path / "data" / "spark-warehouse")
    assert "voc_spark_master" not in settings.dbt_vars()
    spark = VocSettings.from_env({"VOC_DUCKDB_PATH": str(warehouse), "VOC_ENGINE": " Spark ", "VOC_SPARK_MASTER": "local[*]"})
    assert spark.uses_spark and spark.spark.master == "local[*]" and spark.spark.is_local
    assert spark.dbt_vars()["voc_spark_master"] == "local[*]"
    assert spark.dbt_vars()["voc_lake_dir"] == str(tmp_path / "data" / "lake")
    assert spark.dbt_vars()["voc_spark_warehouse_dir"] == spark.spark.warehouse_dir


def test_lake_and_spark_warehouse_take_paths_and_urls():
    settings = VocSettings.from_env({"VOC_LAKE_DIR": "x/lake", "VOC_SPARK_WAREHOUSE_DIR": "hdfs://nn:8020/voc/warehouse"})
    assert settings.lake_dir == str(REPO_ROOT / "x" / "lake")
    assert settings.spark_warehouse_dir == "hdfs://nn:8020/voc/warehouse"
    assert VocSettings.from_env({"VOC_LAKE_DIR": "s3://bucket/voc/lake"}).lake_dir == "s3://bucket/voc/lake"


@pytest.mark.parametrize("master", ["local", "local[1]", "local[*]", "local[4,2]", "spark://head:7077", "yarn", "k8s://https://api:6443"])
def test_spark_masters_a_driver_can_start_against(master):
    assert VocSettings.from_env({"VOC_SPARK_MASTER": master}).spark.master == master


@pytest.mark.parametrize(
    ("environ", "match"),
    [
        ({"VOC_ENGINE": "postgres"}, "VOC_ENGINE must be one of duckdb, spark"),
        ({"VOC_SPARK_MASTER": "local[0]"}, "VOC_SPARK_MASTER"),
        ({"VOC_SPARK_MASTER": "head:7077"}, "VOC_SPARK_MASTER"),
        ({"VOC_SPARK_CONF": "spark.executor.memory=4g"}, "JSON object"),
        ({"VOC_SPARK_CONF": '["spark.executor.memory"]'}, "JSON object"),
        ({"VOC_SPARK_CONF": '{"executor.memory": "4g"}'}, "start with 'spark.'"),
        ({"VOC_SPARK_CONF": '{"spark.x": {"nested": 1}}'}, "string, number or boolean"),
    ],
)
def test_a_bad_engine_setting_is_refused_when_the_settings_are_read(environ, match):
    from orchestration.settings import EngineConfigError

    with pytest.raises(EngineConfigError, match=match):
        VocSettings.from_env(environ)


def test_extra_spark_conf_is_text_never_shown_and_reaches_a_child_not_dbt():
    secret = '{"spark.hadoop.fs.s3a.secret.key": "s3cret", "spark.executor.instances": 4, "spark.dynamicAllocation.enabled": false}'
    settings = VocSettings.from_env({"VOC_ENGINE": "spark", "VOC_SPARK_CONF": secret})
    assert dict(settings.spark.conf) == {
        "spark.hadoop.fs.s3a.secret.key": "s3cret",
        "spark.executor.instances": "4",
        "spark.dynamicAllocation.enabled": "false",
    }
    assert "s3cret" not in repr(settings) and "s3cret" not in repr(settings.spark)
    assert "s3cret" not in str(settings.dbt_vars())  # vars land in dbt's artifacts
    child = VocSettings.from_env(settings.child_env({}))
    assert child.spark == settings.spark and dict(child.spark_conf) == dict(settings.spark_conf)
    assert (child.engine, child.lake_dir, child.spark_warehouse_dir) == ("spark", settings.lake_dir, settings.spark_warehouse_dir)
    with pytest.raises(ValueError) as refused:
        VocSettings.from_env({"VOC_SPARK_CONF": '{"spark.hadoop.fs.s3a.secret.key": ["s3cret"]}'})
    assert "s3cret" not in str(refused.value)


def test_a_dbt_child_reads_the_key_it_was_handed():
    from nlp_udfs.pseudonyms import DEMO_KEY, encode_key
    from orchestration.settings import DBT_KEY_VARIABLE, dbt_child_pseudonym_key

    assert dbt_child_pseudonym_key({}) == DEMO_KEY
    assert dbt_child_pseudonym_key({DBT_KEY_VARIABLE: encode_key(b"pe'pper")}) == b"pe'pper"
