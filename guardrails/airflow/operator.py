"""`GuardedOperator`: run a callable that returns a batch, audit the batch before anything is written, publish it.

The contract is loaded when the operator is built, that is when the DAG file is parsed: a malformed contract
makes the DAG file fail to import, and the import error names the file, line and field. The data is only
touched when the task runs.

Example (in a DAG file)::

    clean = GuardedOperator(
        task_id="clean_transactions",
        python_callable=land_transactions,            # returns a polars/pandas/pyarrow frame or a Parquet path
        contract=CONTRACTS / "transactions.odcs.yaml",
        target="/lake/transactions/date={partition}",  # or a callable (table, partition) -> where it went
    )
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import Asset

from guardrails.airflow._publish import GuardSpec, Publish, guard_and_publish
from guardrails.airflow.models import ModelWatch, RegistrySettings, outlets_with
from guardrails.contract import load_contract
from guardrails.contract.model import Contract, QuarantinePolicy
from guardrails.quarantine import ParquetTarget, TableTarget
from guardrails.quarantine._table import is_table_target


def build_guard_spec(
    contract: Contract | str | os.PathLike[str],
    target: str | TableTarget | Publish,
    *,
    table: str | None = None,
    policy: QuarantinePolicy | str | None = None,
    asset: Asset | None = None,
    quarantine: str | None = None,
    allow_unrun: bool = False,
    models: ModelWatch | None = None,
) -> GuardSpec:
    """Load the contract and check the target now (DAG parse time), so a bad one is an import error.

    The default asset is the target's directory (`default_asset_uri`), its name the same URI: Airflow wants an
    asset's name unique, and several tasks may guard one table into different targets.

    Raises:
        ContractError: the contract file is malformed (file, line and field in the message).
        ValueError: the target pattern is malformed, or is neither a pattern nor a callable.
    """
    loaded = contract if isinstance(contract, Contract) else load_contract(contract, table=table)
    if policy is not None:
        loaded = replace(loaded, policy=QuarantinePolicy(policy))
    if isinstance(target, TableTarget):
        resolved: ParquetTarget | TableTarget | Publish = target
    elif isinstance(target, str) and is_table_target(target):
        resolved = TableTarget(target)
    elif isinstance(target, str | os.PathLike):
        resolved = ParquetTarget(os.fspath(target))
    elif callable(target):
        resolved = target
    else:
        raise ValueError(f"target: expected a Parquet URI pattern or a callable (table, partition), got {target!r}")
    if asset is None:
        asset = Asset(default_asset_uri(resolved, loaded))
    return GuardSpec(contract=loaded, target=resolved, asset=asset, quarantine=quarantine, allow_unrun=allow_unrun,
                     models=models)


def default_asset_uri(target: ParquetTarget | TableTarget | Publish, contract: Contract) -> str:
    """The target's URI up to the directory holding its first placeholder, or ``guardrails://<table>`` for a callable.

    Example:
        >>> default_asset_uri(ParquetTarget("s3://lake/transactions/date={partition}"), None)
        's3://lake/transactions'
    """
    if isinstance(target, TableTarget):
        return target.asset_uri
    if isinstance(target, ParquetTarget):
        static = target.pattern.split("{", 1)[0]
        return static.rsplit("/", 1)[0] if "{" in target.pattern else target.pattern
    return f"guardrails://{contract.table or contract.id}"


class GuardedOperator(PythonOperator):
    """A `PythonOperator` whose callable returns a batch that is audited against a contract before publication.

    Args:
        python_callable: returns the batch (polars/pandas/pyarrow frame, or a Parquet file or directory path).
        contract: a `Contract`, or the path of its ODCS file (use an absolute path, e.g. built from the DAG
            file's ``__file__``: Airflow's working directory is not the DAG's).
        target: where a good batch is published: a Parquet file or directory URI pattern with ``{partition}``
            (any fsspec URL; a local path is made absolute), or a callable ``(table, partition) -> where``; or a
            table (``duckdb:///f.duckdb?table=tx``, ``postgresql://host/db?table=tx``, or a `TableTarget` naming
            its partition column): the callable then stages the batch as a table and returns its name, and the
            batch is audited and published in the database.
        table: which ``schema[]`` object of the contract file, when it has several.
        policy: overrides the contract's quarantine policy (``batch`` or ``rows``).
        asset: the asset whose events carry the outcome (added to the task's outlets); default: see
            `build_guard_spec`.
        quarantine: the quarantine store's location (default ``$GUARDRAILS_QUARANTINE``, else
            ``.guardrails/quarantine``, read when the task runs).
        allow_unrun: judge rules guardrails cannot run as warnings instead of failing closed (``--allow-unrun``).
        model: the registered model(s) the batch feeds: a quarantine holds their promotion before the task fails,
            a pass releases the hold of its partition (`guardrails.airflow.models`).
        model_registry: their registry: `RegistrySettings`, or a tracking URI; default ``$MLFLOW_TRACKING_URI``.
        **kwargs: passed to `PythonOperator` (``op_args``, ``op_kwargs``, ``outlets``, ``retries``, ...).

    Returns (as XCom ``return_value``) the outcome record that is also the asset event's extra.
    """

    shallow_copy_attrs: Sequence[str] = ("python_callable", "guard")

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        contract: Contract | str | os.PathLike[str],
        target: str | TableTarget | Publish,
        table: str | None = None,
        policy: QuarantinePolicy | str | None = None,
        asset: Asset | None = None,
        quarantine: str | None = None,
        allow_unrun: bool = False,
        model: str | Sequence[str] | None = None,
        model_registry: RegistrySettings | str | None = None,
        **kwargs: Any,
    ) -> None:
        self.guard = build_guard_spec(contract, target, table=table, policy=policy, asset=asset, quarantine=quarantine,
                                      allow_unrun=allow_unrun, models=ModelWatch.parse(model, model_registry))
        outlets = outlets_with(self.guard.asset, kwargs)
        kwargs.setdefault("show_return_value_in_logs", False)  # the body returns a whole frame
        super().__init__(python_callable=python_callable, outlets=outlets, **kwargs)

    def execute(self, context: Any) -> Any:
        batch = super().execute(context)
        return guard_and_publish(batch, self.guard, context)
