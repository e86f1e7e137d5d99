"""Release commands find contract files with the same bounded reader as every contract load: a hostile file in the
contracts directory is skipped quickly, never expanded."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from guardrails.dagster.incidents import contract_paths
from tests.contract.test_contract_hostile_yaml import HOSTILE

EXAMPLE = Path(__file__).resolve().parents[2] / "expectations" / "transactions.odcs.yaml"


def test_a_yaml_bomb_beside_the_contracts_is_skipped_fast(tmp_path):
    """A billion-laughs file next to a real contract: the real one is found, the bomb skipped, in well under a second."""
    shutil.copy(EXAMPLE, tmp_path / "transactions.odcs.yaml")
    (tmp_path / "bomb.odcs.yaml").write_text(HOSTILE["billion_laughs"][0])
    started = time.perf_counter()
    found = contract_paths(tmp_path)
    assert time.perf_counter() - started < 1.0
    assert list(found.values()) == [str(tmp_path / "transactions.odcs.yaml")]
    assert list(found) == ["urn:datacontract:payments:transactions"]
