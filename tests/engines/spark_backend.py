"""The Spark side of the engine tests: one ``local[1]`` SparkSession per test session, and the conformance `Engine`.

Starting a JVM costs seconds (about 10 s on an idle 2-core machine, far more under load), so the session is
session-scoped and every Spark test is marked ``xdist_group("spark")``: with ``--dist loadgroup`` only one worker
starts it. Its warehouse and scratch directories live under the test session's temporary directory.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

SPARK = pytest.mark.xdist_group("spark")
"""Mark every test that uses `spark` with this, so one xdist worker owns the JVM."""


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A local[1] SparkSession (no UI, UTC, one shuffle partition), stopped at the end of the test session."""
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs a JVM (Java 17) on PATH")
    from guardrails.engines._spark_session import local_spark_session

    # The test batches have hundreds of rows: compiling whole-stage code for each query costs more than running it
    # interpreted (about a third of each audit here), and adaptive planning has nothing to adapt. Production keeps both.
    session = local_spark_session(
        scratch=tmp_path_factory.mktemp("spark"),
        extra_conf={"spark.sql.codegen.wholeStage": "false", "spark.sql.adaptive.enabled": "false"},
    )
    yield session
    session.stop()


def spark_loader(spark: Any, directory: Path) -> Any:
    """A `load(name, frame)` for the conformance `Engine`: the frame written as Parquet, read by Spark as a view."""
    from guardrails.engines._spark_session import spark_backend

    backend = spark_backend(spark)

    def load(name: str, frame: pl.DataFrame) -> Any:
        safe = "t_" + "".join(c if c.isalnum() else "_" for c in name).lower()
        path = directory / f"{safe}.parquet"
        frame.write_parquet(path)
        spark.read.parquet(str(path)).createOrReplaceTempView(safe)
        return backend.table(safe)

    return backend, load


@pytest.fixture(scope="session")
def spark_engine(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The conformance `Engine` for Spark local[1]: frames written as Parquet and read by Spark as temporary views."""
    from tests.engines.backends import Engine

    backend, load = spark_loader(spark, tmp_path_factory.mktemp("spark_engine"))
    return Engine("spark", backend, load, lambda name: f"spark:///?table={name}")
