"""The quarantine's one exception type."""

from __future__ import annotations

from guardrails.errors import GuardrailsError

SHOWN_ID = 80
"""The longest batch id a message repeats in full (ids come from callers and from disk: keep messages readable)."""


class QuarantineError(GuardrailsError):
    """A quarantine operation cannot proceed: unknown or purged batch, a contract that is not the batch's, a store
    that cannot be read or written.

    Data that fails its checks is never this error (it is an outcome); the facts are attributes so callers never
    parse the message. An id longer than `SHOWN_ID` characters is cut in the message, never in `batch_id`.

    Example:
        >>> str(QuarantineError("tx-1f2e", "no such batch in /data/q", hint="see `guardrails quarantine list`"))
        'batch tx-1f2e: no such batch in /data/q (see `guardrails quarantine list`)'
    """

    def __init__(self, batch_id: str | None, problem: str, *, hint: str = "") -> None:
        self.batch_id = batch_id
        self.problem = problem
        self.hint = hint
        shown = batch_id if batch_id is None or len(batch_id) <= SHOWN_ID else f"{batch_id[: SHOWN_ID - 3]}..."
        message = f"batch {shown}: {problem}" if batch_id else problem
        super().__init__(f"{message} ({hint})" if hint else message)


class ManifestError(ValueError):
    """A manifest that cannot be trusted: not JSON, a field missing, of the wrong type, or pointing elsewhere.

    `problems` lists every fault found, each starting with the field's name, so a report can show all of them.

    Example:
        >>> str(ManifestError(["data_file: expected 'data-0a1b.parquet', got '../x'", "rows_in: expected a count"]))
        "data_file: expected 'data-0a1b.parquet', got '../x'; rows_in: expected a count"
    """

    SHOWN = 5

    def __init__(self, problems: list[str] | tuple[str, ...]) -> None:
        self.problems = tuple(problems)
        shown = "; ".join(self.problems[: self.SHOWN])
        more = len(self.problems) - self.SHOWN
        super().__init__(f"{shown}; ... and {more} more" if more > 0 else shown)
