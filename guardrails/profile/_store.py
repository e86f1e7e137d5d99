"""The one store of reference profiles: a profile file per accepted batch, merged on demand, plain files.

Why one file per batch instead of folding every batch into one profile: a re-run of the same partition must
replace its contribution, not add it twice, and a drift check must be able to leave the batch under audit out
of its own reference. Each accepted batch is profiled once, in the layout of the first accepted batch
(`build_profile(..., like=...)`), and saved as ``<root>/<name>/<batch>.profile.json`` (the profile's JSON
carries its schema version); the reference is the merge of the stored batches (a few kilobytes each), cached
in ``<root>/<name>.merged.json``.

A ``<root>/<name>.profile.json`` folded by earlier versions of this store (one profile for all batches) still
loads: it counts as the oldest batch, `FOLDED_BATCH`, and new batches are profiled in its layout.

Example:
    >>> import polars as pl, tempfile
    >>> store = ProfileStore(tempfile.mkdtemp())
    >>> _ = store.accept("features", pl.DataFrame({"amount": [1.0, 2.0]}), batch_name="2026-11-01")
    >>> _ = store.accept("features", pl.DataFrame({"amount": [3.0]}), batch_name="2026-11-02")
    >>> _ = store.accept("features", pl.DataFrame({"amount": [4.0]}), batch_name="2026-11-02")  # a re-run replaces
    >>> store.load("features").rows, store.reference("features", excluding="2026-11-02").batches
    (3, ('2026-11-01',))
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from guardrails._atomic import write_text_atomic
from guardrails.profile._build import build_profile
from guardrails.profile._sketch import Profile, ProfileError

_UNSAFE = re.compile(r"[^A-Za-z0-9_=+-]+")

FOLDED_BATCH = "_folded"
"""The batch name of a profile folded by earlier versions (``<root>/<name>.profile.json``); no stem starts with _."""


def batch_file_stem(batch: str) -> str:
    """A partition key or run id as a plain file stem (``region=eu|2026-11-02`` -> ``region=eu_2026-11-02``)."""
    stem = _UNSAFE.sub("_", batch).strip("_")
    if not stem:
        raise ValueError(f"batch name {batch!r} has no usable characters for a file name")
    return stem[:200]


def save_profile(profile: Profile, path: str | Path) -> Path:
    """Write a profile as JSON atomically (a crash never leaves half a file); returns the path."""
    return write_text_atomic(path, profile.to_json())


def load_profile(path: str | Path) -> Profile:
    """Read a profile file; raises `ProfileError` (naming the file and field) if it is missing, corrupt or old."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ProfileError(source, "(file)", expected="a profile file", got="no such file",
                           hint="build one from accepted batches with ProfileStore.accept") from exc
    except UnicodeDecodeError as exc:
        raise ProfileError(source, "(file)", expected="UTF-8 JSON", got="undecodable bytes") from exc
    return Profile.from_json(text, source=source)


@dataclass(frozen=True, slots=True)
class MergedReference:
    """The merged reference and which stored batches it is made of (oldest first)."""

    profile: Profile
    batches: tuple[str, ...]

    @property
    def rows(self) -> int:
        return self.profile.rows


class ReferenceSource(Protocol):
    """What a drift judge needs of a store: the merged reference of `name`, optionally without one batch."""

    def reference(self, name: str, *, excluding: str | None = None,
                  window: int | None = None) -> MergedReference | None: ...


