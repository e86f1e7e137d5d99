"""Resources of the example pipeline: the landing zone, a Parquet IO manager and the MLflow model registry.

All of them take plain paths or URIs, so `definitions.definitions` configures them from `DemoSettings` (that
is, from environment variables) and tests point them at a temporary directory.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pyarrow as pa

from definitions.data import Defect, generate_transactions, write_batch
from guardrails.dagster import ModelRegistryResource


class LandingZone(dg.ConfigurableResource):
    """The directory where the upstream producer drops one Parquet file per table and day."""

    directory: str

    def path_for(self, table: str, day: date) -> Path:
        return Path(self.directory, table, f"{day.isoformat()}.parquet")

    def land_transactions(
        self, day: date, *, rows: int, accounts: int, defect: Defect | None = None
    ) -> tuple[Path, pl.DataFrame]:
        """Play the upstream producer: write the day's (deterministic) batch, replacing any earlier delivery."""
        frame = generate_transactions(day, rows, defect=defect, accounts=accounts)
        return write_batch(frame, self.path_for("transactions", day), defect=defect), frame


class ParquetIOManager(dg.ConfigurableIOManager):
    """Stores polars or Arrow tables as ``<base_dir>/<asset key>/<partition>.parquet`` and loads them as polars.

    Writes go to a temporary file that is renamed into place, so a reader never sees half a table. A guarded
    asset hands this IO manager the published batch only; a quarantined batch never reaches it.
    """

    base_dir: str

    def path_for(self, context: dg.OutputContext | dg.InputContext) -> Path:
        """Where the asset (partition) of `context` is stored."""
        folder = Path(self.base_dir, *context.asset_key.path)
        partition = context.asset_partition_key if context.has_asset_partitions else "__unpartitioned__"
        return folder / f"{partition}.parquet"

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame | pa.Table) -> None:
        frame = obj if isinstance(obj, pl.DataFrame) else pl.from_arrow(obj)
        path = self.path_for(context)
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        frame.write_parquet(staging)
        os.replace(staging, path)
        context.add_output_metadata({"path": dg.MetadataValue.path(str(path)), "stored_rows": frame.height})

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        path = self.path_for(context)
        if not path.exists():
            raise dg.Failure(
                f"{context.asset_key.to_user_string()} has no stored data at {path}: materialize it first "
                "(a quarantined partition is never stored)."
            )
        return pl.read_parquet(path)


class ModelRegistry(ModelRegistryResource):
    """The guard's registry settings (store, model, serving alias) plus where the example logs its training runs.

    One resource, under the model guard's key (``model_registry``): the assets train, register and promote through
    it, and the model guard sensor guards the same model and alias.
    """

    artifact_location: str
    model_name: str = "fraud_detector"
    experiment_name: str = "fraud_detection"

    def activate(self) -> str:
        """Point the MLflow client at this store and return the experiment id (created on first use).

        New experiments keep their artifacts under `artifact_location`; with a SQLite tracking URI MLflow would
        otherwise write them to ``./mlruns`` in whatever directory the run happens to start in.
        """
        import mlflow

        if self.tracking_uri.startswith("sqlite:///"):  # SQLite does not create the database's folder
            Path(self.tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.registry_uri or self.tracking_uri)
        experiment = mlflow.get_experiment_by_name(self.experiment_name)
        if experiment is not None:
            return experiment.experiment_id
        Path(self.artifact_location).mkdir(parents=True, exist_ok=True)
        return mlflow.create_experiment(self.experiment_name, artifact_location=Path(self.artifact_location).as_uri())


class ServingLog(dg.ConfigurableResource):
    """Where scoring writes the features exactly as it served them, one Parquet file per partition.

    The offline feature table and this log are the two sides a training/serving parity check compares.
    """

    directory: str

    def write(self, partition: str, served: pl.DataFrame) -> Path:
        path = Path(self.directory, f"{partition}.parquet")
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        served.write_parquet(staging)
        os.replace(staging, path)
        return path

    def path_for(self, partition: str) -> Path:
        return Path(self.directory, f"{partition}.parquet")

    def read(self, partition: str) -> pl.DataFrame:
        """The features served for `partition` (what the parity check compares with the offline table)."""
        path = self.path_for(partition)
        if not path.exists():
            raise dg.Failure(f"no served features logged for {partition} at {path}: score the partition first")
        return pl.read_parquet(path)
