"""`guardrails validate` on table URIs and with --engine: the polars engine's verdict, exit codes and --json,
with credentials redacted from every line."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from definitions.data import Defect, generate_transactions
from guardrails.cli import app
from guardrails.outcome import CheckOutcome
from tests.engines.backends import postgres_database, write_duckdb  # noqa: F401

CONTRACT = str(Path(__file__).resolve().parents[2] / "expectations" / "transactions.odcs.yaml")
AS_OF = ["--as-of", "2026-11-21T00:00:00+00:00"]
DAY = date(2026, 11, 20)


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["validate", *args])
    return result.exit_code, result.stdout, result.stderr


def _counts(stdout: str) -> dict[str, int]:
    outcome = CheckOutcome.from_dict(json.loads(stdout))
    return {r.rule_id: r.failing_rows for r in outcome.rules} | {"_status": outcome.status.value}  # type: ignore[dict-item]


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("engine_cli")
    paths = {}
    for name, defect in (("clean", None), ("nulls", Defect.NULLS)):
        paths[name] = root / f"{name}.parquet"
        generate_transactions(DAY, rows=300, defect=defect).write_parquet(paths[name])
    return paths


def test_a_duckdb_table_gets_the_parquet_verdict(batches: dict[str, Path], tmp_path: Path) -> None:
    """A DuckDB table URI exits as the Parquet file does (0 clean, 1 with nulls) with the same per-rule counts."""
    import polars as pl

    for name, code in (("clean", 0), ("nulls", 1)):
        uri = write_duckdb(tmp_path / f"{name}.duckdb", "tx", pl.read_parquet(batches[name]))
        in_engine = _run(CONTRACT, uri, "--json", *AS_OF)
        in_memory = _run(CONTRACT, str(batches[name]), "--json", *AS_OF)
        assert (in_engine[0], in_memory[0]) == (code, code)
        assert _counts(in_engine[1]) == _counts(in_memory[1])


def test_engine_duckdb_reads_parquet_as_polars_does(batches: dict[str, Path]) -> None:
    """``--engine duckdb`` on a Parquet file reports the same exit code and counts as ``--engine polars``."""
    duck = _run(CONTRACT, str(batches["nulls"]), "--engine", "duckdb", "--json", *AS_OF)
    polars = _run(CONTRACT, str(batches["nulls"]), "--engine", "polars", "--json", *AS_OF)
    assert duck[0] == polars[0] == 1
    assert _counts(duck[1]) == _counts(polars[1])


def test_postgres_table_is_audited_and_its_password_never_shown(
    batches: dict[str, Path], postgres_database: str  # noqa: F811
) -> None:
    """A PostgreSQL table URI is judged in the database; a wrong table and a wrong database exit 2, password masked."""
    import ibis
    import polars as pl

    backend = ibis.postgres.connect(host="127.0.0.1", user="postgres", database=postgres_database.rsplit("/", 1)[1])
    backend.create_table("tx_nulls", pl.read_parquet(batches["nulls"]).to_arrow(), overwrite=True)
    backend.disconnect()
    with_password = postgres_database.replace("postgres@", "postgres:Pw-9f1c@")  # trust auth ignores it
    code, out, err = _run(CONTRACT, f"{with_password}?table=tx_nulls", "--json", *AS_OF)
    assert code == 1
    assert _counts(out)["amount.not_null"] == 15
    missing = _run(CONTRACT, f"{with_password}?table=nope", *AS_OF)
    unreachable = _run(CONTRACT, f"{with_password}_gone?table=tx", "--json", *AS_OF)
    for code, out, err in (missing, unreachable):
        assert code == 2
        assert "Pw-9f1c" not in out + err
        assert "postgres:***@" in err


def test_table_uri_misuse_exits_2_with_one_line(batches: dict[str, Path]) -> None:
    """A malformed URI, a URI with --engine polars, and a missing DuckDB file each exit 2 with one clear line."""
    bad = _run(CONTRACT, "duckdb:///x.duckdb", *AS_OF)
    engine = _run(CONTRACT, "duckdb:///x.duckdb?table=t", "--engine", "polars", *AS_OF)
    missing = _run(CONTRACT, "duckdb:///does/not/exist.duckdb?table=t", *AS_OF)
    assert [c for c, _, _ in (bad, engine, missing)] == [2, 2, 2]
    assert "expected one ?table=NAME parameter" in bad[2]
    assert "drop --engine" in engine[2]
    assert "cannot read duckdb:///does/not/exist.duckdb?table=t" in missing[2]


def test_default_engine_follows_the_measured_size(tmp_path: Path) -> None:
    """Parquet up to PARQUET_DUCKDB_BYTES is read by polars, larger files by DuckDB; --engine overrides."""
    from guardrails.cli.validate import Engine, _engine_for
    from guardrails.engines import parse_table_uri
    from guardrails.engines._run import PARQUET_DUCKDB_BYTES

    small, large = tmp_path / "small.parquet", tmp_path / "large.parquet"
    small.write_bytes(b"PAR1")
    with large.open("wb") as f:  # sparse: no disk is used
        f.truncate(PARQUET_DUCKDB_BYTES + 1)
    chosen = [_engine_for(parse_table_uri(str(p)), None, suite=False) for p in (small, large)]
    assert chosen == [Engine.POLARS, Engine.DUCKDB]
    assert _engine_for(parse_table_uri(str(large)), Engine.POLARS, suite=False) == Engine.POLARS
