"""Fixtures for the example code location: a temporary home, the code location built on it, a real instance."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import mlflow
import pytest

from definitions.definitions import build_definitions
from definitions.settings import REPOSITORY_ROOT, DemoSettings


def settings_for(home: Path) -> DemoSettings:
    """Settings rooted at `home`, with the repository's contracts and a SQLite MLflow store inside `home`."""
    return DemoSettings(
        home=home, contracts_dir=REPOSITORY_ROOT / "expectations", tracking_uri=f"sqlite:///{home / 'mlflow.db'}"
    )


@pytest.fixture(scope="module")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> DemoSettings:
    return settings_for(tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def demo_defs(demo_settings: DemoSettings) -> dg.Definitions:
    return build_definitions(demo_settings)


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test(temp_dir=str(tmp_path_factory.mktemp("dagster_home"))) as instance:
        yield instance


@pytest.fixture(autouse=True, scope="module")
def _restore_mlflow_uris() -> Iterator[None]:
    """The pipeline points MLflow's process-wide URIs (and their env vars) at a temp store; undo that afterwards."""
    saved = {name: os.environ.get(name) for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    yield
    mlflow.set_tracking_uri(saved["MLFLOW_TRACKING_URI"])  # None unsets the global and the env var
    mlflow.set_registry_uri(saved["MLFLOW_REGISTRY_URI"])
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
