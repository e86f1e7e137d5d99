"""The Dagster adapter: contract guardrails as asset checks, write-audit-publish assets, a Component.

Thin by design: the core (`guardrails.validation`, `guardrails.quarantine`) judges and quarantines; this
package translates outcomes into Dagster's vocabulary (`Output`, `AssetCheckEvaluation`, `AssetObservation`,
`Failure`, metadata) and reads check history back. This module is also the ``dagster_dg_cli.registry_modules``
entry point, so ``dg list components`` shows `GuardrailsComponent`.

- `guarded_asset`: audit an asset's output before the IO manager; quarantine bad batches, fail the run.
- `guarded_table_asset`: the same for a batch staged as a table in DuckDB/PostgreSQL, audited and published there.
- `build_contract_checks`: contract checks on assets you do not wrap (cannot quarantine; can block).
- `QuarantineResource`, `ContractsResource`, `guardrails_resources`: where batches and contracts live.
- `guarded_automation_condition`: ``eager() & all_deps_blocking_checks_passed()``.
- `GuardrailsComponent`: the same in ``defs.yaml``.
- `read_check_history`, `CheckHistoryEntry`: check executions from the event log as `CheckOutcome`s.
- `release_guarded_batch`: release a quarantined batch through the asset's IO manager and record it in Dagster.
- `ModelRegistryResource`, `build_model_guard_sensor`: act on the model by what a failed check means (hold promotion
  on a quarantined or late batch, fail the versions that saw a condemned batch, fail a version that failed its own
  checks) and reconcile the alias; `build_model_pin_sensor` is the same for one check, under its old name.
"""

from guardrails._extras import require_extra

require_extra("dagster", "dagster", "guardrails.dagster")

from guardrails.dagster.asset import guarded_asset
from guardrails.dagster.automation import guarded_automation_condition
from guardrails.dagster.checks import build_contract_checks
from guardrails.dagster.component import ContractGuardrail, GuardrailsComponent
from guardrails.dagster.history import CheckHistoryEntry, read_check_history
from guardrails.dagster.metadata import OUTCOME_KEY, outcome_from_metadata
from guardrails.dagster.models import ModelRegistryResource, build_model_guard_sensor, build_model_pin_sensor
from guardrails.dagster.release import release_guarded_batch
from guardrails.dagster.resources import ContractsResource, QuarantineResource, guardrails_resources
from guardrails.dagster.table import guarded_table_asset

__all__ = [
    "OUTCOME_KEY",
    "CheckHistoryEntry",
    "ContractGuardrail",
    "ContractsResource",
    "GuardrailsComponent",
    "ModelRegistryResource",
    "QuarantineResource",
    "build_contract_checks",
    "build_model_guard_sensor",
    "build_model_pin_sensor",
    "guarded_asset",
    "guarded_automation_condition",
    "guarded_table_asset",
    "guardrails_resources",
    "outcome_from_metadata",
    "read_check_history",
    "release_guarded_batch",
]
