"""Reference profiles kept per accepted batch, merged on demand (no Dagster here: plain files).

Why one file per batch instead of folding every batch into one profile: a re-run of the same partition must
replace its contribution, not add it twice, and a drift check must be able to leave the batch under audit out
of its own reference. Each accepted batch is profiled once, in the layout of the first accepted batch
(`build_profile(..., like=...)`), and saved as ``<root>/<name>/<batch>.profile.json`` (the profile's JSON
carries its schema version); the reference is the merge of the stored batches (a few kilobytes each).

Example:
    >>> import polars as pl, tempfile
    >>> from guardrails.checks import DriftSettings
    >>> profiles = ReferenceProfiles(tempfile.mkdtemp(), "features")
    >>> _ = profiles.accept("2026-11-01", pl.DataFrame({"amount": [1.0, 2.0]}), DriftSettings())
    >>> _ = profiles.accept("2026-11-02", pl.DataFrame({"amount": [3.0]}), DriftSettings())
    >>> _ = profiles.accept("2026-11-02", pl.DataFrame({"amount": [4.0]}), DriftSettings())  # a re-run replaces
    >>> profiles.reference().rows, profiles.reference(excluding="2026-11-02").batches
    (3, ('2026-11-01',))
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guardrails._atomic import write_text_atomic
from guardrails.checks import DriftSettings
from guardrails.profile import Profile, ProfileError, ProfileStore, build_profile

_UNSAFE = re.compile(r"[^A-Za-z0-9_=+-]+")


def batch_file_stem(batch: str) -> str:
    """A partition key or run id as a plain file stem (``region=eu|2026-11-02`` -> ``region=eu_2026-11-02``)."""
    stem = _UNSAFE.sub("_", batch).strip("_")
    if not stem:
        raise ValueError(f"batch name {batch!r} has no usable characters for a file name")
    return stem[:200]


@dataclass(frozen=True, slots=True)
class MergedReference:
    """The merged reference and which stored batches it is made of (oldest first)."""

    profile: Profile
    batches: tuple[str, ...]

    @property
    def rows(self) -> int:
        return self.profile.rows


@dataclass(frozen=True, slots=True)
class ReferenceProfiles:
    """The accepted batches of one asset, one profile file each, under ``<root>/<name>/``."""

    root: Path
    name: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))
        batch_file_stem(self.name)  # refuse names that are not plain file stems at build time

    @property
    def directory(self) -> Path:
        return self.root / self.name

    @property
    def store(self) -> ProfileStore:
        return ProfileStore(self.directory)

    def batches(self) -> tuple[str, ...]:
        """Stored batch names, sorted (partition keys sort by time for time partitions)."""
        if not self.directory.is_dir():
            return ()
        return tuple(sorted(p.name.removesuffix(".profile.json") for p in self.directory.glob("*.profile.json")))

    @property
    def merged_path(self) -> Path:
        """The cached merge of every stored batch (next to the batch directory, not in it)."""
        return self.root / f"{self.name}.merged.json"

    def accept(self, batch: str, rows: Any, settings: DriftSettings) -> Profile:
        """Profile an accepted batch and store it under `batch` (replacing an earlier profile of the same batch).

        Only call this with published rows that passed their checks: a reference built from bad data hides
        drift. The first batch fixes the layout (from `settings`); later ones reuse it so they merge exactly.
        """
        stem = batch_file_stem(batch)
        stored = self.batches()
        others = [b for b in stored if b != stem]
        layout = self.store.load(others[0]) if others else None
        profile = build_profile(rows, like=layout) if layout is not None else settings.build_reference(rows)
        self.store.save(stem, profile)
        cached = self._load_merged()
        if cached is not None and stem not in stored and cached.batches == tuple(stored):
            self._save_merged(MergedReference(profile=cached.profile.merge(profile),
                                              batches=tuple(sorted((*stored, stem)))))
        else:  # a replaced batch cannot be taken out of a merge: rebuild it on the next read
            self.merged_path.unlink(missing_ok=True)
        return profile

    def reference(self, *, excluding: str | None = None, window: int | None = None) -> MergedReference | None:
        """The merge of the stored batches (the latest `window` of them, if set), leaving out `excluding`.

        The merge of every stored batch is cached (one file instead of one per batch, which matters after a
        year of daily partitions); leaving out a stored batch or using a window merges the batch files.
        Returns None when no batch is stored yet. Raises `ProfileError` when a file is corrupt, of an old schema
        version, or of another layout (e.g. written before the drift settings changed: delete the directory).
        """
        skip = batch_file_stem(excluding) if excluding is not None else None
        stored = self.batches()
        names = [b for b in stored if b != skip]
        if window is not None:
            names = names[-window:]
        if not names:
            return None
        whole = len(names) == len(stored)
        if whole and (cached := self._load_merged()) is not None and cached.batches == stored:
            return cached
        merged = self.store.load(names[0])
        for name in names[1:]:
            merged = merged.merge(self.store.load(name))
        result = MergedReference(profile=merged, batches=tuple(names))
        if whole:
            self._save_merged(result)
        return result

    def _load_merged(self) -> MergedReference | None:
        try:
            data = json.loads(self.merged_path.read_text(encoding="utf-8"))
            return MergedReference(profile=Profile.from_dict(data["profile"], source=self.merged_path),
                                   batches=tuple(data["batches"]))
        except (OSError, ValueError, KeyError, TypeError, ProfileError):
            return None  # a missing, stale or damaged cache is only a cache: the batch files are the truth

    def _save_merged(self, merged: MergedReference) -> None:
        """Write the cache atomically (a concurrent reader sees the old or the new file, never half of one)."""
        cache = {"batches": list(merged.batches), "profile": merged.profile.to_dict()}
        write_text_atomic(self.merged_path, json.dumps(cache, allow_nan=False))
