"""Airflow and Dagster in one virtualenv (DESIGN: they co-install without moving a shared package).

Checked where both are installed (``.venv-airflow``, `make test-airflow`): both adapters import in one process, pip
finds no broken requirement, and every package both depend on is at a version both sides' requirements accept.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import pytest

pytest.importorskip("airflow.sdk")
pytest.importorskip("dagster")

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def _requirements(dist: str) -> list[Requirement]:
    """`dist`'s unconditional requirements (markers evaluated for this interpreter, no extras)."""
    reqs = [Requirement(line) for line in metadata.requires(dist) or []]
    return [req for req in reqs if req.marker is None or req.marker.evaluate({"extra": ""})]


def _closure(root: str) -> set[str]:
    """The installed distributions `root` needs, itself included (canonical names)."""
    seen: set[str] = set()
    todo = [canonicalize_name(root)]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            requirements = _requirements(name)
        except metadata.PackageNotFoundError:
            continue  # a requirement pip check reports as missing; not ours to judge here
        seen.add(name)
        todo.extend(canonicalize_name(req.name) for req in requirements)
    return seen


def test_airflow_and_dagster_adapters_import_in_one_process() -> None:
    """Airflow 3.3's task SDK and Dagster import side by side, and so do both adapters built on them."""
    import airflow
    import dagster as dg
    from airflow.sdk import DAG

    from guardrails.airflow import GuardedOperator
    from guardrails.dagster import GuardrailsComponent

    assert airflow.__version__.split(".")[:2] >= ["3", "3"]
    assert dg.__version__.startswith("1.")
    assert DAG("coinstall").dag_id == "coinstall"
    assert GuardedOperator.__module__ == "guardrails.airflow.operator"
    assert issubclass(GuardrailsComponent, dg.Component)


def test_pip_finds_no_broken_requirement() -> None:
    """``pip check`` over the whole virtualenv (Airflow, Dagster, the core and the test tools) reports nothing."""
    result = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]


def test_every_shared_package_satisfies_both_airflow_and_dagster() -> None:
    """Each package in both Airflow's and Dagster's dependency closures is at a version every requirer accepts."""
    airflow_side, dagster_side = _closure("apache-airflow-core"), _closure("dagster")
    shared = (airflow_side & dagster_side) - {"apache-airflow-core", "dagster"}
    installed = {name: metadata.version(name) for name in shared}

    broken = [f"{requirer} needs {req}, installed {req.name} {installed[canonicalize_name(req.name)]}"
              for requirer in sorted(airflow_side | dagster_side) for req in _requirements(requirer)
              if canonicalize_name(req.name) in shared
              and not req.specifier.contains(installed[canonicalize_name(req.name)], prereleases=True)]

    assert {"sqlalchemy", "alembic", "pydantic"} <= shared  # the ones a careless pin would move
    assert not broken, "\n".join(broken)
