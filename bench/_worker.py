"""Run one benchmark side in a fresh process, so its import time and peak memory are its own."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any


def run_worker(
    command: list[str], *, timeout: float, cwd: Path | None = None, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run `command`, which prints its figures as a JSON line last; return them with `wall_seconds` (process start
    included), or ``{"error": ...}`` with the worker's last stderr line when it failed or timed out (`env`: the
    child's environment, default this process's)."""
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - start
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1], "wall_seconds": wall}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = wall
    return result
