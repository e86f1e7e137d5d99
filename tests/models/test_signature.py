"""The signature-vs-contract consistency check: pure properties, and against models in the real SQLite store."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guardrails.contract.model import ColumnTypeRule, Contract, LogicalType
from guardrails.models import (
    COMPATIBLE_TYPES,
    MlflowModelRegistry,
    ModelGuard,
    SignatureInput,
    check_signature,
)
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus
from tests.models.conftest import free_port, register_versions

MLFLOW_TYPES = ("string", "long", "integer", "double", "float", "boolean", "datetime", "binary", "array", "object")
FIXED = datetime(2026, 1, 1, tzinfo=UTC)


def contract_of(*columns: tuple[str, LogicalType, bool]) -> Contract:
    return Contract(
        id="features",
        version="2.1.0",
        name="features",
        table="features",
        rules=tuple(
            ColumnTypeRule(rule_id=f"{name}.type", column=name, logical_type=logical, required=required)
            for name, logical, required in columns
        ),
    )


typed_columns = st.dictionaries(
    st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
    st.sampled_from([t for t in LogicalType if COMPATIBLE_TYPES[t]]),
    min_size=1,
    max_size=6,
)


@given(typed_columns, st.data())
def test_a_signature_built_from_the_contract_passes(columns: dict[str, LogicalType], data) -> None:  # noqa: ANN001
    """Any signature whose inputs are required contract columns of compatible types passes."""
    contract = contract_of(*((name, logical, True) for name, logical in columns.items()))
    inputs = [
        SignatureInput(name=n, type=data.draw(st.sampled_from(sorted(COMPATIBLE_TYPES[t])))) for n, t in columns.items()
    ]
    used = data.draw(st.lists(st.sampled_from(inputs), unique=True, min_size=1))
    outcome = check_signature(contract, used, model="m", version=1, now=lambda: FIXED)
    assert outcome.status is CheckStatus.PASSED, outcome.message
    assert outcome.metrics["unused_contract_columns"] == len(columns) - len(used)


@given(typed_columns, st.data())
def test_one_incompatible_type_fails_exactly_that_rule(columns: dict[str, LogicalType], data) -> None:  # noqa: ANN001
    """Retyping one input to a type its contract column cannot feed fails that column's type rule and no other."""
    contract = contract_of(*((name, logical, True) for name, logical in columns.items()))
    victim = data.draw(st.sampled_from(sorted(columns)))
    wrong = data.draw(st.sampled_from([t for t in MLFLOW_TYPES if t not in COMPATIBLE_TYPES[columns[victim]]]))
    inputs = [
        SignatureInput(name=n, type=wrong if n == victim else sorted(COMPATIBLE_TYPES[t])[0])
        for n, t in columns.items()
    ]
    outcome = check_signature(contract, inputs, model="m", version=1, now=lambda: FIXED)
    assert outcome.status is CheckStatus.FAILED
    assert [r.rule_id for r in outcome.failed_rules] == [f"{victim}.type"]
    assert CheckOutcome.from_json(outcome.to_json()) == outcome


def test_missing_and_optional_columns_fail_required_inputs_only() -> None:
    """A required input missing from the contract, or optional there, fails; an optional input may be missing."""
    contract = contract_of(("amount", LogicalType.NUMBER, True), ("country", LogicalType.STRING, False))
    inputs = [
        SignatureInput(name="amount", type="double"),
        SignatureInput(name="country", type="string"),
        SignatureInput(name="merchant", type="string"),
        SignatureInput(name="hour", type="long", required=False),
    ]
    outcome = check_signature(contract, inputs, model="fraud", version=4, now=lambda: FIXED)
    assert sorted(r.rule_id for r in outcome.failed_rules) == ["country.required", "merchant.in_contract"]
    assert "fraud v4 requires input 'merchant'" in outcome.message
    assert (outcome.kind, outcome.contract_id, outcome.contract_version) == (CheckKind.MODEL, "features", "2.1.0")


def test_no_signature_fails() -> None:
    """A model that logged no column signature fails the check instead of passing by default."""
    outcome = check_signature(contract_of(("a", LogicalType.STRING, True)), None, model="m", version=2)
    assert outcome.status is CheckStatus.FAILED
    assert [r.rule_id for r in outcome.failed_rules] == ["signature.present"]


@pytest.fixture(scope="module")
def unsigned_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pyfunc model saved without a signature."""
    import mlflow

    class Echo(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):  # noqa: ANN001, ARG002
            return model_input

    path = tmp_path_factory.mktemp("unsigned") / "echo"
    mlflow.pyfunc.save_model(str(path), python_model=Echo(), pip_requirements=[])
    return path


def test_check_reads_the_logged_signature_from_the_registry(
    sqlite_uri: str, saved_model_dir: Path, unsigned_model_dir: Path, model_name: str
) -> None:
    """The guard reads a registered version's logged signature and judges it against the contract."""
    from mlflow import MlflowClient

    register_versions(sqlite_uri, model_name, saved_model_dir, 1)
    MlflowClient(tracking_uri=sqlite_uri, registry_uri=sqlite_uri).create_model_version(
        model_name, source=str(unsigned_model_dir)
    )
    guard = ModelGuard(MlflowModelRegistry(sqlite_uri), model_name)
    agreeing = contract_of(
        ("amount", LogicalType.NUMBER, True), ("n", LogicalType.INTEGER, True), ("cat", LogicalType.STRING, True)
    )
    drifted = contract_of(
        ("amount", LogicalType.NUMBER, True), ("n", LogicalType.STRING, True), ("category", LogicalType.STRING, True)
    )
    assert guard.check_signature(1, agreeing).status is CheckStatus.PASSED
    failed = guard.check_signature(1, drifted)
    assert sorted(r.rule_id for r in failed.failed_rules) == ["cat.in_contract", "n.type"]
    assert [r.rule_id for r in guard.check_signature(2, agreeing).failed_rules] == ["signature.present"]


def test_check_errors_when_the_registry_is_unreachable() -> None:
    """With no tracking server the check reports ERROR with the cause, quickly, rather than passing or hanging."""
    guard = ModelGuard(MlflowModelRegistry(f"http://127.0.0.1:{free_port()}", timeout_seconds=1, max_retries=0), "m")
    started = time.monotonic()
    outcome = guard.check_signature(1, contract_of(("a", LogicalType.STRING, True)))
    assert time.monotonic() - started < 10
    assert outcome.status is CheckStatus.ERROR and outcome.blocks_publication
    assert "Connection" in (outcome.error or "")
