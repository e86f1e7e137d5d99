"""Turning whatever the caller hands us into an Arrow table, its content hash, and bytes we can keep.

Reading never raises for bad *data*: a path that is not Parquet, a truncated file, or a frame Arrow cannot
represent comes back as a `LoadedBatch` with `table=None`, the `error` that explains it, and the original bytes
to keep. Only a caller bug (a value that is not a batch at all) raises.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import fsspec
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from guardrails.quarantine._manifest import DataFormat
from guardrails.validation._frames import (
    error_line,
    footer_rows,
    is_pandas,
    parquet_files,
    read_parquet,
    schema_problem,
)

if TYPE_CHECKING:  # pandas is imported only by whoever hands us a pandas frame (a second of import time)
    import pandas as pd

    Batch: TypeAlias = pa.Table | pl.DataFrame | pl.LazyFrame | pd.DataFrame
    """An in-memory batch `guard_batch` accepts (besides the path of a Parquet file or directory)."""


@dataclass(frozen=True, slots=True)
class LoadedBatch:
    """An input batch, read once: the table (None when unreadable), its hash, and the bytes to keep if quarantined.

    `content_hash` is the sha256 of a file's bytes, or None for an in-memory table (hashed later, if needed).

    `raw` is the original file's bytes for a path (kept byte for byte when the whole batch is quarantined) or,
    for an in-memory frame Arrow cannot represent, the best lossless encoding we have (`raw_format`).

    `frame` is the polars frame a path was read into (`table` is its Arrow view, for publishing): the engine
    validates it as it is, without a round trip through Arrow.
    """

    table: pa.Table | None
    content_hash: str | None
    content_hash_of: Literal["bytes", "arrow_ipc"]
    source: str
    raw: bytes | None = None
    raw_format: DataFormat = DataFormat.RAW
    rows: int | None = None
    error: str | None = None
    frame: pl.DataFrame | None = None


def load_path(path: str | os.PathLike[str]) -> LoadedBatch | str:
    """Read a Parquet file's bytes and parse them; an error string when the file cannot be opened at all.

    A local directory is one dataset (see `load_directory`).
    """
    source = os.fspath(path)
    if Path(source).is_dir():
        return load_directory(source)
    try:
        with fsspec.open(source, "rb") as handle:  # a local path, or any fsspec URL (s3://, gs://, memory://...)
            raw = handle.read()
    except (OSError, ValueError, ImportError) as exc:  # missing file, unknown protocol, backend not installed
        return f"cannot open {source}: {type(exc).__name__}: {exc}"
    digest = sha256_hex(raw)

    def kept_as_is(raw_format: DataFormat, error: str) -> LoadedBatch:
        return LoadedBatch(table=None, content_hash=digest, content_hash_of="bytes", source=source, raw=raw,
                           raw_format=raw_format, rows=parquet_rows(raw), error=error)

    try:
        problem = schema_problem(pq.read_schema(pa.BufferReader(raw)))
        # polars, not pq.read_table: 3-4x faster on strings, and the engine validates this very frame.
        frame = pl.read_parquet(io.BytesIO(raw)) if problem is None else None
    except Exception as exc:  # any parse failure is a property of the data: keep the bytes, report the cause
        return kept_as_is(DataFormat.RAW, f"cannot read {source} as Parquet: {error_line(exc)}")
    if frame is None:  # valid Parquet the engine cannot read (a type polars cannot hold, duplicated names)
        # DataFormat.PARQUET: pyarrow reads it back
        return kept_as_is(DataFormat.PARQUET, f"cannot read {source}: {type(problem).__name__}: {problem}")
    return LoadedBatch(
        table=frame.to_arrow(),
        frame=frame,
        content_hash=digest,
        content_hash_of="bytes",
        source=source,
        raw=raw,
        raw_format=DataFormat.PARQUET,
        rows=frame.height,
    )


def load_directory(source: str) -> LoadedBatch | str:
    """A directory of Parquet files (hive ``key=value`` directories too) read as one table, as the engine reads it.

    Its content hash covers every file's relative path and bytes, so a retried run recognises the dataset. If the
    dataset cannot be read (a corrupt file, files whose schemas disagree, a type the engine cannot hold), its
    files are kept byte for byte in one uncompressed tar archive (`DataFormat.RAW`), with the rows its footers
    count (as the engine reports them), when every footer is readable: nothing is lost, and a
    readable dataset is kept as one combined Parquet file (by `settle`). An empty directory is an error string.
    """
    try:
        files = parquet_files(source)
    except ValueError as exc:  # no Parquet files: nothing to read, nothing to keep
        return str(exc)
    root = Path(source)
    digest = _dataset_hash(root, files)
    try:
        frame = read_parquet(source)
    except Exception as exc:  # unreadable dataset: keep its files as they are, report the cause
        return LoadedBatch(
            table=None, content_hash=digest, content_hash_of="bytes", source=source, raw=_tar(root, files),
            raw_format=DataFormat.RAW, rows=footer_rows(source),
            error=f"cannot read {source} as Parquet: {error_line(exc)}",
        )
    return LoadedBatch(
        table=frame.to_arrow(), frame=frame, content_hash=digest, content_hash_of="bytes", source=source,
        rows=frame.height,
    )


def _dataset_hash(root: Path, files: list[str]) -> str:
    """sha256 over each file's path (relative to `root`), size and bytes, streamed: the dataset's identity."""
    digest = hashlib.sha256()
    for file in files:
        path = Path(file)
        digest.update(f"{path.relative_to(root).as_posix()}\0{path.stat().st_size}\0".encode())
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def _tar(root: Path, files: list[str]) -> bytes:
    """The files (paths relative to `root`) in an uncompressed tar with fixed metadata, so equal files give equal bytes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for file in map(Path, files):
            data = file.read_bytes()
            info = tarfile.TarInfo(file.relative_to(root).as_posix())
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def load_frame(batch: Any) -> LoadedBatch:
    """Convert an in-memory batch to Arrow; a frame Arrow cannot represent is kept in its own lossless encoding."""
    if not is_batch(batch):
        raise _unsupported(batch)
    try:
        table = to_arrow(batch)
    except Exception as exc:  # e.g. a pandas object column mixing types: the data is bad, keep it as it is
        kind = f"{type(batch).__module__}.{type(batch).__name__}"
        error = f"cannot convert the {kind} to Arrow: {type(exc).__name__}: {exc}"
        raw, raw_format = _fallback_bytes(batch)
        return LoadedBatch(
            table=None, content_hash=sha256_hex(raw) if raw is not None else None, content_hash_of="bytes", source="",
            raw=raw, raw_format=raw_format, rows=_len(batch), error=error,
        )
    # Not hashed here: hashing a large table costs about a tenth of validating it, and a clean batch with an
    # explicit batch id never needs its hash (`settle` hashes only when it must).
    return LoadedBatch(table=table, content_hash=None, content_hash_of="arrow_ipc", source="", rows=table.num_rows)


