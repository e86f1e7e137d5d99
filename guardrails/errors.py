"""Exceptions for misconfiguration. Data that fails a check is an outcome, never an exception."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class GuardrailsError(Exception):
    """Base class of every error this library raises on purpose."""


class ContractError(GuardrailsError):
    """A contract file is malformed: names the file, the line, the field path, what was expected and what arrived.

    The facts are attributes so callers and incident reports never parse the message. A loader that collects
    several problems raises one error for the first and passes the rest as `more`: `errors` then holds all of
    them in file order and the message ends with "... and N more".

    Example:
        >>> str(ContractError("expectations/tx.odcs.yaml", "schema[0].properties[3].logicalTypeOptions.minimum",
        ...                   expected="a number", got="'ten'", line=21))
        "expectations/tx.odcs.yaml:21: schema[0].properties[3].logicalTypeOptions.minimum: expected a number, got 'ten'"
    """

    def __init__(
        self,
        path: str | Path,
        field: str,
        *,
        expected: str,
        got: str,
        line: int | None = None,
        hint: str = "",
        more: Sequence[ContractError] = (),
    ) -> None:
        self.path = str(path)
        self.field = field
        self.expected = expected
        self.got = got
        self.line = line
        self.hint = hint
        self.errors: tuple[ContractError, ...] = (self, *more)
        where = f"{self.path}:{line}" if line is not None else self.path
        message = f"{where}: {field}: expected {expected}, got {got}"
        if hint:
            message = f"{message} ({hint})"
        if more:
            message = f"{message} ... and {len(more)} more"
        super().__init__(message)
