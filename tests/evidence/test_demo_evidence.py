"""`guardrails evidence` and `evidence replay` on a real demo run (the demo runs once for this module)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from definitions import demo
from definitions.settings import DEFECT_ENV, HOME_ENV, TRACKING_URI_ENV
from guardrails.cli import app

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]
REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A home where `make demo` ran once, with the shell pointed at its instance and MLflow store."""
    home = tmp_path_factory.mktemp("evidence_demo")
    with pytest.MonkeyPatch.context() as env:
        env.setenv(HOME_ENV, str(home))
        env.delenv(TRACKING_URI_ENV, raising=False)
        env.delenv(DEFECT_ENV, raising=False)
        env.setenv("DAGSTER_HOME", str(home / "dagster_home"))
        env.setenv("MLFLOW_LOGGING_LEVEL", "WARNING")
        assert demo.main() == 0
        env.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{home / 'mlflow.db'}")
        env.delenv("GUARDRAILS_QUARANTINE", raising=False)
        yield home


def test_pack_of_the_demo_tells_the_story(demo_home: Path) -> None:
    """v1, v2, v3, v2 (after v3's concept drift) and v6 (the canary's winner) served in turn; the hold and its
    release, the quarantined batch, the checks and the candidate the fairness gate blocked (v4, never served) are in."""
    done = CliRunner().invoke(app, ["evidence", "--model", "fraud_detector", "--format", "json"])
    assert done.exit_code == 0, done.output
    pack = json.loads(done.output)
    assert [p["version"] for p in pack["serving"]] == [1, 2, 3, 2, 6] and pack["notes"] == []
    assert [m["action"] for m in pack["history"]] == ["promote", "promote", "hold", "unhold", "promote", "fail",
                                                      "challenge", "retire", "challenge", "promote", "retire"]
    [kept] = pack["quarantined"]
    assert kept["manifest"]["batch_id"] == f"clean_transactions.{demo.BAD_DAY}" and kept["partition"] == demo.BAD_DAY
    v3 = next(v for v in pack["versions"] if v["version"] == 3)
    assert v3["lineage"]["trained_on"][0]["partition"] == demo.BAD_DAY
    # v3 kept serving on the fairness chapter's day (its candidate was blocked) and on the concept-drift day
    assert [(s["asset"], s["partition"]) for s in v3["scored"]] == [("scored_transactions", demo.BAD_DAY),
                                                                   ("scored_transactions", "2026-11-04"),
                                                                   ("scored_transactions", "2026-11-05")]
    failed = {(c["asset_key"], c["check_name"], c["partition"]) for c in pack["checks"] if not c["passed"]}
    assert ("clean_transactions", "transactions_contract", demo.BAD_DAY) in failed
    assert {c["model_version"] for c in pack["checks"] if c["asset_key"] == "fraud_model"} == {1, 2, 3, 4}
    v4 = next(v for v in pack["versions"] if v["version"] == 4)  # the fairness chapter's blocked candidate
    assert v4["verdict"]["status"] == "failed" and "widened" in v4["verdict"]["reason"]
    assert not v4["served_in_window"] and pack["alias_version"] == 6
    [gate] = [f for f in pack["fairness"] if f["model_version"] == 4]
    assert gate["verdict"] == "fail" and {s["segment"] for s in gate["segments"]} >= {"online", "pos"}
    widened = [g for g in gate["gaps"] if g["column"] == "channel" and g["metric"] == "selection_rate"]
    assert widened and widened[0]["champion_verdict"] == "fail"
    markdown = CliRunner().invoke(app, ["evidence", "--model", "fraud_detector", "--since", "1d"])
    assert markdown.exit_code == 0 and "## Which version served when" in markdown.output
    assert "| v3 | " in markdown.output and "| v6 | " in markdown.output and "still serving" in markdown.output


def test_replay_of_the_bad_day_with_v2_and_v3(demo_home: Path) -> None:
    """Replaying the served day with v2 and v3 counts every row once, and per segment adds up to the total."""
    served = demo_home / "serving" / f"{demo.BAD_DAY}.parquet"
    done = CliRunner().invoke(app, ["evidence", "replay", "--model", "fraud_detector", "--versions", "2", "3",
                                    str(served), "--spec", str(REPOSITORY / "expectations/transactions.fairness.yaml"),
                                    "--json"])
    assert done.exit_code == 0, done.output
    replay = json.loads(done.output)
    assert replay["rows"] == pl.read_parquet(served).height and replay["threshold"] == 0.75
    scored = pl.read_parquet(demo_home / "warehouse" / "scored_transactions" / f"{demo.BAD_DAY}.parquet")
    assert replay["flagged_b"] == int(scored["flagged"].sum())  # v3 served the day: its decisions are the stored ones
    for column in ("country", "channel"):
        assert sum(s["changed"] for s in replay["segments"] if s["column"] == column) == replay["changed"]
    assert replay["changed"] == replay["newly_flagged"] + replay["no_longer_flagged"] > 0
