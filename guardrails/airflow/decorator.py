"""``@task.guarded``: the TaskFlow form of `GuardedOperator` (registered by the provider entry point).

Example (in a DAG file)::

    @task.guarded(contract=CONTRACTS / "transactions.odcs.yaml", target="/lake/transactions/date={partition}")
    def clean_transactions(data_interval_start=None):
        return read_landing_zone(data_interval_start)

The function returns the batch; the task's XCom is the outcome record (status, per-rule failing rows, batch id,
contract version, partition), not the frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow.providers.common.compat.sdk import DecoratedOperator, task_decorator_factory

from guardrails.airflow.operator import GuardedOperator


class _GuardedDecoratedOperator(DecoratedOperator, GuardedOperator):
    """`GuardedOperator` behind a TaskFlow function (the arguments are the function's, as for ``@task``)."""

    custom_operator_name: str = "@task.guarded"

    def __init__(self, *, python_callable: Callable[..., Any], op_args: Any, op_kwargs: Any, **kwargs: Any) -> None:
        super().__init__(
            kwargs_to_upstream={"python_callable": python_callable, "op_args": op_args, "op_kwargs": op_kwargs},
            python_callable=python_callable,
            op_args=op_args,
            op_kwargs=op_kwargs,
            **kwargs,
        )


def guarded_task(python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
    """Wrap a function returning a batch into a guarded task; takes `GuardedOperator`'s arguments.

    The return value is the outcome record, never unrolled (``multiple_outputs`` is always False).
    """
    kwargs.pop("multiple_outputs", None)
    return task_decorator_factory(
        python_callable=python_callable,
        multiple_outputs=False,
        decorated_operator_class=_GuardedDecoratedOperator,
        **kwargs,
    )
