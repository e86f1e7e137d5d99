"""The webhook notifier against a real local HTTP server: once per open/resolve, bounded retries, never raises."""

from __future__ import annotations

import logging
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from guardrails.incidents import (
    Evaluation,
    IncidentRecords,
    IncidentReport,
    IncidentStateStore,
    WebhookNotifier,
    build_incident_report,
)
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity
from tests.incidents._webhook import Webhook

T0 = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)
FAILED = CheckOutcome(
    check="transactions_contract", kind=CheckKind.CONTRACT, status=CheckStatus.FAILED, severity=Severity.ERROR,
    rows=100, started_at=T0, finished_at=T0,
    rules=(RuleResult(rule_id="amount.not_null", kind="not_null", columns=("amount",), severity=Severity.ERROR,
                      status=CheckStatus.FAILED, failing_rows=60),),
)


def report(verdicts: list[bool], now: datetime | None = None) -> IncidentReport:
    evaluations = tuple(
        Evaluation(asset_key="clean", check_name="transactions_contract", timestamp=T0 + timedelta(minutes=i),
                   passed=ok, run_id=f"r{i}", outcome=None if ok else FAILED.evolve(finished_at=T0 + timedelta(minutes=i)))
        for i, ok in enumerate(verdicts)
    )
    return build_incident_report(IncidentRecords(evaluations=evaluations), now=now or T0 + timedelta(minutes=len(verdicts)))


def notifier(url: str, tmp_path: Path, **kwargs) -> WebhookNotifier:
    return WebhookNotifier(url, IncidentStateStore(tmp_path), backoff_seconds=0.01, timeout_seconds=2, **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_one_message_per_open_and_resolve_across_repeated_failures(webhook: Webhook, tmp_path: Path) -> None:
    """Repeated failures and repeated calls send nothing new; the resolution sends exactly one more message."""
    alerts = notifier(webhook.url, tmp_path)
    for seen in ([False], [False, False], [False, False, False]):
        alerts.notify(report(seen))
    assert len(webhook.received) == 1
    alerts.notify(report([False, False, False, True]))
    alerts.notify(report([False, False, False, True, True]))
    opened, resolved = webhook.received
    assert "OPENED" in opened["text"] and "RESOLVED" in resolved["text"]
    assert opened["blocks"][0]["text"]["type"] == "mrkdwn" and "`clean`" in opened["text"]
    assert "Null flood" in opened["text"]


def test_a_failing_webhook_is_retried_with_backoff(webhook: Webhook, tmp_path: Path) -> None:
    """503 twice then 200: delivered on the third attempt, after two growing waits."""
    waits: list[float] = []
    webhook.fail_next = [503, 503]
    [sent] = notifier(webhook.url, tmp_path, sleep=waits.append).notify(report([False]))
    assert (sent.delivered, sent.attempts) == (True, 3)
    assert waits == [0.01, 0.02]
    assert len(webhook.received) == 1


def test_a_client_error_is_not_retried(webhook: Webhook, tmp_path: Path) -> None:
    """A 400 (a malformed request will not get better) stops at the first attempt and stays unsent."""
    webhook.fail_next = [400]
    [sent] = notifier(webhook.url, tmp_path).notify(report([False]))
    assert (sent.delivered, sent.attempts, sent.error) == (False, 1, "HTTP 400 from the webhook")


def test_an_unreachable_webhook_is_logged_bounded_and_retried_on_the_next_call(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, webhook: Webhook
) -> None:
    """Nobody listening: no exception, bounded attempts and time, a warning logged; the next call delivers."""
    dead = f"http://127.0.0.1:{free_port()}/hook"
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="guardrails.incidents"):
        [sent] = notifier(dead, tmp_path, attempts=3).notify(report([False]))
    assert time.monotonic() - started < 5
    assert (sent.delivered, sent.attempts) == (False, 3) and "unreachable" in sent.error
    assert "could not post the opened message" in caplog.text
    [sent] = notifier(webhook.url, tmp_path).notify(report([False]))
    assert sent.delivered and len(webhook.received) == 1


def test_old_resolved_incidents_are_not_replayed(webhook: Webhook, tmp_path: Path) -> None:
    """A first call on a long history stays quiet about incidents resolved long ago, but announces a fresh one."""
    old = report([False, True], now=T0 + timedelta(days=3))
    assert notifier(webhook.url, tmp_path).notify(old) == ()
    fresh = report([False, True], now=T0 + timedelta(hours=1))
    assert [n.event for n in notifier(webhook.url, tmp_path / "other").notify(fresh)] == ["opened", "resolved"]


@pytest.mark.parametrize("kwargs", [{"attempts": 0}, {"backoff_seconds": -1}, {"timeout_seconds": 0}])
def test_bad_settings_raise_at_construction(tmp_path: Path, kwargs: dict) -> None:
    """Nonsense retry settings are rejected when the notifier is built, not when the first incident opens."""
    with pytest.raises(ValueError):
        WebhookNotifier("http://127.0.0.1:1/hook", IncidentStateStore(tmp_path), **kwargs)
    with pytest.raises(ValueError, match="url"):
        WebhookNotifier("slack.example/hook", IncidentStateStore(tmp_path))
