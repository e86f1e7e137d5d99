"""`GuardrailsComponent`: declare contract guardrails in a ``defs.yaml`` with no Python.

Each entry checks an existing asset against a contract (`build_contract_checks`); with ``publish_as`` it
also creates a guarded asset of that name which reads the asset and publishes only batches that pass
(write-audit-publish with the quarantine store, like `guarded_asset`). Contract paths are resolved against
the ``defs.yaml``'s directory, then the project root, then the working directory / ``$GUARDRAILS_CONTRACTS``.

Example ``defs.yaml``::

    type: guardrails.dagster.GuardrailsComponent
    attributes:
      guardrails:
        - asset: raw_transactions
          contract: expectations/transactions.odcs.yaml
          severity: error            # or warning: record only, never blocks
        - asset: raw_transactions
          contract: expectations/transactions.odcs.yaml
          publish_as: audited_transactions
          policy: rows               # publish the valid rows, quarantine the rest
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import dagster as dg
from dagster.components import Component, ComponentLoadContext, Model, Resolvable
from pydantic import Field, model_validator

from guardrails.dagster.asset import guarded_asset
from guardrails.dagster.checks import build_contract_checks
from guardrails.dagster.resources import QUARANTINE_RESOURCE_KEY


class ContractGuardrail(Model, Resolvable):
    """One guardrail: an asset, the contract it must satisfy, and how a failure is treated."""

    asset: str = Field(description="Asset key to check, path parts separated by '/' (e.g. raw/transactions).")
    contract: str = Field(description="ODCS contract file, relative to this defs.yaml, the project root, or cwd.")
    table: str | None = Field(default=None, description="The schema object in the contract, when it has several.")
    severity: Literal["error", "warning"] | None = Field(
        default=None, description="Force the check severity; 'warning' records only and never blocks."
    )
    check_name: str | None = Field(default=None, description="Check name (default '<table>_contract').")
    publish_as: str | None = Field(
        default=None,
        description="Also create a guarded asset of this name that reads `asset` and publishes only audited data.",
    )
    policy: Literal["batch", "rows"] | None = Field(
        default=None, description="Quarantine policy of the `publish_as` asset (default: the contract's)."
    )
    group_name: str | None = Field(default=None, description="Group of the `publish_as` asset.")

    @model_validator(mode="after")
    def _policy_needs_publish_as(self) -> ContractGuardrail:
        if self.policy is not None and self.publish_as is None:
            raise ValueError(
                f"guardrail for {self.asset!r}: 'policy' only applies with 'publish_as' (a check on an asset that is "
                "already stored cannot quarantine it); add publish_as: <name> or remove policy"
            )
        return self


class GuardrailsComponent(Component, Model, Resolvable):
    """Contract checks (and optionally guarded, audited copies) for assets declared in YAML."""

    guardrails: list[ContractGuardrail] = Field(description="The guardrails to build.")
    quarantine_resource_key: str = Field(
        default=QUARANTINE_RESOURCE_KEY, description="Resource key of the QuarantineResource (publish_as assets)."
    )

    def build_defs(self, context: ComponentLoadContext) -> dg.Definitions:
        checks: list[dg.AssetChecksDefinition] = []
        assets: list[dg.AssetsDefinition] = []
        for entry in self.guardrails:
            contract_path = _resolve(entry.contract, context)
            checks.extend(build_contract_checks(
                [entry.asset], contract=contract_path, table=entry.table, severity=entry.severity,
                check_name=entry.check_name,
            ))
            if entry.publish_as:
                assets.append(_published_copy(entry, contract_path, self.quarantine_resource_key))
        return dg.Definitions(assets=assets, asset_checks=checks)


def _published_copy(entry: ContractGuardrail, contract_path: Path, quarantine_key: str) -> dg.AssetsDefinition:
    def publish(batch: Any) -> Any:
        return batch

    return guarded_asset(
        contract=contract_path,
        table=entry.table,
        policy=entry.policy,
        quarantine_resource_key=quarantine_key,
        name=entry.publish_as,
        ins={"batch": dg.AssetIn(key=dg.AssetKey.from_user_string(entry.asset))},
        group_name=entry.group_name,
        description=f"{entry.asset}, audited against {entry.contract}: only batches that pass are published.",
    )(publish)


def _resolve(contract: str, context: ComponentLoadContext) -> Path:
    path = Path(contract)
    if path.is_absolute():
        return path
    here = context.path if context.path.is_dir() else context.path.parent
    for base in (here, context.project_root):
        if (base / path).exists():
            return base / path
    return path
