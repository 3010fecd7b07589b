"""Real data without a secret pseudonym key: `voc run`, `run_everything` and a Dagster run (the
loads and the dbt build) stop with a clear message before anything is written."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from orchestration.settings import PseudonymKeyError, VocSettings

pytestmark = [pytest.mark.dagster, pytest.mark.dbt]


@pytest.fixture
def real_landing(tmp_path) -> Path:
    """Exports the demo generator did not write (no .voc-demo marker)."""
    landing = tmp_path / "exports"
    (landing / "surveys").mkdir(parents=True)
    (landing / "surveys" / "surveys_2026-11.jsonl").write_text(
        '{"response_id": "R1", "survey_id": "nps", "submitted_at": "2026-11-01 10:00:00", '
        '"respondent": {"phone": "13800138000"}, "answers": {"nps": 9}}\n',
        encoding="utf-8",
    )
    return landing


def _environ(tmp_path: Path, landing: Path, **extra: str) -> dict[str, str]:
    return {"VOC_LANDING_DIR": str(landing), "VOC_DUCKDB_PATH": str(tmp_path / "wh" / "voc.duckdb"),
            "DAGSTER_HOME": str(tmp_path / "dh"), **extra}


def _nothing_written(tmp_path: Path) -> bool:
    return not (tmp_path / "wh").exists() and not (tmp_path / "dh").exists()


@pytest.mark.parametrize("extra", [{}, {"VOC_HASH_SALT": "voc-demo-salt"}])
def test_voc_run_refuses_real_data_without_a_key(tmp_path, real_landing, extra):
    from orchestration.cli import main

    result = CliRunner().invoke(main, ["run"], env=_environ(tmp_path, real_landing, **extra))
    assert result.exit_code == 2
    assert "VOC_HASH_SALT" in result.output and str(real_landing) in result.output
    assert "nothing was written" in result.output
    assert _nothing_written(tmp_path)


def test_run_everything_refuses_before_writing(tmp_path, real_landing):
    from orchestration.pipeline_run import run_everything

    settings = VocSettings.from_env(_environ(tmp_path, real_landing))
    with pytest.raises(PseudonymKeyError, match="VOC_HASH_SALT is not set"):
        run_everything(settings)
    assert _nothing_written(tmp_path)


def _failure_text(result: dg.ExecuteInProcessResult) -> str:
    texts = []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            while error is not None:
                texts.append(error.message)
                error = error.cause
    return "\n".join(texts)


def test_a_dagster_run_fails_at_the_first_writing_step(tmp_path, real_landing):
    """The loads and the dbt build check the key first; with real data and no key, the run
    fails there and neither the warehouse file nor dlt's working folders exist after."""
    from dagster_dlt import DagsterDltResource

    from orchestration.assets.ingestion import ingestion_assets
    from orchestration.assets.transformation import voc_dbt_models
    from orchestration.resources import build_resources

    settings = VocSettings.from_env(_environ(tmp_path, real_landing))
    (load_surveys,) = [a for a in ingestion_assets if a.op.name == "load_surveys"]
    resources = build_resources(settings)
    assert isinstance(resources["dlt"], DagsterDltResource)
    for assets in ([load_surveys], [voc_dbt_models]):
        result = dg.materialize(assets, resources=resources, raise_on_error=False)
        assert not result.success
        text = _failure_text(result)
        assert "VOC_HASH_SALT is not set" in text and "nothing was written" in text, text
    assert not (tmp_path / "wh").exists()
