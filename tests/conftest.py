"""Shared fixtures: a parsed dbt manifest (dagster-dbt needs one) and an isolated environment."""

from __future__ import annotations

import os

import pytest


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
