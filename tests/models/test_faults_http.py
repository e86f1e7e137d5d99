"""MLflow's process-wide HTTP limits: every guarded call runs under exactly its own registry's limits."""

from __future__ import annotations

import os
import threading
import time

from guardrails.models._mlflow import _bounded_http

KEY = "MLFLOW_HTTP_REQUEST_MAX_RETRIES"


def test_calls_with_other_limits_wait_and_then_see_their_own() -> None:
    """A write (0 retries) arriving while a read (1 retry) runs waits for it, then runs with 0; afterwards the
    caller's own environment is back."""
    os.environ.pop(KEY, None)
    inside_read, seen = threading.Event(), {}

    def read() -> None:
        with _bounded_http({KEY: "1"}):
            inside_read.set()
            time.sleep(0.3)
            seen["read"] = os.environ[KEY]

    def write() -> None:
        inside_read.wait(5)
        started = time.monotonic()
        with _bounded_http({KEY: "0"}):
            seen["write"] = os.environ[KEY]
            seen["waited"] = time.monotonic() - started

    threads = [threading.Thread(target=read), threading.Thread(target=write)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen["read"] == "1" and seen["write"] == "0"
    assert seen["waited"] >= 0.2
    assert KEY not in os.environ


def test_calls_with_the_same_limits_run_together() -> None:
    """Two reads with the same limits overlap instead of queueing."""
    both_in = threading.Barrier(2, timeout=5)

    def read() -> None:
        with _bounded_http({KEY: "1"}):
            both_in.wait()  # raises BrokenBarrierError if the second read were kept out

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not both_in.broken