@dataclass(frozen=True, slots=True)
class ProfileStore:
    """Reference profiles under a directory: per reference `name`, one profile file per accepted batch.

    Only accept rows that passed their checks: a reference built from bad data hides drift.
    """

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    def directory(self, name: str) -> Path:
        """Where the batches of reference `name` live; refuses names that are not plain file stems."""
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"profile name must be a plain file stem, got {name!r}")
        return self.root / name

    def merged_path(self, name: str) -> Path:
        """The cached merge of every stored batch (next to the batch directory, not in it)."""
        return self.directory(name).with_name(f"{name}.merged.json")

    def folded_path(self, name: str) -> Path:
        """Where earlier versions folded every batch into one profile (read as batch `FOLDED_BATCH`)."""
        return self.directory(name).with_name(f"{name}.profile.json")

    def batches(self, name: str) -> tuple[str, ...]:
        """Stored batch names, oldest first: a folded profile, then the batch files sorted by name."""
        folded = (FOLDED_BATCH,) if self.folded_path(name).is_file() else ()
        directory = self.directory(name)
        if not directory.is_dir():
            return folded
        return folded + tuple(sorted(p.name.removesuffix(".profile.json") for p in directory.glob("*.profile.json")))

    def exists(self, name: str) -> bool:
        return bool(self.batches(name))

    def accept(self, name: str, rows: Any, *, batch_name: str | None = None, **build_options: Any) -> Profile:
        """Profile accepted `rows` and store them as batch `batch_name` of `name`; returns the batch's profile.

        A batch stored before under the same name is replaced (a re-run does not count twice); without a name
        the batch gets a new, time-ordered one. The first batch fixes the layout (`build_options`, see
        `build_profile`); later ones reuse it so they merge exactly.
        """
        stem = batch_file_stem(batch_name) if batch_name is not None else _new_batch_name()
        stored = self.batches(name)
        others = [b for b in stored if b != stem]
        layout = self._load_batch(name, others[0]) if others else None
        profile = build_profile(rows, like=layout) if layout is not None else build_profile(rows, **build_options)
        save_profile(profile, self.directory(name) / f"{stem}.profile.json")
        cached = self._load_merged(name)
        if cached is not None and stem not in stored and cached.batches == stored:
            self._save_merged(name, MergedReference(profile=cached.profile.merge(profile),
                                                    batches=self.batches(name)))
        else:  # a replaced batch cannot be taken out of a merge: rebuild it on the next read
            self.merged_path(name).unlink(missing_ok=True)
        return profile

    def reference(self, name: str, *, excluding: str | None = None,
                  window: int | None = None) -> MergedReference | None:
        """The merge of the stored batches (the latest `window` of them, if set), leaving out `excluding`.

        The merge of every stored batch is cached (one file instead of one per batch, which matters after a
        year of daily partitions); leaving out a stored batch or using a window merges the batch files.
        Returns None when no batch is stored yet. Raises `ProfileError` when a file is corrupt, of an old schema
        version, or of another layout (e.g. written before the drift settings changed: delete the directory).
        """
        skip = batch_file_stem(excluding) if excluding is not None else None
        stored = self.batches(name)
        names = [b for b in stored if b != skip]
        if window is not None:
            names = names[-window:]
        if not names:
            return None
        whole = len(names) == len(stored)
        if whole and (cached := self._load_merged(name)) is not None and cached.batches == stored:
            return cached
        merged = self._load_batch(name, names[0])
        for batch in names[1:]:
            merged = merged.merge(self._load_batch(name, batch))
        result = MergedReference(profile=merged, batches=tuple(names))
        if whole:
            self._save_merged(name, result)
        return result

    def load(self, name: str) -> Profile:
        """The merged reference profile; raises `ProfileError` if none is stored, or a file is corrupt or old."""
        merged = self.reference(name)
        if merged is None:
            raise ProfileError(self.directory(name), "(directory)", expected="accepted batches",
                               got="no stored profile", hint="build one from accepted batches with "
                               "ProfileStore.accept")
        return merged.profile

    def _load_batch(self, name: str, batch: str) -> Profile:
        if batch == FOLDED_BATCH:
            return load_profile(self.folded_path(name))
        return load_profile(self.directory(name) / f"{batch}.profile.json")

    def _load_merged(self, name: str) -> MergedReference | None:
        path = self.merged_path(name)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return MergedReference(profile=Profile.from_dict(data["profile"], source=path),
                                   batches=tuple(data["batches"]))
        except (OSError, ValueError, KeyError, TypeError, ProfileError):
            return None  # a missing, stale or damaged cache is only a cache: the batch files are the truth

    def _save_merged(self, name: str, merged: MergedReference) -> None:
        """Write the cache atomically (a concurrent reader sees the old or the new file, never half of one)."""
        cache = {"batches": list(merged.batches), "profile": merged.profile.to_dict()}
        write_text_atomic(self.merged_path(name), json.dumps(cache, allow_nan=False))


def _new_batch_name() -> str:
    """A unique name that sorts by acceptance time (so `window` keeps the latest batches)."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"
