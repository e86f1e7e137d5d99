"""Post a short Slack-compatible message when an incident opens and when it resolves, never per repeated failure.

What was sent is kept in the `IncidentStateStore`, so repeated sensor ticks, restarts and several processes
send each message once. A webhook that is down is retried with bounded exponential backoff and then logged;
the message is not marked sent, so the next call tries again. Nothing here raises into the pipeline run.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from guardrails.incidents._build import format_duration
from guardrails.incidents._state import IncidentStateStore
from guardrails.incidents._types import Incident, IncidentReport, IncidentState

logger = logging.getLogger("guardrails.incidents")

OPENED, RESOLVED = "opened", "resolved"
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True, kw_only=True)
class Notification:
    """One message: which incident, which event, whether the webhook accepted it, after how many attempts."""

    incident_id: str
    event: str
    delivered: bool
    attempts: int
    payload: dict[str, Any]
    error: str | None = None


def incident_message(incident: Incident, event: str, *, link: str | None = None) -> dict[str, Any]:
    """The Slack-compatible payload (``text`` + ``blocks``): which check, which asset, the id, the action taken."""
    where = f"`{incident.check_name}` on `{incident.asset_key}`"
    ref = f"<{link}|{incident.id}>" if link else incident.id
    if event == OPENED:
        headline = f":rotating_light: Incident {ref} OPENED: {where} failed ({incident.severity})"
    else:
        headline = (f":white_check_mark: Incident {ref} RESOLVED: {where} passes again after "
                    f"{format_duration(incident.time_to_resolve)}")
    details = [f"*Action taken:* {_action_taken(incident)}"]
    if event == OPENED and incident.hypotheses:
        details.append(f"*Likely cause:* {incident.hypotheses[0].title}")
    if event == RESOLVED and incident.impact.batches_still_quarantined:
        details.append(f"*Still quarantined:* {len(incident.impact.batches_still_quarantined)} batch(es); "
                       "see `guardrails incident` for the follow-up commands (release, or purge when superseded)")
    text = headline + "\n" + "\n".join(details)
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text":
                f"incident `{incident.id}` · asset `{incident.asset_key}` · check `{incident.check_name}` · "
                f"`guardrails incident --asset {incident.asset_key}`"}]},
        ],
    }


def _action_taken(incident: Incident) -> str:
    impact = incident.impact
    taken = []
    if impact.batches_quarantined:
        taken.append(f"{len(impact.batches_quarantined)} batch(es) quarantined ({impact.rows_quarantined:,} rows)")
    if impact.batches_released:
        taken.append(f"{len(impact.batches_released)} released")
    if impact.model_versions_pinned:
        taken.append("serving alias pinned to " + "; ".join(impact.model_versions_pinned))
    if incident.breaker_tripped:
        taken.append("circuit breaker tripped (feeding schedules/sensors stopped)")
    return ", ".join(taken) or "none (recorded only)"


class WebhookNotifier:
    """Sends incident open/resolve messages to a webhook, once each.

    Args:
        url: the webhook (Slack incoming webhook or anything accepting the same JSON).
        state: where sent messages are remembered.
        attempts: tries per message (>= 1); retried on connection errors, timeouts and 408/425/429/5xx.
        backoff_seconds: first wait between tries, doubled each time, capped at `max_backoff_seconds`.
        timeout_seconds: per request.
        resolved_within: an incident that opened and resolved without any message is announced only if it
            resolved this recently (so a first run on a long history does not replay old incidents).
        link: optional callable giving a URL for an incident (e.g. the asset's page in the Dagster UI).
        sleep: how to wait between tries (tests pass a fast one).
    """

    def __init__(
        self,
        url: str,
        state: IncidentStateStore,
        *,
        attempts: int = 4,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 8.0,
        timeout_seconds: float = 5.0,
        resolved_within: timedelta = timedelta(days=1),
        link: Callable[[Incident], str | None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"WebhookNotifier.url: expected an http(s) URL, got {url!r}")
        if attempts < 1:
            raise ValueError(f"WebhookNotifier.attempts: expected >= 1, got {attempts!r}")
        if backoff_seconds < 0 or max_backoff_seconds < 0 or timeout_seconds <= 0:
            raise ValueError("WebhookNotifier: backoff must be >= 0 and the timeout > 0 seconds")
        self.url = url
        self.state = state
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.timeout_seconds = timeout_seconds
        self.resolved_within = resolved_within
        self.link = link
        self.sleep = sleep

    def __repr__(self) -> str:
        return f"WebhookNotifier({self.url!r}, {self.state!r})"

    def notify(self, report: IncidentReport, *, now: datetime | None = None) -> tuple[Notification, ...]:
        """Send what has not been sent yet for the report's incidents; never raises for a delivery problem.

        `now` (default: when the report was generated) decides which resolved incidents are too old to announce.
        """
        now = now or report.generated_at
        sent: list[Notification] = []
        for incident in sorted(report.incidents, key=lambda i: i.detected_at):
            done = self.state.notified(incident.id)
            if OPENED not in done:
                resolved_long_ago = (incident.state is IncidentState.RESOLVED and incident.resolved_at is not None
                                     and now - incident.resolved_at > self.resolved_within)
                if resolved_long_ago:
                    continue
                result = self._send(incident, OPENED)
                sent.append(result)
                if not result.delivered:
                    continue  # announce the resolution only after the opening got through
            if incident.state is IncidentState.RESOLVED and RESOLVED not in done:
                sent.append(self._send(incident, RESOLVED))
        return tuple(sent)

    def _send(self, incident: Incident, event: str) -> Notification:
        payload = incident_message(incident, event, link=self.link(incident) if self.link else None)
        delivered, attempt, error = post_json(
            self.url, payload, attempts=self.attempts, backoff_seconds=self.backoff_seconds,
            max_backoff_seconds=self.max_backoff_seconds, timeout_seconds=self.timeout_seconds, sleep=self.sleep,
        )
        if delivered:
            self.state.mark_notified(incident.id, event, datetime.now(UTC))
            return Notification(incident_id=incident.id, event=event, delivered=True, attempts=attempt,
                                payload=payload)
        logger.warning("incident %s: could not post the %s message to the webhook after %d attempt(s): %s",
                       incident.id, event, attempt, error)
        return Notification(incident_id=incident.id, event=event, delivered=False, attempts=attempt,
                            payload=payload, error=error)


def post_json(
    url: str,
    payload: dict[str, Any],
    *,
    attempts: int = 4,
    backoff_seconds: float = 0.5,
    max_backoff_seconds: float = 8.0,
    timeout_seconds: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[bool, int, str | None]:
    """POST `payload` as JSON; retried on connection errors, timeouts and 408/425/429/5xx with doubling backoff.

    Never raises for a delivery problem. Returns (delivered, attempts made, the last error or None). The one
    delivery routine of the incident `WebhookNotifier` and the Airflow notifier.
    """
    body = json.dumps(payload).encode()
    error: str | None = None
    attempt = 0
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout_seconds) as response:
                response.read()
            return True, attempt, None
        except urllib.error.HTTPError as exc:
            error = f"HTTP {exc.code} from the webhook"
            if exc.code not in RETRYABLE_STATUS:
                break
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            error = f"webhook unreachable: {getattr(exc, 'reason', exc)}"
        if attempt < attempts:
            sleep(min(backoff_seconds * 2 ** (attempt - 1), max_backoff_seconds))
    return False, attempt, error
