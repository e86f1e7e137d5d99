"""Declarative automation that never runs downstream of a failed blocking check.

`AutomationCondition.eager()` ignores asset checks: after a contract check fails on a stored batch (e.g. one
checked by `build_contract_checks`), eager would still request every downstream asset. Combining it with
`all_deps_blocking_checks_passed()` holds downstream until every blocking check on its parents passes
again (or is requested in the same tick, in which case the run itself skips downstream on failure).

Example:
    >>> import dagster as dg
    >>> @dg.asset(deps=["clean_transactions"], automation_condition=guarded_automation_condition())
    ... def features(): ...
"""

from __future__ import annotations

import dagster as dg


def guarded_automation_condition(base: dg.AutomationCondition | None = None) -> dg.AutomationCondition:
    """`base` (default `eager()`) that is only true while all parents' blocking checks have passed."""
    if base is None:
        return (dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()).with_label(
            "eager_and_all_deps_blocking_checks_passed"
        )
    return base & dg.AutomationCondition.all_deps_blocking_checks_passed()
