"""Where the example pipeline keeps its state: one home directory, overridable by environment variables.

Everything the example writes (landing files, the published tables, the quarantine, the Dagster instance, the
MLflow store) lives under one directory, the repository's ``.demo/`` by default, so ``rm -rf .demo`` resets the demo:

    .demo/
      landing/transactions/2026-11-02.parquet   raw batches as the upstream producer drops them
      warehouse/<asset>/<partition>.parquet      what the IO manager stores (published data only)
      quarantine/                                quarantined batches and their manifests
      serving/<partition>.parquet                features as served at scoring time (for parity checks)
      dagster_home/                              the Dagster instance (SQLite) used by `make demo` and `make ui`
      mlflow.db, mlartifacts/                    the MLflow tracking and registry store

Environment variables: ``GUARDRAILS_HOME`` (the home), ``GUARDRAILS_CONTRACTS`` (the contracts directory, by
default the repository's ``expectations/``), ``MLFLOW_TRACKING_URI`` (by default the SQLite file above) and
``GUARDRAILS_DEMO_DEFECT`` (make the next landed batch bad, see `definitions.data.Defect`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "GUARDRAILS_HOME"
CONTRACTS_ENV = "GUARDRAILS_CONTRACTS"
DEFECT_ENV = "GUARDRAILS_DEMO_DEFECT"
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
PARTITIONS_START = "2026-11-01"
"""First day of the example's daily partitions."""


@dataclass(frozen=True, slots=True)
class DemoSettings:
    """The resolved locations of everything the example reads and writes."""

    home: Path
    contracts_dir: Path
    tracking_uri: str

    @classmethod
    def from_env(cls) -> DemoSettings:
        """Read the environment once; relative paths are resolved against the current directory."""
        home = Path(os.environ.get(HOME_ENV) or REPOSITORY_ROOT / ".demo").resolve()
        contracts = Path(os.environ.get(CONTRACTS_ENV) or REPOSITORY_ROOT / "expectations").resolve()
        tracking_uri = os.environ.get(TRACKING_URI_ENV) or f"sqlite:///{home / 'mlflow.db'}"
        return cls(home=home, contracts_dir=contracts, tracking_uri=tracking_uri)

    @property
    def landing_dir(self) -> Path:
        return self.home / "landing"

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / "quarantine"

    @property
    def serving_dir(self) -> Path:
        return self.home / "serving"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster_home"

    @property
    def artifacts_dir(self) -> Path:
        return self.home / "mlartifacts"
