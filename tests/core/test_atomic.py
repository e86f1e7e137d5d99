"""The one atomic write: temporary file, fsync, rename, fsync of the directory, for every local writer."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from guardrails._atomic import write_text_atomic
from guardrails.incidents import IncidentStateStore
from guardrails.quarantine._files import Files


def _record_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Wrap the real ``os.fsync`` so each synced descriptor is noted as ``file`` or ``dir`` (and still synced)."""
    synced: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return synced


def test_write_text_atomic_syncs_file_then_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A text write syncs the file before the rename and its directory after it, so the rename survives a crash."""
    synced = _record_fsyncs(monkeypatch)
    write_text_atomic(tmp_path / "profile.json", "{}")
    assert synced == ["file", "dir"]
    assert (tmp_path / "profile.json").read_text() == "{}"
    assert [p.name for p in tmp_path.iterdir()] == ["profile.json"]


def test_incident_state_write_syncs_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Incident state goes through the same write: its directory is synced after the rename."""
    synced = _record_fsyncs(monkeypatch)
    IncidentStateStore(tmp_path).mark_attached("inc-1", __import__("datetime").datetime(2026, 1, 1))
    assert synced[-2:] == ["file", "dir"]


def test_quarantine_files_write_syncs_file_then_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The quarantine store's local atomic write takes the same steps (file, rename, directory)."""
    from fsspec.implementations.local import LocalFileSystem

    synced = _record_fsyncs(monkeypatch)
    Files(LocalFileSystem()).write_atomic(f"{tmp_path}/b/manifest.json", b"{}")
    assert synced == ["file", "dir"]
    assert (tmp_path / "b" / "manifest.json").read_bytes() == b"{}"


def test_failed_write_keeps_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    """A write that fails half-way leaves the previous content and no temporary file behind."""
    target = tmp_path / "state.json"
    write_text_atomic(target, "old")

    class Broken(Exception):
        pass

    def failing_open(path: str, mode: str):  # noqa: ANN202 - a real file whose write fails after a few bytes
        handle = open(path, mode)  # noqa: SIM115 - closed below before raising
        handle.write(b"ha")
        handle.close()
        raise Broken

    from guardrails._atomic import write_bytes_atomic

    with pytest.raises(Broken):
        write_bytes_atomic(target, b"new", opener=failing_open)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["state.json"]
