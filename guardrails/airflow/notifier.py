"""`QuarantineNotifier`: a failure callback posting one Slack-compatible message when a guarded task quarantined.

Delivery is the core's (`guardrails.incidents._notify.post_json`: bounded retries with backoff, never raises into
Airflow). A task failure that is not a quarantine (the callable crashed, the store was down) posts nothing: Airflow's
own alerting reports those. Text from the contract or the data is escaped and capped (`guardrails._text`).

Example (in a DAG file)::

    @task.guarded(contract=..., target=..., on_failure_callback=QuarantineNotifier(Variable.get("slack_hook")))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow.sdk import BaseNotifier

from guardrails._text import MESSAGE_CHARS, VALUE_CHARS, cap_text, visible
from guardrails.airflow._publish import OUTCOME_XCOM_KEY
from guardrails.incidents._notify import post_json


class QuarantineNotifier(BaseNotifier):
    """Posts ``{"text": ...}`` to a webhook (a Slack incoming webhook or anything accepting the same JSON).

    Args:
        url: the webhook (templated).
        attempts: tries (>= 1), retried on connection errors, timeouts and 408/425/429/5xx.
        backoff_seconds: first wait between tries, doubled each time.
        timeout_seconds: per request.

    Raises:
        ValueError: `url` is not an http(s) URL or `attempts` < 1 (when the DAG file is parsed).
    """

    template_fields = ("url",)

    def __init__(self, url: str, *, attempts: int = 4, backoff_seconds: float = 0.5, timeout_seconds: float = 5.0):
        super().__init__()
        if not url.startswith(("http://", "https://", "{{")):
            raise ValueError(f"QuarantineNotifier.url: expected an http(s) URL, got {url!r}")
        if attempts < 1:
            raise ValueError(f"QuarantineNotifier.attempts: expected >= 1, got {attempts!r}")
        self.url = url
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self.timeout_seconds = timeout_seconds

    def notify(self, context: Any) -> None:
        record = getattr(context.get("exception"), "record", None)
        ti = context["ti"]
        if record is None:
            record = ti.xcom_pull(task_ids=ti.task_id, key=OUTCOME_XCOM_KEY)
        if not record:
            return
        payload = quarantine_message(record, dag_id=ti.dag_id, task_id=ti.task_id)
        delivered, attempts, error = post_json(self.url, payload, attempts=self.attempts,
                                               backoff_seconds=self.backoff_seconds,
                                               timeout_seconds=self.timeout_seconds)
        if not delivered:
            self.log.warning("could not post the quarantine of %s to the webhook after %d attempt(s): %s",
                             record.get("batch_id"), attempts, error)


def quarantine_message(record: Mapping[str, Any], *, dag_id: str, task_id: str) -> dict[str, Any]:
    """The Slack-compatible payload: which batch, which task and partition, why, and the command to release it.

    Example:
        >>> record = {"batch_id": "tx.2026-11-04", "partition": "2026-11-04", "rows_quarantined": 5,
        ...           "reason": "1 blocking rule failed: amount.range (5 rows)", "quarantine_store": "file:///q"}
        >>> quarantine_message(record, dag_id="fraud", task_id="clean")["text"].splitlines()[0]
        ':rotating_light: Batch tx.2026-11-04 quarantined by fraud.clean [2026-11-04]: 5 rows held back'
    """
    def text(key: str, limit: int = VALUE_CHARS) -> str:
        return _slack(cap_text(str(record.get(key, "")), limit))

    lines = [
        f":rotating_light: Batch {text('batch_id')} quarantined by {cap_text(dag_id)}.{cap_text(task_id)} "
        f"[{text('partition')}]: {record.get('rows_quarantined', 0)} rows held back",
        f"*Why:* {text('reason', MESSAGE_CHARS) or text('error', MESSAGE_CHARS)}",
        f"*Release once fixed:* `guardrails quarantine release {text('batch_id')} --contract <contract> "
        f"--store {text('quarantine_store')}`",
    ]
    return {"text": "\n".join(lines)}


def _slack(value: str) -> str:
    """Control characters shown as escapes; ``& < >`` escaped as Slack asks, so data cannot ping or link."""
    return visible(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
