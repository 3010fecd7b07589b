"""The Dagster load asset picks api mode from the environment and retries a broken vendor page."""

import dagster as dg
import duckdb
import pytest
from dagster_dlt import DagsterDltResource

from devtools.demo.api import generate
from devtools.fake_api import FakeVendorApi, Fault, VendorStore
from orchestration.assets.ingestion import ingestion_assets
from orchestration.resources import VocWarehouse
from orchestration.settings import VocSettings

pytestmark = pytest.mark.dagster


def _asset(name: str) -> dg.AssetsDefinition:
    return next(a for a in ingestion_assets if a.node_def.name == name)


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    path = tmp_path_factory.mktemp("dagster_api_landing")
    generate(path, rows=150, seed=3)
    return path


def _materialize(name, landing, warehouse, instance, environ):
    # api mode is real data: it needs a pseudonym key of its own (not the demo key)
    settings = VocSettings.from_env({"VOC_LANDING_DIR": str(landing), "VOC_DUCKDB_PATH": str(warehouse),
                                     "VOC_HASH_SALT": "api-test-key", **environ})
    return dg.materialize(
        [_asset(name)],
        resources={"dlt": DagsterDltResource(), "warehouse": VocWarehouse.from_settings(settings), "settings": settings},
        instance=instance,
        raise_on_error=False,
    )


def test_load_asset_reads_the_api_when_the_environment_says_so(landing, tmp_path):
    warehouse = tmp_path / "voc.duckdb"
    with FakeVendorApi(VendorStore.from_landing(landing), token="tok") as server, dg.instance_for_test() as instance:
        result = _materialize("load_reviews", landing, warehouse, instance, server.env(["reviews"]))
        assert result.success
        logs = "\n".join(e.message or "" for e in instance.all_logs(result.run_id))
        assert f"reviews: vendor API at {server.base_url} (bearer token set)" in logs and "tok\n" not in logs
        served = len(server.served_ids("reviews"))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        read = con.execute("select sum(records_read) from raw.reviews_files where file like 'api:reviews?%'").fetchall()[0][0]
    assert served > 0 and read == served


def test_a_vendor_page_that_stays_broken_fails_the_step_with_source_and_page(landing, tmp_path):
    store = VendorStore.from_landing(landing)
    with FakeVendorApi(store, faults=[Fault("members", 1, "500", times=None)]) as server, dg.instance_for_test() as instance:
        environ = {
            **server.env(["members"]),
            "VOC_API_MAX_ATTEMPTS": "2",
            "VOC_API_BACKOFF_SECONDS": "0.01",
            "VOC_API_STEP_RETRIES": "1",
            "VOC_API_STEP_RETRY_SECONDS": "0",
        }
        result = _materialize("load_members", landing, tmp_path / "voc.duckdb", instance, environ)
        attempts = [r for r in server.requests if r.family == "members"]
    assert not result.success
    assert len(attempts) == 4  # 2 attempts per request, and the step ran twice (one step retry)
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    error = failure.step_failure_data.error
    text = []
    while error is not None:
        text.append(error.message)
        error = error.cause
    assert "members API: page 1" in "\n".join(text)
