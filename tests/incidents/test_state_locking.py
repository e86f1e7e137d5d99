"""Incident state's lock is `filelock`'s: processes updating at once lose nothing, and no POSIX-only module is needed."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from guardrails.incidents import IncidentStateStore

T0 = datetime(2026, 11, 3, tzinfo=UTC)
UPDATES = 60

_WRITER = """
import sys
from datetime import datetime, timezone
from guardrails.incidents import BreakerTrip, IncidentStateStore
store, name = IncidentStateStore(sys.argv[1]), sys.argv[2]
at = datetime(2026, 11, 3, tzinfo=timezone.utc)
sys.stdin.readline()  # both processes start writing on the same signal
for i in range(int(sys.argv[3])):
    store.mark_notified(f"{name}-{i}", "opened", at)
    store.record_trip(BreakerTrip(asset_key=f"asset-{i}", tripped_at=at, reason=name))
"""


def test_two_processes_updating_state_at_once_lose_nothing(tmp_path: Path) -> None:
    """Two processes each record 60 notifications and race for 60 breaker trips: every notification is kept and
    each asset's breaker trips exactly once."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), name, str(UPDATES)],
                                stdin=subprocess.PIPE, env=env, text=True) for name in ("a", "b")]
    for writer in writers:
        writer.stdin.write("go\n")
        writer.stdin.flush()
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]
    store = IncidentStateStore(tmp_path)
    assert all(store.notified(f"{name}-{i}") == {"opened": T0.isoformat()} for name in "ab" for i in range(UPDATES))
    assert sorted(t.asset_key for t in store.breaker_trips()) == sorted(f"asset-{i}" for i in range(UPDATES))


def test_state_store_works_where_fcntl_does_not_exist(tmp_path: Path) -> None:
    """With ``fcntl`` unavailable (as on Windows) the store still imports, locks and updates."""
    code = (
        "import sys; sys.modules['fcntl'] = None\n"  # importing fcntl now raises ImportError, as on Windows
        "from datetime import datetime, timezone\n"
        "from guardrails.incidents import IncidentStateStore\n"
        "store = IncidentStateStore(sys.argv[1])\n"
        "store.mark_attached('inc-1', datetime(2026, 11, 3, tzinfo=timezone.utc))\n"
        "print(store.attached('inc-1'))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "True"
