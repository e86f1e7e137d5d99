"""ODCS ``type: custom`` rules: Great Expectations ones run through GX, others are listed as *not run*.

GX rules of one contract run together, as one expectation suite through `validate_expectation_suite` (the way
existing GX suites run: an ephemeral context, a pandas batch), each expectation tagged with its rule's id and
severity, and each result mapped back to its rule. An expectation GX cannot build (an unknown type, bad kwargs)
is that rule's *could not run*; so is every GX rule when the ``[gx]`` extra is missing, with a one-line reason.

A rule for an engine guardrails does not have (soda, dqx, monte-carlo, dbt...) is *not run*
(`guardrails.outcome.not_run`): fail closed by default, a warning when the caller allows unrun rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from guardrails._text import MESSAGE_CHARS, cap_text
from guardrails.contract._quality import is_gx_engine
from guardrails.contract.model import CustomRule
from guardrails.outcome import CheckStatus, RuleResult, not_run


def run_custom_rules(
    rules: Sequence[CustomRule], frame: pl.DataFrame, *, allow_unrun: bool, name: str = "custom"
) -> list[RuleResult]:
    """Each custom rule's result, in the order given; never raises for the data or an engine."""
    gx_rules = [r for r in rules if is_gx_engine(r.engine)]
    results = dict(_run_gx(gx_rules, frame, name=name)) if gx_rules else {}
    for rule in rules:
        if rule.rule_id not in results:
            results[rule.rule_id] = not_run(
                rule.rule_id, rule.kind, rule.columns, rule.severity,
                f"engine {rule.engine!r} is not one guardrails runs (great-expectations)", allow_unrun=allow_unrun,
            )
    return [results[r.rule_id] for r in rules]


def _error(rule: CustomRule, message: str) -> RuleResult:
    return RuleResult(rule_id=rule.rule_id, kind=rule.kind, columns=rule.columns, severity=rule.severity,
                      status=CheckStatus.ERROR, message=cap_text(message, MESSAGE_CHARS))


def _expected(rule: CustomRule) -> str:
    implementation = rule.implementation
    return str(implementation.get("type", "")) if isinstance(implementation, dict) else ""


def _run_gx(rules: Sequence[CustomRule], frame: pl.DataFrame, *, name: str) -> list[tuple[str, RuleResult]]:
    try:
        from guardrails._extras import require_extra

        require_extra("great_expectations", "gx", "type: custom rules with engine great-expectations")
        require_extra("pandas", "gx", "type: custom rules with engine great-expectations")
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
    except ImportError as exc:
        return [(r.rule_id, _error(r, str(exc))) for r in rules]

    out: list[tuple[str, RuleResult]] = []
    expectations: list[dict[str, Any]] = []
    by_id: dict[str, CustomRule] = {}
    for rule in rules:
        implementation = dict(rule.implementation) if isinstance(rule.implementation, dict) else {}
        expectation = {
            "type": implementation.get("type"),
            "kwargs": dict(implementation.get("kwargs") or {}),
            "meta": {**dict(implementation.get("meta") or {}), "rule_id": rule.rule_id, "severity": rule.severity.value},
        }
        try:  # GX logs and drops an expectation it cannot build: check each one, so no rule vanishes
            ExpectationConfiguration(**expectation).to_domain_obj()
        except Exception as exc:  # noqa: BLE001 - GX raises many types for a bad expectation; it is this rule's
            out.append((rule.rule_id, _error(rule, f"Great Expectations cannot build it: {type(exc).__name__}: {exc}")))
            continue
        expectations.append(expectation)
        by_id[rule.rule_id] = rule
    if not expectations:
        return out
    from guardrails.validation._great_expectations import validate_expectation_suite

    outcome = validate_expectation_suite({"name": name, "expectations": expectations}, frame)
    if outcome.status is CheckStatus.ERROR and not outcome.rules:
        return out + [(rid, _error(rule, f"{outcome.message}: {outcome.error}")) for rid, rule in by_id.items()]
    for result in outcome.rules:
        rule = by_id.get(result.rule_id)
        if rule is None:
            continue
        out.append((rule.rule_id, RuleResult(
            rule_id=rule.rule_id, kind=rule.kind, columns=rule.columns or result.columns, severity=rule.severity,
            status=result.status, failing_rows=result.failing_rows, observed=result.observed,
            expected=" ".join(p for p in (_expected(rule), result.expected) if p), message=result.message,
        )))
    missing = [rid for rid in by_id if rid not in {r for r, _ in out}]
    return out + [(rid, _error(by_id[rid], "Great Expectations returned no result for it")) for rid in missing]
