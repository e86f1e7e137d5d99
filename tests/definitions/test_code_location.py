"""The example code location loads cleanly: definitions validate, the guard's check is blocking, no warnings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from definitions.assets import TRANSACTIONS_CONTRACT, parse_defect
from definitions.data import Defect
from definitions.settings import REPOSITORY_ROOT

OUR_CODE = (str(REPOSITORY_ROOT / "definitions"), str(REPOSITORY_ROOT / "guardrails"))
ASSETS = {"raw_transactions", "clean_transactions", "transaction_features", "fraud_model", "scored_transactions"}

WARNINGS_PROBE = """
import json, warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import definitions.definitions as location
    location.defs.get_repository_def()
print(json.dumps([
    {"category": f"{w.category.__module__}.{w.category.__name__}", "message": str(w.message), "file": w.filename}
    for w in caught
]))
"""


def test_definitions_validate(demo_defs: dg.Definitions) -> None:
    """`Definitions.validate_loadable` accepts the code location, and it has the five assets, the job and the checks."""
    dg.Definitions.validate_loadable(demo_defs)
    graph = demo_defs.resolve_asset_graph()
    assert ASSETS <= {key.to_user_string() for key in graph.get_all_asset_keys()}
    checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
    assert {("clean_transactions", "transactions_contract"), ("fraud_model", "evaluation_roc_auc")} <= checks
    assert demo_defs.resolve_job_def("daily_pipeline").partitions_def is not None


def test_the_contract_check_is_blocking(demo_defs: dg.Definitions) -> None:
    """The guard's contract check is blocking, so automation and runs never proceed past a failed batch."""
    spec = next(iter(demo_defs.resolve_assets_def("clean_transactions").check_specs))
    assert spec.blocking
    assert Path(spec.metadata["guardrails/contract_path"]) == TRANSACTIONS_CONTRACT


@pytest.mark.slow
def test_code_location_loads_without_warnings_from_any_directory(tmp_path: Path) -> None:
    """Importing the code location from another directory raises no Dagster warning and none from our code."""
    env = {"GUARDRAILS_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    probe = subprocess.run(
        [sys.executable, "-c", WARNINGS_PROBE],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPOSITORY_ROOT)},
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    caught = json.loads(probe.stdout.strip().splitlines()[-1])
    # Third-party libraries may warn about their own dependencies; Dagster's warnings and ours are avoidable.
    avoidable = [w for w in caught if w["category"].startswith("dagster") or w["file"].startswith(OUR_CODE)]
    assert avoidable == []


def test_defect_names_parse_and_typos_are_named() -> None:
    """Every defect parses from its name, empty means none, and a typo names the setting and the valid names."""
    assert [parse_defect(d.value, source="x") for d in Defect] == list(Defect)
    assert parse_defect("", source="x") is None
    with pytest.raises(ValueError, match=r"GUARDRAILS_DEMO_DEFECT: expected one of nulls, .*got 'null'"):
        parse_defect("null", source="GUARDRAILS_DEMO_DEFECT")
