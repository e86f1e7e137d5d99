"""One lock per registered model, shared by every guard acting on it, held outside MLflow.

MLflow has no compare-and-set on aliases or tags (`set_registered_model_alias` is unconditional), so two guards
that read, decide and write on one model at the same time can interleave: a promote can land on a version a
concurrent ``verdict failed`` has just condemned. Guards therefore exclude each other per model through a lock
they all reach, chosen by where the registry lives:

- **PostgreSQL** (the store is ``postgresql://...``, or a lock URL names one): a session-level advisory lock,
  ``pg_advisory_lock(<64-bit key from the model name>)``, waited for under ``lock_timeout``. The lock is released
  when the holder unlocks, or when its connection ends (a crashed sensor never leaves it stuck). This is the
  lock for deployments where guards run on several hosts.
- **A local store** (``sqlite:///path/mlflow.db`` or a file store): a file lock in a directory beside the store
  (``<store>.guardrails-locks/``), which every process on that host sees.
- **An HTTP tracking server with no lock URL**: the URL hides the database, so the lock is a file lock in a
  local directory (``GUARDRAILS_MODEL_LOCK_DIR`` or the temp directory). It excludes guards on **one host
  only**; multi-host deployments must give the PostgreSQL lock URL (``lock_url=`` on `MlflowModelRegistry` or
  ``GUARDRAILS_MODEL_LOCK_URL``), usually the tracking server's own backend database.

A lock is reentrant per thread and model (an action that calls another action of the same model inside its
lock does not deadlock itself). A wait that outlasts its timeout raises `ModelLockTimeout`, a `RegistryError`,
so a guard action that cannot get the lock ends ERROR having moved nothing.

Example:
    >>> lock = lock_for_store("sqlite:////tmp/mlflow.db")  # doctest: +SKIP
    >>> with lock.acquire("fraud", timeout=10):  # doctest: +SKIP
    ...     ...  # read, decide, write: no other guard of "fraud" runs here
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit

from filelock import FileLock, Timeout

from guardrails.models._registry import RegistryError

LOCK_URL_ENV = "GUARDRAILS_MODEL_LOCK_URL"
LOCK_DIR_ENV = "GUARDRAILS_MODEL_LOCK_DIR"
DEFAULT_LOCK_TIMEOUT_SECONDS = 30.0

_KEY_NAMESPACE = b"guardrails.models.lock\x00"


class ModelLockTimeout(RegistryError):
    """Another guard held the model's lock for longer than this one was willing to wait.

    Attributes:
        model: the registered model name.
        timeout_seconds: how long this guard waited.
        lock: where the lock lives (e.g. ``"postgres advisory lock 123... on 127.0.0.1:5432/mlflow"``).
    """

    def __init__(self, model: str, timeout_seconds: float, lock: str) -> None:
        self.timeout_seconds = timeout_seconds
        self.lock = lock
        super().__init__(
            "lock",
            model,
            f"another guard held the lock for longer than {timeout_seconds:g}s ({lock}); nothing was done, "
            "retry when it is released",
        )


@runtime_checkable
class ModelLock(Protocol):
    """Mutual exclusion of guards acting on one registered model.

    `acquire` is a context manager: it returns once this thread holds the model's lock (re-entering it in the
    same thread is free), and releases it on exit. It raises `ModelLockTimeout` after `timeout` seconds of
    waiting, or `RegistryError` (operation ``"lock"``) when the lock itself cannot be reached.
    """

    description: str

    def acquire(self, model_name: str, timeout: float = DEFAULT_LOCK_TIMEOUT_SECONDS) -> Any:  # ContextManager[None]
        ...


class _Reentrancy(threading.local):
    """Per-thread hold counts by (lock place, model), so a holder can enter its own model's lock again (through
    the same or another lock object on the same place) without waiting on itself."""

    def __init__(self) -> None:
        self.depths: dict[tuple[str, str], int] = {}


_held = _Reentrancy()


@contextmanager
def _reenter(place: str, model_name: str) -> Iterator[bool]:
    """Yield True if this thread already holds (place, model) (and count the re-entry), else False."""
    key = (place, model_name)
    if not _held.depths.get(key):
        yield False
        return
    _held.depths[key] += 1
    try:
        yield True
    finally:
        _held.depths[key] -= 1


def _check_timeout(timeout: float) -> float:
    if not isinstance(timeout, int | float) or timeout < 0:
        raise ValueError(f"timeout: expected seconds >= 0, got {timeout!r}")
    return float(timeout)


def _file_stem(model_name: str) -> str:
    """A file name for the model: readable prefix plus a digest, so distinct names never share a file."""
    digest = hashlib.sha256(model_name.encode()).hexdigest()[:16]
    readable = re.sub(r"[^A-Za-z0-9_.-]", "_", model_name)[:60]
    return f"{readable}-{digest}"


class FileModelLock:
    """A file lock per model in `directory` (created on first use): excludes guards on one host.

    Args:
        directory: where the lock files live; every guard of the model must use the same directory.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.description = f"file lock in {self.directory}"

    def __repr__(self) -> str:
        return f"FileModelLock({str(self.directory)!r})"

    def path(self, model_name: str) -> Path:
        """The lock file of `model_name`."""
        return self.directory / f"{_file_stem(model_name)}.lock"

    @contextmanager
    def acquire(self, model_name: str, timeout: float = DEFAULT_LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
        timeout = _check_timeout(timeout)
        with _reenter(self.description, model_name) as reentered:
            if reentered:
                yield
                return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RegistryError("lock", model_name, f"cannot create lock directory {self.directory}: {exc}") from exc
        # A fresh FileLock object per acquisition: flock() excludes open file descriptions, so two threads of
        # one process exclude each other too (a shared object would count the second thread as re-entry).
        lock = FileLock(str(self.path(model_name)), timeout=timeout)
        try:
            lock.acquire()
        except Timeout as exc:
            raise ModelLockTimeout(model_name, timeout, f"{self.description}: {self.path(model_name).name}") from exc
        except OSError as exc:
            raise RegistryError("lock", model_name, f"{self.description}: {type(exc).__name__}: {exc}") from exc
        _held.depths[(self.description, model_name)] = 1
        try:
            yield
        finally:
            _held.depths.pop((self.description, model_name), None)
            lock.release()


def advisory_key(model_name: str) -> int:
    """The signed 64-bit advisory-lock key of a model name (a BLAKE2b digest, stable across processes).

    >>> advisory_key("fraud") == advisory_key("fraud") and advisory_key("fraud") != advisory_key("fraud2")
    True
    """
    digest = hashlib.blake2b(_KEY_NAMESPACE + model_name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _libpq_url(url: str) -> str:
    """``postgresql+psycopg2://...`` (SQLAlchemy's spelling, as MLflow takes it) -> ``postgresql://...``."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}"


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path}"


def is_postgres_url(url: str) -> bool:
    """Is `url` a PostgreSQL URL (``postgresql://``, ``postgres://``, ``postgresql+driver://``)?"""
    scheme = url.partition("://")[0].split("+", 1)[0].lower()
    return scheme in ("postgresql", "postgres") and "://" in url


def _connect(url: str, connect_timeout: int) -> Any:
    """An autocommit DB-API connection with psycopg2, or psycopg 3 when only that is installed."""
    try:
        import psycopg2
    except ImportError:
        try:
            import psycopg
        except ImportError as exc:
            raise ImportError(
                "the PostgreSQL model lock needs a PostgreSQL driver: pip install psycopg2-binary (or psycopg)"
            ) from exc
        return psycopg.connect(url, autocommit=True, connect_timeout=connect_timeout)
    connection = psycopg2.connect(url, connect_timeout=connect_timeout, keepalives=1, keepalives_idle=10)
    connection.autocommit = True
    return connection


def _lock_not_available(exc: BaseException) -> bool:
    """Did the statement fail because `lock_timeout` expired (SQLSTATE 55P03)?"""
    code = getattr(exc, "pgcode", None) or getattr(getattr(exc, "diag", None), "sqlstate", None)
    return code == "55P03"


class PostgresModelLock:
    """A PostgreSQL session-level advisory lock per model: excludes guards on every host that reaches the database.

    Each acquisition opens one connection, sets ``lock_timeout`` and waits in ``pg_advisory_lock(key)``; release
    unlocks and closes it. If the holder dies, PostgreSQL ends its session and the lock with it. If the holder's
    connection is cut while it works, the lock is lost without it knowing (as with any lease): keep actions short.
    Connect directly or through a session-pooling proxy: a transaction-pooling PgBouncer hands the session (and
    with it the advisory lock) to other clients.

    Args:
        url: ``postgresql://user@host:port/db`` (any database every guard can connect to; the MLflow backend
            store's own is the natural choice).
    """

    def __init__(self, url: str) -> None:
        if not is_postgres_url(url):
            raise ValueError(f"url: expected a postgresql:// URL, got {_redacted(url)!r}")
        self.url = _libpq_url(url)
        self.description = f"postgres advisory lock on {_redacted(self.url)}"

    def __repr__(self) -> str:
        return f"PostgresModelLock({_redacted(self.url)!r})"

    @contextmanager
    def acquire(self, model_name: str, timeout: float = DEFAULT_LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
        timeout = _check_timeout(timeout)
        with _reenter(self.url, model_name) as reentered:
            if reentered:
                yield
                return
        key = advisory_key(model_name)
        started = time.monotonic()
        try:
            # libpq takes whole seconds and treats 1 as 2; the connect counts against the caller's timeout.
            connection = _connect(self.url, connect_timeout=max(2, int(timeout + 0.999)))
        except ImportError:
            raise
        except Exception as exc:  # noqa: BLE001 - any driver error: the lock is unreachable, fail closed
            raise RegistryError("lock", model_name, f"{self.description}: {type(exc).__name__}: {exc}") from exc
        try:
            remaining_ms = max(1, int((timeout - (time.monotonic() - started)) * 1000))
            try:
                with connection.cursor() as cursor:
                    # lock_timeout 0 would mean "wait forever"; 1 ms is the shortest honest wait.
                    cursor.execute(f"SET lock_timeout = {remaining_ms}")
                    cursor.execute("SELECT pg_advisory_lock(%s)", (key,))
            except Exception as exc:  # noqa: BLE001 - translated below
                if _lock_not_available(exc):
                    raise ModelLockTimeout(model_name, timeout, f"{self.description}, key {key}") from exc
                raise RegistryError("lock", model_name, f"{self.description}: {type(exc).__name__}: {exc}") from exc
            _held.depths[(self.url, model_name)] = 1
            try:
                yield
            finally:
                _held.depths.pop((self.url, model_name), None)
                try:
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_unlock(%s)", (key,))
                except Exception:  # noqa: BLE001, S110 - closing the session below releases the lock anyway
                    pass
        finally:
            connection.close()


def default_lock_directory(registry_uri: str) -> Path:
    """Where file locks of a registry without a local store live: ``$GUARDRAILS_MODEL_LOCK_DIR`` or the temp dir,
    in a subdirectory per registry URI (so two servers' same-named models do not contend)."""
    base = os.environ.get(LOCK_DIR_ENV) or str(Path(tempfile.gettempdir()) / "guardrails-model-locks")
    return Path(base) / hashlib.sha256(registry_uri.encode()).hexdigest()[:12]


def _local_store_path(uri: str) -> Path | None:
    """The filesystem path of a local MLflow store (``sqlite:///...``, ``file:///...`` or a bare path), else None."""
    if uri.startswith("sqlite:///"):
        path = uri[len("sqlite:///"):]
        return None if path in ("", ":memory:") else Path(unquote(path.split("?", 1)[0]))
    if uri.startswith("file://"):
        return Path(unquote(urlsplit(uri).path))
    if "://" not in uri and not uri.startswith(("databricks", "uc:")):
        return Path(uri)
    return None


def lock_for_store(
    registry_uri: str,
    *,
    lock_url: str | None = None,
    lock_directory: str | Path | None = None,
) -> ModelLock:
    """The lock every guard of a registry at `registry_uri` shares.

    Resolution, first match wins: an explicit `lock_url` (or ``$GUARDRAILS_MODEL_LOCK_URL``): a PostgreSQL URL
    gives the advisory lock, anything else is a directory for file locks; an explicit `lock_directory`; a
    ``postgresql://`` registry: the advisory lock on that database; a local store: file locks in
    ``<store>.guardrails-locks/`` beside it; otherwise (an HTTP server) file locks in `default_lock_directory`,
    which excludes guards on this host only.

    >>> lock_for_store("sqlite:////data/mlflow.db").description
    'file lock in /data/mlflow.db.guardrails-locks'
    >>> lock_for_store("http://mlflow:5000", lock_url="postgresql://mlflow@db/mlflow").description
    'postgres advisory lock on db/mlflow'
    """
    lock_url = lock_url or os.environ.get(LOCK_URL_ENV) or None
    if lock_url:
        if is_postgres_url(lock_url):
            return PostgresModelLock(lock_url)
        return FileModelLock(_local_store_path(lock_url) or Path(lock_url))
    if lock_directory is not None:
        return FileModelLock(lock_directory)
    if is_postgres_url(registry_uri):
        return PostgresModelLock(registry_uri)
    store = _local_store_path(registry_uri)
    if store is not None:
        return FileModelLock(store.parent / f"{store.name}.guardrails-locks")
    return FileModelLock(default_lock_directory(registry_uri))


def lock_for(registry: object) -> ModelLock:
    """The shared lock of a registry: its own `model_lock` (as `MlflowModelRegistry` has) if it offers one,
    else file locks in the default directory for its type (registries in tests, in-memory fakes).

    The same registry object always returns the same lock object.
    """
    own = getattr(registry, "model_lock", None)
    if own is not None:
        return own() if callable(own) and not isinstance(own, ModelLock) else own
    return FileModelLock(default_lock_directory(f"{type(registry).__module__}.{type(registry).__qualname__}"))
