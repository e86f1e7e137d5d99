"""The quarantine store's layout: where a batch lives, which ids are allowed, how a manifest is written.

Shared by the store's put/read half (`_store`) and its release/purge half (`_release`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from guardrails.quarantine._errors import QuarantineError
from guardrails.quarantine._files import TEMP_NAME_OVERHEAD
from guardrails.quarantine._manifest import QuarantineManifest

DEFAULT_LOCATION = ".guardrails/quarantine"
MANIFEST = "manifest.json"
CLAIM = "claim.json"
RELEASED_DIR = "_released"
RELEASED_EXTENSION = ".parquet"
MAX_SUFFIX = 1000
NAME_MAX = 255
"""The longest file name the store may create: NAME_MAX of common local filesystems (ext4, XFS, APFS, NTFS)."""
MAX_BATCH_ID = NAME_MAX - len(f"~{MAX_SUFFIX}") - len(RELEASED_EXTENSION) - TEMP_NAME_OVERHEAD
"""The longest batch id a caller may ask for (204): derived from the longest name the store builds from an id,
the temporary file of ``_released/<id>~<N>.parquet``, so that every id accepted by `put` can also be released."""
BATCH_ID = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._~-]{{0,{MAX_BATCH_ID - 1}}}")
STORED_ID = re.compile(rf"(?:{BATCH_ID.pattern})(?:~[0-9]{{1,{len(str(MAX_SUFFIX))}}})?")
_ID_CHARACTERS = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*")


def derive_batch_id(content_hash: str, prefix: str = "batch") -> str:
    """The default batch id: a readable prefix (the contract's table) and 16 hex digits of the content hash.

    Example:
        >>> derive_batch_id("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "Card transactions")
        'card-transactions-9f86d081884c7d65'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", prefix.lower()).strip("-") or "batch"
    return f"{slug[:80]}-{content_hash[:16]}"


def checked_batch_id(batch_id: str, *, stored: bool = False) -> str:
    """`batch_id` if it is a valid id (a safe directory name), else a QuarantineError saying what is allowed.

    A caller may ask for up to `MAX_BATCH_ID` characters; with `stored`, the ``~<N>`` the store appends to a taken
    id is allowed on top (ids of batches already in the store).

    Example:
        >>> checked_batch_id("b" * 230)
        Traceback (most recent call last):
        ...
        guardrails.quarantine._errors.QuarantineError: batch bbb...: is 230 characters long; ... at most 204 (...)
    """
    if not isinstance(batch_id, str) or not (STORED_ID if stored else BATCH_ID).fullmatch(batch_id):
        hint = f"use 1-{MAX_BATCH_ID} letters, digits, '.', '_', '~' or '-', starting with a letter or digit"
        if isinstance(batch_id, str) and len(batch_id) > MAX_BATCH_ID and _ID_CHARACTERS.fullmatch(batch_id):
            raise QuarantineError(
                batch_id,
                f"is {len(batch_id)} characters long; batch ids have at most {MAX_BATCH_ID}"
                + (" plus the '~<N>' the store appends to a taken id" if stored else ""),
                hint=f"the store appends '~<N>' to a taken id and names files after it, all within {NAME_MAX}-byte "
                "file names; pass a shorter id, or none to use the content hash",
            )
        raise QuarantineError(str(batch_id), "is not a valid batch id", hint=hint)
    return batch_id


def candidates(batch_id: str) -> Iterator[str]:
    yield batch_id
    for n in range(2, MAX_SUFFIX + 1):
        yield f"{batch_id}~{n}"


def encode_manifest(manifest: QuarantineManifest) -> bytes:
    return manifest.to_json(indent=2).encode()


def format_when(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else "an unknown time"
