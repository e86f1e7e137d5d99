"""Options several commands share, defined once so they parse and read the same everywhere."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

AsOfOption = Annotated[
    datetime | None,
    typer.Option(
        "--as-of",
        parser=datetime.fromisoformat,
        metavar="ISO-TIME",
        help="Judge time rules (not in the future, max age) as of this ISO 8601 time (default: now, UTC); "
        "use the batch's own day for old data.",
    ),
]
