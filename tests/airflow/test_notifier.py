"""`QuarantineNotifier` as a guarded task's failure callback on real Airflow: one webhook message per quarantine."""

from __future__ import annotations

import runpy
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("airflow.sdk")

from guardrails.airflow import QuarantineNotifier, quarantine_message
from tests.airflow.home import DAGS
from tests.incidents._webhook import serve_webhook

pytestmark = pytest.mark.xdist_group("airflow")

CONTRACT = Path(__file__).resolve().parents[2] / "expectations" / "transactions.odcs.yaml"

NOTIFIED_DAG = '''
from datetime import datetime, timezone
from airflow.sdk import DAG, task
from guardrails.airflow import QuarantineNotifier

with DAG("notified", schedule=None, start_date=datetime(2026, 11, 1, tzinfo=timezone.utc)) as dag:
    @task.guarded(contract={contract!r}, target={target!r}, quarantine={store!r},
                  on_failure_callback=QuarantineNotifier({url!r}, attempts=2, backoff_seconds=0))
    def land(data_interval_start=None):
        from datetime import date
        from definitions.data import Defect, generate_transactions
        return generate_transactions(date(2026, 11, 3), rows=200, defect=Defect.UNKNOWN_CATEGORIES)
    land()
'''


def test_a_quarantine_posts_one_message_naming_the_batch_and_the_release(airflow_db: Path, tmp_path: Path) -> None:
    """The failed guarded task's callback posts one message: the batch, the task, the reason, the release command."""
    with serve_webhook() as hook:
        dag_file = DAGS / "notified.py"
        dag_file.write_text(NOTIFIED_DAG.format(contract=str(CONTRACT), target=str(tmp_path / "lake" / "{partition}"),
                                                store=str(tmp_path / "q"), url=hook.url))
        try:
            dag_run = runpy.run_path(str(dag_file))["dag"].test(logical_date=datetime(2026, 11, 4, tzinfo=UTC))
        finally:
            dag_file.unlink()

    assert str(dag_run.state) == "failed"
    [message] = hook.received
    assert message["text"].startswith(":rotating_light: Batch transactions.2026-11-04 quarantined by notified.land")
    assert "merchant_category" in message["text"]
    assert f"guardrails quarantine release transactions.2026-11-04 --contract <contract> --store file://{tmp_path}/q" \
        in message["text"].replace("&lt;", "<").replace("&gt;", ">")


def test_text_from_a_record_cannot_ping_a_channel() -> None:
    """Slack control sequences in a batch id or reason arrive escaped."""
    text = quarantine_message({"batch_id": "<!channel>", "reason": "a & b"}, dag_id="d", task_id="t")["text"]
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text and "a &amp; b" in text


def test_a_bad_webhook_url_is_refused_when_the_dag_is_parsed() -> None:
    """A URL that is not http(s) fails at construction, naming the field."""
    with pytest.raises(ValueError, match="QuarantineNotifier.url: expected an http"):
        QuarantineNotifier("slack-channel")
