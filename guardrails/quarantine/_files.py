"""The three file operations the store's guarantees rest on, over any fsspec filesystem.

* `write_atomic(path, data)`: the file appears whole or not at all. The bytes go to a temporary file in the
  same directory (``.<name>.<random>.tmp``, never listed), then are renamed over the target. Locally that is
  fsync + ``os.replace`` + fsync of the directory: atomic and durable (POSIX rename). On other fsspec
  filesystems it is ``fs.mv``: for ``memory://`` a single dictionary assignment (atomic within the process); for
  object stores a copy whose target object is created by one PUT, so readers still never see half an object,
  but the temporary object may be left behind by a crash (it is never listed).
* `create_exclusive(path, data)`: like `write_atomic`, but only the first caller wins; later callers get False.
  Locally the temporary file is published with ``link(2)``, which fails if the target exists: atomic and
  exclusive across threads and processes, whole content or nothing. Elsewhere it is check-then-move under a
  process-wide lock: exclusive among threads of one process (so fully exclusive for ``memory://``, which is
  process-local), but two *processes* racing on an object store can both win. Run one releaser at a time there.
* `replace_if_unchanged(path, expected, data)`: swap a file that still holds `expected` for `data`, at most once
  per `expected` (how a stale claim is taken over). Locally the first taker hard-links the file to
  ``<path>.<sha256(expected)[:16]>.retired`` (``link(2)`` fails for everyone after it), checks that the linked file
  holds `expected` (the file may have changed hands since it was read) and only then renames its own file over it;
  the ``.retired`` file keeps the claim it replaced. Elsewhere: compare-then-move under the process-wide lock.
* `read`, `exists`, `listdir`, `remove`, `remove_temporaries`: plain reads and deletes.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading

from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

from guardrails._atomic import TEMP_NAME_OVERHEAD, TEMP_SUFFIX, fsync_dir, fsync_file, temp_name, write_bytes_atomic

__all__ = ["TEMP_NAME_OVERHEAD", "TEMP_SUFFIX", "Files", "temp_name"]

_EXCLUSIVE_LOCK = threading.Lock()


class Files:
    """Atomic writes, exclusive creates, reads and deletes of whole small-to-large files under one filesystem."""

    def __init__(self, fs: AbstractFileSystem) -> None:
        self.fs = fs
        self.local = isinstance(fs, LocalFileSystem)

    def write_atomic(self, path: str, data: bytes) -> None:
        """Write `data` to `path` so that readers see the old file, or the new one whole, never a part."""
        if self.local:
            write_bytes_atomic(path, data, opener=self.fs.open)  # the one local atomic write (fsyncs the directory)
            return
        tmp = self._write_temp(path, data)
        try:
            self.fs.mv(tmp, path)
        except BaseException:
            self._discard(tmp)
            raise

    def create_exclusive(self, path: str, data: bytes) -> bool:
        """Create `path` with `data` unless it exists; True when this call created it (see the module docstring)."""
        tmp = self._write_temp(path, data)
        try:
            if self.local:
                try:
                    os.link(tmp, path)
                except FileExistsError:
                    return False
                fsync_dir(os.path.dirname(path))
                return True
            with _EXCLUSIVE_LOCK:
                if self.fs.exists(path):
                    return False
                self.fs.mv(tmp, path)
                return True
        finally:
            self._discard(tmp)

    def replace_if_unchanged(self, path: str, expected: bytes, data: bytes) -> bool:
        """Replace `path` by `data` if it still holds `expected`; True for the one caller that did (see above)."""
        retired = f"{path}.{hashlib.sha256(expected).hexdigest()[:16]}.retired"
        tmp = self._write_temp(path, data)
        try:
            if self.local:
                try:
                    os.link(path, retired)
                except (FileExistsError, FileNotFoundError):
                    return False  # another taker was first, or the file is gone (given back): not ours to replace
                if self.read(retired) != expected:
                    os.remove(retired)  # it changed hands after we read it: leave it to its new holder
                    return False
                os.replace(tmp, path)
                fsync_dir(os.path.dirname(path))
                return True
            with _EXCLUSIVE_LOCK:
                if not self.fs.exists(path) or self.read(path) != expected:
                    return False
                self.fs.pipe_file(retired, expected)
                self.fs.mv(tmp, path)
                return True
        finally:
            self._discard(tmp)

    def remove_temporaries(self, directory: str, target: str) -> list[str]:
        """Delete the temporary files left in `directory` by writes of `target` that never finished; their names."""
        pattern = re.compile(re.escape(f".{target}.") + "[0-9a-f]{32}" + re.escape(TEMP_SUFFIX))
        left = [name for name in self.listdir(directory) if pattern.fullmatch(name)]
        for name in left:
            self.remove(f"{directory}/{name}")
        return left

    def read(self, path: str) -> bytes:
        return self.fs.cat_file(path)

    def exists(self, path: str) -> bool:
        return self.fs.exists(path)

    def listdir(self, path: str) -> list[str]:
        """Names (not paths) of the entries directly under `path`; empty when it does not exist."""
        try:
            entries = self.fs.ls(path, detail=False)
        except FileNotFoundError:
            return []
        return sorted(entry.rstrip("/").rsplit("/", 1)[-1] for entry in entries)

    def remove(self, path: str) -> None:
        """Delete a file; a file that is already gone is fine (deletes are retried after crashes)."""
        try:
            self.fs.rm_file(path)
        except FileNotFoundError:
            pass  # already deleted: the goal of the call is reached

    def _write_temp(self, path: str, data: bytes) -> str:
        parent, name = path.rsplit("/", 1)
        self.fs.makedirs(parent, exist_ok=True)
        tmp = f"{parent}/{temp_name(name)}"
        try:
            with self.fs.open(tmp, "wb") as handle:
                handle.write(data)
                if self.local:
                    handle.flush()
                    fsync_file(handle)
        except BaseException:
            self._discard(tmp)
            raise
        return tmp

    def _discard(self, tmp: str) -> None:
        try:
            if self.fs.exists(tmp):
                self.fs.rm_file(tmp)
        except OSError:
            pass  # best effort: a leftover temporary file is never listed and is harmless
