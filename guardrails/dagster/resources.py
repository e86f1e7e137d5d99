"""Dagster resources for where quarantined batches and contract files live.

Both are `ConfigurableResource`s, so a deployment points them elsewhere with an environment variable instead
of a code change:

    >>> import dagster as dg
    >>> resources = {
    ...     "quarantine": QuarantineResource(location=dg.EnvVar("GUARDRAILS_QUARANTINE")),
    ...     "contracts": ContractsResource(directory="expectations"),
    ... }

`guardrails_resources()` builds that mapping with the default keys, reading the environment variables when
they are set and falling back to the defaults otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path
import dagster as dg
from pydantic import Field

from guardrails.contract import load_contract
from guardrails.contract.model import Contract
from guardrails.quarantine import QuarantineStore

QUARANTINE_ENV_VAR = "GUARDRAILS_QUARANTINE"
"""Environment variable naming the quarantine store location (a directory or an fsspec URL)."""
CONTRACTS_ENV_VAR = "GUARDRAILS_CONTRACTS"
"""Environment variable naming the directory relative contract paths are resolved against."""
DEFAULT_QUARANTINE_LOCATION = ".guardrails/quarantine"
DEFAULT_CONTRACTS_DIRECTORY = "expectations"
QUARANTINE_RESOURCE_KEY = "quarantine"
CONTRACTS_RESOURCE_KEY = "contracts"


class QuarantineResource(dg.ConfigurableResource):
    """The quarantine store guarded assets write bad batches to (write-audit-publish).

    Attributes:
        location: a local directory or an fsspec URL (``s3://bucket/quarantine``); relative paths are relative
            to the working directory of the code location.
    """

    location: str = Field(
        default=DEFAULT_QUARANTINE_LOCATION,
        description="Directory or fsspec URL of the quarantine store (env var GUARDRAILS_QUARANTINE by convention).",
    )

    def get_store(self) -> QuarantineStore:
        """The core `QuarantineStore` at `location`."""
        return QuarantineStore(self.location)


class ContractsResource(dg.ConfigurableResource):
    """Where contract files live; loads them so a run judges with the contract on disk at run time.

    Attributes:
        directory: the directory relative contract paths are resolved against (default ``expectations``).
    """

    directory: str = Field(
        default=DEFAULT_CONTRACTS_DIRECTORY,
        description="Directory that relative contract paths are resolved against (env var GUARDRAILS_CONTRACTS).",
    )

    def resolve(self, path: str | os.PathLike[str]) -> Path:
        """The file `path` names: absolute as is; relative, in `directory` first, then the working directory."""
        candidate = Path(path)
        if not candidate.is_absolute() and (Path(self.directory) / candidate).exists():
            return Path(self.directory) / candidate
        return resolve_contract_path(candidate, self.directory)

    def load(self, path: str | os.PathLike[str], *, table: str | None = None) -> Contract:
        """Load and parse a contract; raises `ContractError` naming the file and field when it is malformed."""
        return load_contract(self.resolve(path), table=table)


def resolve_contract_path(path: str | os.PathLike[str], directory: str | os.PathLike[str] | None = None) -> Path:
    """Resolve a contract path the same way at definition time and at run time.

    An absolute path is used as is; a relative path is tried against the working directory first (so
    ``expectations/transactions.odcs.yaml`` works from the project root), then against `directory` (default:
    ``$GUARDRAILS_CONTRACTS`` or ``expectations``). A path that exists nowhere is returned as given so the
    loader's error names it.
    """
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    base = Path(directory if directory is not None else os.environ.get(CONTRACTS_ENV_VAR, DEFAULT_CONTRACTS_DIRECTORY))
    in_directory = base / candidate
    return in_directory if in_directory.exists() else candidate


def guardrails_resources() -> dict[str, dg.ConfigurableResource]:
    """The two resources under their default keys, configured from the environment when it says so."""
    quarantine = (
        QuarantineResource(location=dg.EnvVar(QUARANTINE_ENV_VAR))
        if os.environ.get(QUARANTINE_ENV_VAR)
        else QuarantineResource()
    )
    contracts = (
        ContractsResource(directory=dg.EnvVar(CONTRACTS_ENV_VAR))
        if os.environ.get(CONTRACTS_ENV_VAR)
        else ContractsResource()
    )
    return {QUARANTINE_RESOURCE_KEY: quarantine, CONTRACTS_RESOURCE_KEY: contracts}