def to_arrow(batch: Any) -> pa.Table:
    """A `pyarrow.Table` for an Arrow table/record batch, a polars DataFrame/LazyFrame, or a pandas DataFrame."""
    if isinstance(batch, pa.Table):
        return batch
    if isinstance(batch, pa.RecordBatch):
        return pa.Table.from_batches([batch])
    if isinstance(batch, pl.LazyFrame):
        batch = batch.collect()
    if isinstance(batch, pl.DataFrame):
        return batch.to_arrow()
    if is_pandas(batch):
        return pa.Table.from_pandas(batch, preserve_index=False)  # as the validation engine reads it
    raise _unsupported(batch)


def _unsupported(batch: Any) -> TypeError:
    return TypeError(
        "batch must be a pyarrow.Table, polars.DataFrame/LazyFrame, pandas.DataFrame or a path to a Parquet file, "
        f"got {type(batch).__module__}.{type(batch).__name__}"
    )


def is_batch(value: Any) -> bool:
    """True for the in-memory batch types `to_arrow` accepts."""
    return isinstance(value, pa.Table | pa.RecordBatch | pl.DataFrame | pl.LazyFrame) or is_pandas(value)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _HashSink:
    """A write-only file object that hashes what is written, so hashing a table never copies it into one buffer."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.closed = False

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.digest.update(view)
        return view.nbytes

    def flush(self) -> None:
        """Nothing buffered."""

    def close(self) -> None:
        self.closed = True


def arrow_hash(table: pa.Table) -> str:
    """sha256 of a canonical Arrow IPC stream of `table`: one chunk per column, no schema metadata.

    Canonical so that the same rows and types hash alike however they were chunked or which library attached
    metadata (pandas adds its own); a different type (int32 vs int64) is a different batch.
    """
    canonical = table.replace_schema_metadata(None).combine_chunks()
    sink = _HashSink()
    with pa.ipc.new_stream(sink, canonical.schema) as writer:
        writer.write_table(canonical)
    return sink.digest.hexdigest()


def encode_table(table: pa.Table) -> tuple[bytes, DataFormat]:
    """Parquet bytes for `table`, or an Arrow IPC file for types Parquet cannot store (unions, ...)."""
    sink = pa.BufferOutputStream()
    try:
        pq.write_table(table, sink)
        return sink.getvalue().to_pybytes(), DataFormat.PARQUET
    except (pa.ArrowException, ValueError):
        sink = pa.BufferOutputStream()
        with pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        return sink.getvalue().to_pybytes(), DataFormat.ARROW_IPC


def decode_table(data: bytes, data_format: DataFormat) -> pa.Table:
    """The table in stored bytes (Parquet or Arrow IPC); raises for bytes that are neither."""
    if data_format is DataFormat.ARROW_IPC:
        return pa.ipc.open_file(pa.BufferReader(data)).read_all()
    return pq.read_table(pa.BufferReader(data))


def parquet_rows(data: bytes) -> int | None:
    """Row count from a Parquet footer, or None when there is no readable footer."""
    try:
        return pq.ParquetFile(pa.BufferReader(data)).metadata.num_rows
    except Exception:  # no footer: the row count is simply unknown
        return None


def _fallback_bytes(batch: Any) -> tuple[bytes | None, DataFormat]:
    if is_pandas(batch):
        return pickle.dumps(batch, protocol=5), DataFormat.PANDAS_PICKLE
    return None, DataFormat.RAW


def _len(batch: Any) -> int | None:
    try:
        return len(batch)
    except TypeError:
        return None
