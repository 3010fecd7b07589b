"""Shared fixtures: a parsed dbt manifest (dagster-dbt needs one) and an isolated environment."""

from __future__ import annotations

import os

import pytest


def pytest_configure(config):
    """Parse the dbt project before collection: some test modules import the Dagster definitions,
    and dagster-dbt needs a manifest to build them (a fresh clone has none)."""
    from orchestration.pipeline_run import prepare_dbt_manifest

    prepare_dbt_manifest()


@pytest.fixture(scope="session")
def dbt_manifest():
    from orchestration.pipeline_run import prepare_dbt_manifest
    from orchestration.project import voc_dbt_project

    prepare_dbt_manifest()
    return voc_dbt_project.manifest_path


@pytest.fixture(scope="module")
def restore_environ():
    """Pipeline runs export VOC_* paths into os.environ for dbt; put the environment back afterwards."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
