"""The SparkSession the Spark engine runs on: the caller's, or a small local one with settings that keep it honest.

A guard never owns a cluster: given a session (a Databricks/YARN/Kubernetes one, or a test's), it is used as it is,
except that the session time zone is set to UTC (ibis does the same on connect), so that a timestamp without a zone
means the same instant on Spark as on polars. Without one, `local_spark_session` starts ``local[1]`` (or
``local[N]``): no UI, one shuffle partition per core, the warehouse and scratch directories under a temporary
directory rather than the working directory, and the JVM logging errors only.

Example (not run as a doctest: starting a JVM takes seconds)::

    spark = local_spark_session(scratch="/tmp/guardrails-spark")
    con = spark_backend(spark)          # an ibis pyspark backend
"""

from __future__ import annotations

import os
import tempfile
from urllib.parse import urlsplit
from typing import TYPE_CHECKING, Any

from guardrails._extras import require_extra

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

APP_NAME = "guardrails"
FAST_START_JAVA_OPTIONS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1"
"""JVM options for short local runs (tests, the CLI on a laptop): C1 only and the serial collector start a JVM in
about half the time; long jobs are better off without them (``fast_start=False``)."""


def local_spark_session(
    *,
    cores: int = 1,
    scratch: str | os.PathLike[str] | None = None,
    fast_start: bool = True,
    app_name: str = APP_NAME,
    extra_conf: dict[str, str] | None = None,
) -> SparkSession:
    """Get or create a local SparkSession (``local[cores]``) configured for guarding batches on one machine.

    If a session already runs in this process, Spark returns it (one SparkContext per JVM) and only the runtime
    SQL settings below are applied to it; its master and JVM options stay as they were.

    Args:
        cores: local worker threads (``local[1]`` by default: deterministic and light on a shared machine).
        scratch: the directory for Spark's warehouse and spill files (default: a new temporary directory).
        fast_start: start the JVM with `FAST_START_JAVA_OPTIONS`.
        app_name: the Spark application name.
        extra_conf: further ``spark.*`` settings, applied last.

    Raises:
        ImportError: pyspark is not installed (names the ``spark`` extra).
        ValueError: `cores` is not a positive integer.
    """
    require_extra("pyspark", "spark", "the Spark engine")
    from pyspark.sql import SparkSession

    if not isinstance(cores, int) or cores < 1:
        raise ValueError(f"cores: expected a positive integer of local worker threads, got {cores!r}")
    root = os.fspath(scratch) if scratch is not None else tempfile.mkdtemp(prefix="guardrails-spark-")
    conf: dict[str, str] = {
        "spark.master": f"local[{cores}]",
        "spark.app.name": app_name,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": str(cores),
        "spark.default.parallelism": str(cores),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.warehouse.dir": os.path.join(root, "warehouse"),
        "spark.local.dir": os.path.join(root, "scratch"),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={os.path.join(root, 'derby')}"
        + (f" {FAST_START_JAVA_OPTIONS}" if fast_start else ""),
        # Parquet written by one engine is read by others: plain microsecond timestamps, not INT96.
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    }
    conf.update(extra_conf or {})
    builder: Any = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_backend(session: SparkSession | None = None, **spark_sql_conf: str) -> Any:
    """An ibis pyspark backend on `session` (default: `local_spark_session()`); the session's time zone is UTC.

    Raises:
        ImportError: pyspark or ibis is not installed (names the ``spark`` extra).
    """
    ibis = require_extra("ibis", "spark", "the Spark engine")
    if session is None:
        session = local_spark_session()
    return ibis.pyspark.connect(session, **spark_sql_conf)


def connect_spark(location: Any, session: SparkSession | None = None) -> Any:
    """The ibis pyspark backend for a ``spark://`` `TableLocation` (or any location read through Spark).

    ``spark:///?table=db.tx`` and ``spark://local/?table=db.tx`` use `session`, else the active session, else
    `local_spark_session()`. Any other host is taken as a Spark master URL (``spark://host:7077?table=db.tx``,
    standalone): a session is created against it. Only local sessions are tested here.
    """
    require_extra("pyspark", "spark", "the Spark engine")
    from pyspark.sql import SparkSession

    if session is None:
        session = SparkSession.getActiveSession()
    if session is None:
        host = urlsplit(getattr(location, "connection", "")).netloc
        if host in ("", "local"):
            session = local_spark_session()
        else:
            session = local_spark_session(extra_conf={"spark.master": f"spark://{host}"}, fast_start=False)
    return spark_backend(session)
