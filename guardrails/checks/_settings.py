"""Typed reads from a parsed YAML mapping (contract ``customProperties``), raising `ContractError` with the
full field path, so misconfiguration fails at load time and names the file and field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from typing import Any

from guardrails.checks.band import Band
from guardrails.errors import ContractError


class SettingsReader:
    """Typed reads from a parsed YAML mapping, raising `ContractError` with the full field path."""

    def __init__(self, source: str, prefix: str) -> None:
        self.source, self.prefix = source, prefix

    def fail(self, where: str, expected: str, got: Any) -> ContractError:
        path = f"{self.prefix}.{where}" if where else self.prefix
        return ContractError(self.source, path, expected=expected, got=repr(got))

    def mapping(self, value: Any, where: str, allowed: set[str] | None) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, "a mapping", value)
        if allowed is not None and (unknown := set(value) - allowed):
            raise self.fail(f"{where}.{sorted(unknown)[0]}" if where else sorted(unknown)[0],
                            f"one of the keys {sorted(allowed)}", sorted(unknown)[0])
        return value

    def names(self, value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, Sequence) or isinstance(value, str) or not all(isinstance(v, str) for v in value):
            raise self.fail(where, "a list of column names", value)
        return tuple(value)

    def positive_int(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(where, "a positive integer", value)
        return value

    def band(self, value: Any, where: str) -> Band | None:
        if value is None:
            return None
        if isinstance(value, Mapping):
            self.mapping(value, where, {"warn", "error"})
            warn, error = value.get("warn"), value.get("error")
        elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
            warn, error = value
        else:
            raise self.fail(where, "{warn: <number>, error: <number>}, [warn, error] or null", value)
        try:
            return Band(warn, error)
        except ValueError as exc:
            raise self.fail(where, f"a valid band ({exc})", value) from exc

    def thresholds(self, value: Any, where: str, base: Any) -> Any:
        """Bands by statistic over `base` (a frozen dataclass of optional `Band`s); null turns one off."""
        if value is None:
            return base
        names = {f.name for f in fields(base)}
        data = self.mapping(value, where, names)
        return replace(base, **{name: self.band(raw, f"{where}.{name}") for name, raw in data.items()})
