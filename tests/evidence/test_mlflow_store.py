"""`guardrails evidence` on a hand-built MLflow SQLite store and a real Dagster instance, and `evidence replay`
with two registered pyfunc versions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from guardrails.checks.fairness import assess_fairness, load_fairness_spec
from guardrails.cli import app
from guardrails.dagster.ml import fairness_metadata
from guardrails.models import BatchRef, Lineage, MlflowModelRegistry, ModelGuard, Verdict

REPOSITORY = Path(__file__).resolve().parents[2]
SPEC = REPOSITORY / "expectations" / "transactions.fairness.yaml"
NAME = "fraud_evidence"


def _save(path: Path, column: int) -> Path:
    """A pyfunc model whose score is one input column (0 or 1), with a signature naming the inputs."""
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature

    class Column(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):  # noqa: ANN001, ARG002
            return model_input.iloc[:, column]

    example = pd.DataFrame({"x0": [0.5], "x1": [0.5]})
    mlflow.pyfunc.save_model(str(path), python_model=Column(), signature=infer_signature(example, example["x0"]),
                             pip_requirements=[])
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A SQLite MLflow store with v1 (promoted, later replaced), v2 (promoted, then failed: the alias goes back)."""
    from mlflow import MlflowClient

    root = tmp_path_factory.mktemp("evidence_store")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model(NAME)
    for column in (0, 1):
        client.create_model_version(NAME, source=str(_save(root / f"m{column}", column)))
    guard = ModelGuard(MlflowModelRegistry(uri), NAME, actor="test")
    for version, day in ((1, "2026-11-01"), (2, "2026-11-02")):
        batch = BatchRef(asset="features", partition=day, batch_id=f"f-{day}")
        guard.record_lineage(version, Lineage(trained_on=(batch,)))
        guard.record_verdict(version, Verdict(status="passed", reason="all checks passed", at=datetime.now(UTC)))
        assert guard.promote(version, reason=f"{day}: all checks passed").ok
    assert guard.fail_version(2, reason="fairness: country.precision gap widened by 0.12", check="fairness").ok
    yield uri, root


def test_pack_from_a_hand_built_store_and_instance(store: tuple[str, Path], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The pack shows v1 -> v2 -> v1 with the failure's reason, v2's lineage, and the fairness check's segments."""
    uri, _ = store
    rng = np.random.default_rng(0)
    n = 4_000
    scored = pl.DataFrame({"fraud_score": rng.random(n), "is_fraud": rng.random(n) < 0.3,
                           "country": rng.choice(["FR", "DE"], n), "channel": rng.choice(["pos", "atm"], n)})
    report = assess_fairness(scored, load_fairness_spec(SPEC), check="fairness")
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        instance.report_runless_asset_event(dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey("scored"), check_name="fairness", passed=False, description="gap widened",
            metadata={"guardrails/model_version": 2, **fairness_metadata(report)},
        ))
        instance.report_runless_asset_event(dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey("features"), check_name="contract", passed=True, metadata={},
        ))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("GUARDRAILS_QUARANTINE", str(tmp_path / "quarantine"))
    done = CliRunner().invoke(app, ["evidence", "--model", NAME, "--tracking-uri", uri, "--format", "json"])
    assert done.exit_code == 0, done.output
    pack = json.loads(done.output)
    assert [(p["version"], p["action"]) for p in pack["serving"]] == [(1, "promote"), (2, "promote"), (1, "fail")]
    assert pack["alias_version"] == 1 and pack["notes"] == []
    v2 = next(v for v in pack["versions"] if v["version"] == 2)
    assert v2["verdict"]["status"] == "failed" and "widened" in v2["verdict"]["reason"]
    assert v2["lineage"]["trained_on"][0]["partition"] == "2026-11-02"
    assert {(c["asset_key"], c["model_version"], c["passed"]) for c in pack["checks"]} == {
        ("scored", 2, False), ("features", None, True)}
    [fair] = pack["fairness"]
    assert fair["model_version"] == 2 and {s["segment"] for s in fair["segments"]} >= {"FR", "DE", "pos", "atm"}
    markdown = CliRunner().invoke(app, ["evidence", "--model", NAME, "--tracking-uri", uri])
    assert markdown.exit_code == 0 and "| v1 | " in markdown.output
    assert "country.precision gap widened" in markdown.output


def test_pack_without_a_reachable_registry_says_it_is_incomplete(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """No registry: the pack is still built from the instance, and says which records are missing."""
    with dg.instance_for_test(temp_dir=str(tmp_path)):
        pass
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    done = CliRunner().invoke(app, ["evidence", "--model", NAME])
    assert done.exit_code == 0 and "**Incomplete**" in done.output and "alias history are not included" in done.output


def test_replay_two_registered_versions(store: tuple[str, Path], tmp_path: Path) -> None:
    """Versions scoring different columns disagree exactly where one column is over the threshold and the other not."""
    uri, _ = store
    batch = pl.DataFrame({"x0": [0.9, 0.1, 0.8, 0.2], "x1": [0.9, 0.9, 0.1, 0.1], "country": ["FR", "FR", "DE", "DE"]})
    batch.write_parquet(tmp_path / "batch.parquet")
    done = CliRunner().invoke(app, ["evidence", "replay", "--model", NAME, "--versions", "1", "2",
                                    str(tmp_path / "batch.parquet"), "--segments", "country", "--threshold", "0.5",
                                    "--tracking-uri", uri, "--json"])
    assert done.exit_code == 0, done.output
    replay = json.loads(done.output)
    assert (replay["changed"], replay["newly_flagged"], replay["no_longer_flagged"]) == (2, 1, 1)
    assert {s["segment"]: s["changed"] for s in replay["segments"]} == {"FR": 1, "DE": 1}
    missing = CliRunner().invoke(app, ["evidence", "replay", "--model", NAME, "--versions", "1", "2",
                                       str(tmp_path / "batch.parquet"), "--tracking-uri", uri])
    assert missing.exit_code == 2  # no threshold, no spec: could not run
