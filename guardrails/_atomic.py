"""The one atomic write of a local file: a reader sees the old file or the whole new one, never a part.

Every local write that must survive a crash goes through `write_bytes_atomic` (or `write_text_atomic`): the
bytes go to a hidden temporary file in the same directory (``.<name>.<32 hex>.tmp``), which is fsynced, renamed
over the target, and then the directory is fsynced. Without the last step a power cut after the rename can
bring back the old file (POSIX makes a rename durable only once its directory is synced). The quarantine
store's fsspec layer (`guardrails.quarantine._files`) uses the same steps for local filesystems.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

TEMP_SUFFIX = ".tmp"


def temp_name(name: str) -> str:
    """The name of a temporary file on its way to becoming `name` (hidden, unique, never listed as data)."""
    return f".{name}.{uuid.uuid4().hex}{TEMP_SUFFIX}"


TEMP_NAME_OVERHEAD = len(temp_name(""))
"""How many characters a temporary file's name adds to its target's: the file system must allow both."""


def write_bytes_atomic(
    path: str | os.PathLike[str], data: bytes, *, opener: Callable[[str, str], IO[Any]] = open
) -> Path:
    """Write `data` to `path`: temporary file, fsync, rename, fsync of the directory. Returns the path.

    A crash leaves the previous file (or none), never half of one; the temporary file is removed if anything
    fails. `opener` opens the temporary file for writing (the quarantine store passes its local fsspec
    filesystem's ``open``, so a filesystem that fails writes fails this one too).

    Example:
        >>> import tempfile
        >>> write_bytes_atomic(f"{tempfile.mkdtemp()}/a/b.json", b"{}").read_bytes()
        b'{}'
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / temp_name(target.name)
    try:
        with opener(str(tmp), "wb") as handle:
            handle.write(data)
            handle.flush()
            fsync_file(handle)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)
    return target


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """`write_bytes_atomic` of `text` encoded as UTF-8."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def fsync_file(handle: object) -> None:
    """Flush a local file to disk so that, once renamed, it survives a power cut (needs a real file descriptor)."""
    try:
        fileno = handle.fileno()  # type: ignore[attr-defined]
    except (AttributeError, io.UnsupportedOperation):
        return  # a wrapper without a descriptor (a test filesystem): still atomic, durable when the OS flushes
    os.fsync(fileno)


def fsync_dir(directory: str | os.PathLike[str]) -> None:
    """Persist a rename or link: on POSIX it is durable only once its directory is synced."""
    fd = os.open(os.fspath(directory) or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
