"""Run every benchmark in one go: `make bench` (or `python -m bench.run contract e2e drift parity canary`).

Each benchmark module exposes `main(argv) -> dict` and prints its own table; each engine inside it runs in a
fresh subprocess so peak-memory figures are its own.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

BENCHMARKS = ("contract", "e2e", "drift", "parity", "fairness", "canary", "performance", "engines")


def main(argv: list[str] | None = None) -> None:
    names = (argv if argv is not None else sys.argv[1:]) or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    figures = {name: importlib.import_module(f"bench.{name}").main([]) for name in names}
    out = Path(__file__).parent / ".data" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2, default=str))
    print(f"\nfigures written to {out}")


if __name__ == "__main__":
    main()
