"""The quarantine's one exception type."""

from __future__ import annotations

from guardrails.errors import GuardrailsError


class QuarantineError(GuardrailsError):
    """A quarantine operation cannot proceed: unknown or purged batch, a contract that is not the batch's, a store
    that cannot be read or written.

    Data that fails its checks is never this error (it is an outcome); the facts are attributes so callers never
    parse the message.

    Example:
        >>> str(QuarantineError("tx-1f2e", "no such batch in /data/q", hint="see `guardrails quarantine list`"))
        'batch tx-1f2e: no such batch in /data/q (see `guardrails quarantine list`)'
    """

    def __init__(self, batch_id: str | None, problem: str, *, hint: str = "") -> None:
        self.batch_id = batch_id
        self.problem = problem
        self.hint = hint
        message = f"batch {batch_id}: {problem}" if batch_id else problem
        super().__init__(f"{message} ({hint})" if hint else message)
