"""Evidence about a stored batch that any host can recompute: the SHA-256 of its file (a lineage's content hash)."""

from __future__ import annotations

import hashlib
from pathlib import Path

_HASH_CHUNK = 1 << 20


def file_sha256(path: str) -> str | None:
    """``sha256:<hex>`` of a local file's bytes, or None when it is not a readable local file (a URL, gone)."""
    file = Path(path)
    if "://" in path or not file.is_file():
        return None
    digest = hashlib.sha256()
    try:
        with file.open("rb") as handle:
            while chunk := handle.read(_HASH_CHUNK):
                digest.update(chunk)
    except OSError:  # unreadable now: the reference keeps its batch id, which is what matching needs
        return None
    return f"sha256:{digest.hexdigest()}"
