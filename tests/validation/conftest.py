"""Fixtures: the example contract (loaded from expectations/), batches written as real Parquet files."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from definitions.data import Defect, generate_transactions, write_batch
from guardrails.contract.model import Contract

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_PATH = ROOT / "expectations" / "transactions.odcs.yaml"
GX_SUITE_PATH = ROOT / "expectations" / "transactions.gx.json"
DAY = date(2026, 11, 20)
AS_OF = datetime(2026, 11, 21, tzinfo=UTC)
"""End of the batch's day: clean event times lie before it, the future-timestamp defect (+25 h) after it."""
ROWS = 4_000


@pytest.fixture(scope="session")
def contract() -> Contract:
    from guardrails.contract import load_contract

    return load_contract(CONTRACT_PATH)


@pytest.fixture(scope="session")
def batch_file(tmp_path_factory: pytest.TempPathFactory):
    """Write (and cache per session) the example batch with a defect as a real Parquet file; returns its path."""
    made: dict[Defect | None, Path] = {}

    def make(defect: Defect | None = None) -> Path:
        if defect not in made:
            folder = tmp_path_factory.mktemp("batches")
            frame = generate_transactions(DAY, ROWS, defect=defect)
            made[defect] = write_batch(frame, folder / f"{defect or 'clean'}.parquet", defect=defect)
        return made[defect]

    return make
