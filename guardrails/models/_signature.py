"""Does a model's logged input signature agree with the data contract its features must satisfy?

After an incident a feature table and a model can drift apart silently: a column is renamed or retyped in the
contract, and the model still expects the old one; MLflow only notices at predict time. This check compares the
two up front, per model input:

- ``<input>.in_contract``: a required model input is a column of the contract;
- ``<input>.required``: the contract guarantees that column is present (``required: true``), since the model
  cannot predict without it;
- ``<input>.type``: the contract's logical type can be fed to the model's input type without loss (table
  `COMPATIBLE_TYPES`).

Optional model inputs absent from the contract, and contract columns the model does not use, are fine (the
latter are counted in the metrics). A model without a column signature fails the rule ``signature.present``:
the check cannot vouch for a model that does not declare its inputs.

Example:
    >>> from datetime import datetime, UTC
    >>> from guardrails.contract.model import ColumnTypeRule, Contract, LogicalType
    >>> contract = Contract(id="tx", version="1.0.0", name="tx", table="tx", rules=(
    ...     ColumnTypeRule(rule_id="amount.type", column="amount", logical_type=LogicalType.NUMBER),))
    >>> inputs = (SignatureInput(name="amount", type="long"),)
    >>> outcome = check_signature(contract, inputs, model="fraud", version=3,
    ...                           now=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    >>> outcome.status.value, [r.rule_id for r in outcome.failed_rules]
    ('failed', ['amount.type'])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from guardrails.contract.model import ColumnTypeRule, Contract, LogicalType
from guardrails.models._registry import SignatureInput
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity

SIGNATURE_CHECK = "model_signature"

# Which MLflow input types accept values of each contract logical type without loss. Integers widen to
# double (exact below 2**53) but not to float32; MLflow has no date or time type, so dates arrive as datetime
# and a time column can feed no typed input. An input typed "any" accepts everything.
COMPATIBLE_TYPES: dict[LogicalType, frozenset[str]] = {
    LogicalType.STRING: frozenset({"string"}),
    LogicalType.INTEGER: frozenset({"long", "integer", "double"}),
    LogicalType.NUMBER: frozenset({"double", "float"}),
    LogicalType.BOOLEAN: frozenset({"boolean"}),
    LogicalType.TIMESTAMP: frozenset({"datetime"}),
    LogicalType.DATE: frozenset({"datetime"}),
    LogicalType.TIME: frozenset(),
    LogicalType.OBJECT: frozenset({"object", "map"}),
    LogicalType.ARRAY: frozenset({"array"}),
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _rule(rule_id: str, column: str, ok: bool, expected: str, message: str) -> RuleResult:
    return RuleResult(
        rule_id=rule_id,
        kind="model_signature",
        columns=(column,) if column else (),
        severity=Severity.ERROR,
        status=CheckStatus.PASSED if ok else CheckStatus.FAILED,
        expected=expected,
        message="" if ok else message,
    )


def check_signature(
    contract: Contract,
    inputs: Sequence[SignatureInput] | None,
    *,
    model: str,
    version: int,
    now: Callable[[], datetime] = _utcnow,
) -> CheckOutcome:
    """Judge a model version's signature `inputs` (None: no column signature logged) against `contract`.

    Returns a `CheckOutcome` of kind MODEL named ``model_signature``: FAILED with one rule per broken
    expectation, PASSED when every model input is a required contract column of a compatible type.
    Metrics: ``inputs``, ``contract_columns``, ``unused_contract_columns``.
    """
    started = now()
    subject = f"{model} v{version}"
    columns: dict[str, ColumnTypeRule] = {c.column: c for c in contract.columns}
    rules: list[RuleResult] = []
    if inputs is None:
        rules.append(
            _rule(
                "signature.present",
                "",
                False,
                "a logged column signature",
                f"{subject} has no column-based input signature; log one with mlflow.models.infer_signature",
            )
        )
    for spec in inputs or ():
        column = columns.get(spec.name)
        if column is None:
            if spec.required:
                rules.append(
                    _rule(
                        f"{spec.name}.in_contract",
                        spec.name,
                        False,
                        f"a column of contract {contract.id}",
                        f"{subject} requires input {spec.name!r}, which contract {contract.id} does not declare",
                    )
                )
            continue
        rules.append(_rule(f"{spec.name}.in_contract", spec.name, True, f"a column of contract {contract.id}", ""))
        if spec.required:
            rules.append(
                _rule(
                    f"{spec.name}.required",
                    spec.name,
                    column.required,
                    "required: true in the contract",
                    f"{subject} requires input {spec.name!r}, but contract {contract.id} lets the column be absent",
                )
            )
        accepted = COMPATIBLE_TYPES[column.logical_type]
        compatible = spec.type == "any" or spec.type in accepted
        rules.append(
            _rule(
                f"{spec.name}.type",
                spec.name,
                compatible,
                f"model type in {{{', '.join(sorted(accepted))}}}" if accepted else "a model type (none fits)",
                f"{subject} expects {spec.name!r} as {spec.type}, contract {contract.id} declares "
                f"{column.logical_type.value}",
            )
        )
    failed = [r for r in rules if r.status is CheckStatus.FAILED]
    used = {spec.name for spec in inputs or ()}
    if failed:
        message = f"{subject} disagrees with contract {contract.id}: " + "; ".join(r.message for r in failed[:3])
        if len(failed) > 3:
            message += f" ... and {len(failed) - 3} more"
    else:
        message = f"{subject} signature agrees with contract {contract.id} ({len(used)} inputs)"
    return CheckOutcome(
        check=SIGNATURE_CHECK,
        kind=CheckKind.MODEL,
        status=CheckStatus.FAILED if failed else CheckStatus.PASSED,
        severity=Severity.ERROR,
        started_at=started,
        finished_at=now(),
        rules=tuple(rules),
        metrics={
            "inputs": len(inputs or ()),
            "contract_columns": len(columns),
            "unused_contract_columns": len(set(columns) - used),
        },
        contract_id=contract.id,
        contract_version=contract.version,
        message=message,
    )
