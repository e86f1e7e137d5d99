"""`GuardrailsComponent`: declare contract guardrails in a ``defs.yaml`` with no Python.

Each entry checks an existing asset against a contract (`build_contract_checks`); with ``publish_as`` it
also creates a guarded asset of that name which reads the asset and publishes only batches that pass
(write-audit-publish with the quarantine store, like `guarded_asset`). Contract paths are resolved against
the ``defs.yaml``'s directory, then the project root, then the working directory / ``$GUARDRAILS_CONTRACTS``.

A contract file that describes several tables (an order and its line items, a dbt project's models) guards
one asset per table: ``table`` picks one, or ``tables`` declares them all from the one entry, as a mapping
from table to asset key, or ``all`` (each table checks the asset of its own name, under ``asset_key_prefix``).
With ``tables``, ``check_name`` and ``publish_as`` may use ``{table}``; the default check name is
``<table>_contract``, so each table's check says which table it judges.

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
        - contract: expectations/shop.odcs.yaml     # several tables in one file
          tables:                                    # table -> asset key (or: tables: all)
            orders: raw/orders
            line_items: raw/line_items
          publish_as: "audited_{table}"
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import dagster as dg
from dagster.components import Component, ComponentLoadContext, Model, Resolvable
from pydantic import Field, model_validator

from guardrails.contract import Contract, load_contract_file
from guardrails.dagster.asset import guarded_asset
from guardrails.dagster.checks import build_contract_checks
from guardrails.dagster.resources import QUARANTINE_RESOURCE_KEY, resolve_contract_path


class ContractGuardrail(Model, Resolvable):
    """One guardrail: an asset, the contract it must satisfy, and how a failure is treated."""

    asset: str | None = Field(
        default=None, description="Asset key to check, path parts separated by '/' (e.g. raw/transactions)."
    )
    contract: str = Field(description="ODCS contract file, relative to this defs.yaml, the project root, or cwd.")
    table: str | None = Field(default=None, description="The schema object in the contract, when it has several.")
    tables: dict[str, str] | Literal["all"] | None = Field(
        default=None,
        description="One guardrail per table of the file instead of `asset`: a mapping table -> asset key, or "
        "'all' (every table guards the asset of its own name, under `asset_key_prefix`).",
    )
    asset_key_prefix: str | None = Field(
        default=None, description="With tables: all, the key prefix of the tables' assets (e.g. raw -> raw/orders)."
    )
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
        what = f"guardrail for {self.asset or self.contract!r}"
        if self.policy is not None and self.publish_as is None:
            raise ValueError(
                f"{what}: 'policy' only applies with 'publish_as' (a check on an asset that is "
                "already stored cannot quarantine it); add publish_as: <name> or remove policy"
            )
        if (self.asset is None) == (self.tables is None):
            raise ValueError(f"{what}: give either 'asset' (one table) or 'tables' (one guardrail per table)")
        if self.tables is not None:
            if self.table is not None:
                raise ValueError(f"{what}: 'table' picks one table for 'asset'; with 'tables', list them there")
            for name, value in (("check_name", self.check_name), ("publish_as", self.publish_as)):
                if value is not None and "{table}" not in value:
                    raise ValueError(f"{what}: with 'tables', {name} must contain {{table}} (one name per table), "
                                     f"got {value!r}")
        if self.asset_key_prefix is not None and self.tables != "all":
            raise ValueError(f"{what}: 'asset_key_prefix' only applies with tables: all")
        return self

    def targets(self, contract: Path) -> list[tuple[str, Contract | Path, str | None]]:
        """(asset key, contract, table) for each guardrail this entry declares; with ``tables``, the file is read
        once and each table's `Contract` is returned (a table the file lacks fails here, naming the ones it has)."""
        if self.asset is not None:
            return [(self.asset, contract, self.table)]
        file = load_contract_file(resolve_contract_path(contract))
        if self.tables == "all":
            prefix = f"{self.asset_key_prefix.strip('/')}/" if self.asset_key_prefix else ""
            return [(prefix + c.table, c, c.table) for c in file.contracts]
        assert isinstance(self.tables, dict)
        return [(asset, file.contract(table), table) for table, asset in self.tables.items()]


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
            for asset, contract, table in entry.targets(_resolve(entry.contract, context)):
                checks.extend(build_contract_checks(
                    [asset], contract=contract, table=table if isinstance(contract, Path) else None,
                    severity=entry.severity, check_name=_for_table(entry.check_name, table),
                ))
                if entry.publish_as:
                    assets.append(_published_copy(entry, asset, contract, table, _for_table(entry.publish_as, table),
                                                  self.quarantine_resource_key))
        return dg.Definitions(assets=assets, asset_checks=checks)


def _for_table(name: str | None, table: str | None) -> str | None:
    """``audited_{table}`` -> ``audited_orders`` (a name without ``{table}`` is kept as written)."""
    return name.replace("{table}", table) if name is not None and table is not None else name


def _published_copy(entry: ContractGuardrail, asset: str, contract: Contract | Path, table: str | None,
                    name: str | None, quarantine_key: str) -> dg.AssetsDefinition:
    def publish(batch: Any) -> Any:
        return batch

    of_table = f" (table {table})" if table else ""
    return guarded_asset(
        contract=contract,
        table=table if isinstance(contract, Path) else None,
        policy=entry.policy,
        quarantine_resource_key=quarantine_key,
        name=name,
        ins={"batch": dg.AssetIn(key=dg.AssetKey.from_user_string(asset))},
        group_name=entry.group_name,
        description=f"{asset}, audited against {entry.contract}{of_table}: only batches that pass are published.",
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
