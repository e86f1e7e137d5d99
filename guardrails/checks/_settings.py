"""The checks' settings read from a contract, once, at load: typed reads of ``customProperties`` that raise
`ContractError` with the full field path, so misconfiguration fails at load time and names the file and field.

`read_check_settings` is what the contract loader calls; `DriftSettings.from_contract` and its siblings then
return what it parsed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from guardrails.checks.band import Band
from guardrails.contract.custom_properties import FRESHNESS_SLA
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


@dataclass(frozen=True, slots=True)
class CheckSettings:
    """The typed settings of each check a contract configures (None: not configured), and what was refused.

    `errors` holds one `ContractError` per refused setting; its `field` is the dotted path the check's parser
    names (``customProperties.drift.thresholds.psi``), with no line yet: the loader adds it.
    """

    drift: Any = None
    parity: Any = None
    freshness: Any = None
    errors: tuple[ContractError, ...] = ()


def read_check_settings(custom: Mapping[str, Any], sla: Mapping[str, Any], *, primary_key: Sequence[str],
                        source: str) -> CheckSettings:
    """Parse every check setting the contract gives, collecting each refusal instead of stopping at the first.

    Drift and parity are read when their ``customProperties`` entry is present; freshness when its entry or a
    freshness SLA (``latency``, ``freshness``, ``frequency``) is.
    """
    # Imported here: the check modules import this one (and polars, numpy, scipy); a contract without check
    # settings never needs them.
    from guardrails.checks.drift import DriftSettings
    from guardrails.checks.freshness import FreshnessSettings
    from guardrails.checks.parity import ParitySettings

    parsed: dict[str, Any] = {}
    errors: list[ContractError] = []
    readers = {
        "drift": lambda: DriftSettings.from_mapping(custom["drift"], source=source),
        "parity": lambda: ParitySettings.from_mapping(custom["parity"], default_keys=primary_key, source=source),
        "freshness": lambda: FreshnessSettings.from_sla(sla, custom.get("freshness"), source=source),
    }
    for key, read in readers.items():
        wanted = key in custom or (key == "freshness" and any(k in sla for k in FRESHNESS_SLA))
        if not wanted:
            continue
        try:
            parsed[key] = read()
        except ContractError as exc:
            errors.extend(exc.errors)
    return CheckSettings(**parsed, errors=tuple(errors))
