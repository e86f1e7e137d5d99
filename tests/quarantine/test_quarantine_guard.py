"""`guard_batch`: the contract's policy decides what is published and what is quarantined; bad input never raises."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import fsspec
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from definitions.data import Defect, defect_rows, generate_transactions, write_batch
from guardrails.contract import Contract, QuarantinePolicy
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, Severity
from guardrails.quarantine import DataFormat, QuarantineState, QuarantineStore, guard_batch
from guardrails.quarantine._guard import settle
from guardrails.validation import ContractValidation

DAY = date(2026, 11, 20)
AS_OF = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)  # the morning after: rows are neither in the future nor too old
ROWS = 400


def test_clean_batch_is_published_whole_and_nothing_is_kept(contract: Contract, store: QuarantineStore) -> None:
    """A batch that passes its contract is published as it is and the store stays empty."""
    frame = generate_transactions(DAY, ROWS)
    guarded = guard_batch(frame, contract, store, as_of=AS_OF)
    assert guarded.outcome.status is CheckStatus.PASSED
    assert guarded.published is not None and guarded.published.equals(frame.to_arrow())
    assert guarded.manifest is None and not guarded.quarantined
    assert guarded.batch_id.startswith("transactions-")
    assert store.list() == []


@pytest.mark.parametrize(
    ("defect", "rules"),
    [
        (Defect.NULLS, {"amount.not_null", "account_id.not_null"}),
        (Defect.OUT_OF_RANGE_AMOUNTS, {"amount.range"}),
        (Defect.UNKNOWN_CATEGORIES, {"merchant_category.allowed_values"}),
    ],
)
def test_batch_policy_quarantines_the_whole_file_byte_for_byte(
    contract: Contract, store: QuarantineStore, tmp_path: Path, defect: Defect, rules: set[str]
) -> None:
    """Under the batch policy a failing Parquet file is kept exactly as it arrived, with the failing rules counted."""
    path = write_batch(generate_transactions(DAY, ROWS, defect=defect), tmp_path / "landing.parquet")
    guarded = guard_batch(path, contract, store, as_of=AS_OF, run_id="run-1")
    manifest = guarded.manifest
    assert guarded.published is None and manifest is not None
    assert {r.rule_id: r.failing_rows for r in manifest.failed_rules} == dict.fromkeys(rules, defect_rows(ROWS, defect))
    assert (manifest.rows_in, manifest.rows_quarantined, manifest.rows_published) == (ROWS, ROWS, 0)
    assert (manifest.source, manifest.run_id, manifest.policy) == (str(path), "run-1", QuarantinePolicy.BATCH)
    assert (manifest.contract_id, manifest.contract_version) == (contract.id, contract.version)
    stored = Path(store.batch_path(guarded.batch_id)) / manifest.data_file
    assert stored.read_bytes() == path.read_bytes()
    assert manifest.outcome.sample and all("transaction_id" in row for row in manifest.outcome.sample)


def test_rows_policy_publishes_the_valid_rows_and_keeps_the_rest(
    rows_contract: Contract, store: QuarantineStore
) -> None:
    """Under the rows policy exactly the rows with unknown categories are kept, and every other row is published."""
    frame = generate_transactions(DAY, ROWS, defect=Defect.UNKNOWN_CATEGORIES)
    guarded = guard_batch(frame, rows_contract, store, as_of=AS_OF)
    bad = defect_rows(ROWS, Defect.UNKNOWN_CATEGORIES)
    assert guarded.published is not None and guarded.manifest is not None
    manifest = guarded.manifest
    assert guarded.published.num_rows == manifest.rows_published == ROWS - bad
    assert manifest.rows_quarantined == bad
    kept = pl.from_arrow(store.read(guarded.batch_id))
    assert kept["merchant_category"].unique().to_list() == ["crypto"]
    assert "crypto" not in pl.from_arrow(guarded.published)["merchant_category"].to_list()
    ids = set(kept["transaction_id"]) | set(pl.from_arrow(guarded.published)["transaction_id"])
    assert ids == set(frame["transaction_id"])


def test_rows_policy_keeps_the_whole_batch_when_it_cannot_be_split(
    rows_contract: Contract, store: QuarantineStore
) -> None:
    """A table-level failure (a renamed, retyped column) quarantines the whole batch even under the rows policy."""
    frame = generate_transactions(DAY, ROWS, defect=Defect.SCHEMA_CHANGE)
    guarded = guard_batch(frame, rows_contract, store, as_of=AS_OF)
    assert guarded.outcome.status is CheckStatus.FAILED
    assert guarded.published is None and guarded.manifest is not None
    assert guarded.manifest.rows_quarantined == ROWS
    assert "amount.type (column is missing)" in guarded.manifest.reason


def test_warnings_never_quarantine(rows_contract: Contract, store: QuarantineStore) -> None:
    """A batch that only breaks warning-severity rules is published whole and nothing is kept."""
    frame = generate_transactions(DAY, ROWS)
    first_40 = pl.int_range(pl.len()) < 40
    frame = frame.with_columns(pl.when(first_40).then(None).otherwise(pl.col("country")).alias("country"))
    guarded = guard_batch(frame, rows_contract, store, as_of=AS_OF)
    assert guarded.outcome.status is CheckStatus.FAILED and guarded.outcome.severity is Severity.WARNING
    assert [r.rule_id for r in guarded.outcome.failed_rules] == ["country.not_null"]
    assert guarded.published is not None and guarded.published.num_rows == ROWS
    assert guarded.manifest is None and store.list() == []


def _corrupt(path: Path) -> None:
    write_batch(generate_transactions(DAY, ROWS), path, defect=Defect.CORRUPT_FILE)


def _csv(path: Path) -> None:
    generate_transactions(DAY, ROWS).write_csv(path)


def _text(path: Path) -> None:
    path.write_text("this is not a parquet file\n")


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _uncastable(path: Path) -> None:
    """Valid Parquet whose decimal256 column polars cannot import: the check cannot run on it."""
    table = generate_transactions(DAY, ROWS).to_arrow()
    pq.write_table(table.append_column("fee", pa.array([1] * ROWS, pa.decimal256(60, 0))), path)


@pytest.mark.parametrize(
    ("make", "data_format"),
    [
        (_corrupt, DataFormat.RAW),
        (_csv, DataFormat.RAW),
        (_text, DataFormat.RAW),
        (_empty, DataFormat.RAW),
        (_uncastable, DataFormat.PARQUET),
    ],
    ids=["truncated-parquet", "csv-named-parquet", "text-named-parquet", "empty-file", "uncastable-schema"],
)
def test_unreadable_input_is_kept_as_is_and_never_published(
    contract: Contract, store: QuarantineStore, tmp_path: Path, make: Callable[[Path], None], data_format: DataFormat
) -> None:
    """Input the contract cannot be checked on is quarantined byte for byte with an ERROR outcome, without raising."""
    path = tmp_path / "landing.parquet"
    make(path)
    guarded = guard_batch(path, contract, store, as_of=AS_OF)
    assert guarded.outcome.status is CheckStatus.ERROR and guarded.outcome.error
    assert guarded.outcome.blocks_publication and guarded.published is None
    manifest = guarded.manifest
    assert manifest is not None and manifest.data_format is data_format and manifest.rows_published == 0
    assert (Path(store.batch_path(guarded.batch_id)) / manifest.data_file).read_bytes() == path.read_bytes()
    kept = store.read(guarded.batch_id)
    assert (kept == path.read_bytes()) if data_format is DataFormat.RAW else (kept.num_rows == ROWS)
    assert manifest.reason.startswith("the check could not run")


def test_path_that_cannot_be_opened_is_an_error_outcome(
    contract: Contract, store: QuarantineStore, tmp_path: Path
) -> None:
    """A missing file gives an ERROR outcome naming it; nothing is published and there is nothing to keep."""
    guarded = guard_batch(tmp_path / "missing.parquet", contract, store, as_of=AS_OF)
    assert guarded.outcome.status is CheckStatus.ERROR and "missing.parquet" in (guarded.outcome.error or "")
    assert guarded.published is None and guarded.manifest is None and store.list() == []


def test_pandas_frame_arrow_cannot_represent_is_kept(contract: Contract, store: QuarantineStore) -> None:
    """A pandas frame with a column mixing types is kept (pickled, never unpickled by us) with an ERROR outcome."""
    frame = generate_transactions(DAY, ROWS).to_pandas()
    frame["amount"] = frame["amount"].astype(object)
    frame.loc[3, "amount"] = "12,50"
    guarded = guard_batch(frame, contract, store, as_of=AS_OF)
    assert guarded.outcome.status is CheckStatus.ERROR and guarded.published is None
    assert guarded.manifest is not None and guarded.manifest.data_format is DataFormat.PANDAS_PICKLE
    assert pd.read_pickle(pa.BufferReader(store.read(guarded.batch_id))).equals(frame)  # type: ignore[arg-type]


def test_non_batch_is_a_type_error(contract: Contract, store: QuarantineStore) -> None:
    """Passing something that is not a batch at all is a caller bug and raises TypeError naming the accepted types."""
    with pytest.raises(TypeError, match="pyarrow.Table"):
        guard_batch([{"amount": 1}], contract, store)


@pytest.mark.parametrize("as_path", [True, False], ids=["parquet-path", "polars-frame"])
def test_a_retried_run_does_not_duplicate_the_batch(
    contract: Contract, store: QuarantineStore, tmp_path: Path, as_path: bool
) -> None:
    """Guarding the same failing batch twice lands on the same id and keeps one copy."""
    frame = generate_transactions(DAY, ROWS, defect=Defect.NULLS)
    batch = write_batch(frame, tmp_path / "landing.parquet") if as_path else frame
    first = guard_batch(batch, contract, store, as_of=AS_OF, run_id="attempt-1")
    second = guard_batch(batch, contract, store, as_of=AS_OF, run_id="attempt-2")
    assert second.batch_id == first.batch_id and second.manifest == first.manifest
    assert len(store.list()) == 1 and store.list()[0].run_id == "attempt-1"


def test_content_hash_ignores_chunking(amount_contract: Callable[..., Contract], store: QuarantineStore) -> None:
    """The same rows chunked differently get the same default batch id; the same values with another type do not."""
    table = pa.table({"id": ["a", "b", "c", "d"], "amount": [1.0, -1.0, 2.0, -2.0]})
    rechunked = pa.Table.from_batches(table.to_batches(max_chunksize=1))
    ids = {guard_batch(t, amount_contract(), store).batch_id for t in (table, rechunked)}
    assert len(ids) == 1 and len(store.list()) == 1
    large = table.cast(pa.schema([("id", pa.large_string()), ("amount", pa.float64())]))
    assert guard_batch(large, amount_contract(), store).batch_id not in ids


# --- the row invariant ------------------------------------------------------------------------------------


def _outcome(status: CheckStatus, severity: Severity, rows: int) -> CheckOutcome:
    return CheckOutcome(
        check="contract", kind=CheckKind.CONTRACT, status=status, severity=severity, rows=rows,
        started_at=AS_OF, finished_at=AS_OF, contract_id="urn:test:amounts", contract_version="1",
    )


@given(
    rows=st.integers(min_value=0, max_value=60),
    data=st.data(),
    policy=st.sampled_from(QuarantinePolicy),
    verdict=st.sampled_from([(CheckStatus.PASSED, Severity.ERROR), (CheckStatus.FAILED, Severity.WARNING),
                             (CheckStatus.FAILED, Severity.ERROR), (CheckStatus.ERROR, Severity.ERROR)]),
    splittable=st.booleans(),
)
def test_rows_in_equal_rows_published_plus_rows_quarantined(
    amount_contract: Callable[..., Contract], tmp_path_factory: pytest.TempPathFactory,
    rows: int, data: st.DataObject, policy: QuarantinePolicy, verdict: tuple[CheckStatus, Severity], splittable: bool,
) -> None:
    """For any verdict, mask and policy, every input row is either published or quarantined, never both, never lost."""
    status, severity = verdict
    blocking = status is CheckStatus.ERROR or (status is CheckStatus.FAILED and severity is Severity.ERROR)
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=rows, max_size=rows)), dtype=bool)
    if not blocking:
        mask[:] = False  # the engine's contract: nothing is rejected unless an error-severity rule failed
    table = pa.table({"id": [f"r{i}" for i in range(rows)], "amount": np.arange(rows, dtype=float)})
    rejected = mask if splittable and status is not CheckStatus.ERROR else None
    validation = ContractValidation(outcome=_outcome(status, severity, rows), rejected_rows=rejected)
    store = QuarantineStore(tmp_path_factory.mktemp("q"))
    guarded = settle(table, validation, amount_contract(policy), store)

    published = set(guarded.published.column("id").to_pylist()) if guarded.published is not None else set()
    quarantined = set(store.read(guarded.batch_id).column("id").to_pylist()) if guarded.manifest else set()
    assert published.isdisjoint(quarantined)
    assert published | quarantined == set(table.column("id").to_pylist())
    if guarded.manifest is not None:
        m = guarded.manifest
        assert m.rows_in == rows == m.rows_published + m.rows_quarantined == len(published) + len(quarantined)
    assert (guarded.manifest is None) == (not blocking)
    if blocking and policy is QuarantinePolicy.ROWS and validation.rejected_rows is not None and mask.any():
        assert quarantined == {f"r{i}" for i in np.flatnonzero(mask)}
    elif blocking:
        assert guarded.published is None


@given(amounts=st.lists(st.none() | st.floats(min_value=-5, max_value=5, allow_nan=False), max_size=40))
def test_rows_policy_split_matches_the_rules_through_the_engine(
    amount_contract: Callable[..., Contract], tmp_path_factory: pytest.TempPathFactory, amounts: list[float | None]
) -> None:
    """Through the real engine, the published rows are exactly those with a non-null, non-negative amount."""
    ids = [f"r{i}" for i in range(len(amounts))]
    frame = pl.DataFrame({"id": ids, "amount": amounts}, schema={"id": pl.String, "amount": pl.Float64})
    store = QuarantineStore(tmp_path_factory.mktemp("q"))
    guarded = guard_batch(frame, amount_contract(QuarantinePolicy.ROWS), store)
    valid = {f"r{i}" for i, a in enumerate(amounts) if a is not None and a >= 0}
    published = set(guarded.published.column("id").to_pylist()) if guarded.published is not None else set()
    if not amounts:
        assert guarded.manifest is not None and guarded.published is None  # zero rows break the row-count rule
        return
    assert published == valid
    kept = set(store.read(guarded.batch_id).column("id").to_pylist()) if guarded.manifest else set()
    assert kept == {f"r{i}" for i in range(len(amounts))} - valid


def test_explicit_batch_id_is_used(contract: Contract, store: QuarantineStore) -> None:
    """An explicit batch id names the quarantined batch, and the manifest is found under it."""
    frame = generate_transactions(DAY, ROWS, defect=Defect.NULLS)
    guarded = guard_batch(frame, contract, store, batch_id="tx-2026-11-20", as_of=AS_OF)
    assert guarded.batch_id == "tx-2026-11-20" and store.show("tx-2026-11-20").state is QuarantineState.QUARANTINED



@pytest.mark.parametrize("kind", ["arrow", "polars", "lazy", "pandas", "path"])
def test_every_batch_type_gets_the_same_verdict(
    rows_contract: Contract, store: QuarantineStore, tmp_path: Path, kind: str
) -> None:
    """Arrow, polars (eager and lazy), pandas and a Parquet path of the same rows are split identically."""
    frame = generate_transactions(DAY, ROWS, defect=Defect.OUT_OF_RANGE_AMOUNTS)
    batch = {
        "arrow": frame.to_arrow,
        "polars": lambda: frame,
        "lazy": frame.lazy,
        "pandas": frame.to_pandas,
        "path": lambda: write_batch(frame, tmp_path / "landing.parquet"),
    }[kind]()
    guarded = guard_batch(batch, rows_contract, store, as_of=AS_OF)
    bad = defect_rows(ROWS, Defect.OUT_OF_RANGE_AMOUNTS)
    assert guarded.published is not None and guarded.published.num_rows == ROWS - bad
    assert guarded.manifest is not None and guarded.manifest.rows_quarantined == bad
    assert sorted(pl.from_arrow(store.read(guarded.batch_id))["transaction_id"]) == sorted(
        frame.filter(pl.col("amount") < 0)["transaction_id"]
    )


def test_a_batch_at_an_fsspec_url_is_read_and_kept(contract: Contract, store: QuarantineStore, tmp_path: Path) -> None:
    """A Parquet file at an fsspec URL (here memory://) is guarded like a local path, its bytes kept as they were."""
    local = write_batch(generate_transactions(DAY, ROWS, defect=Defect.NULLS), tmp_path / "landing.parquet")
    url = f"memory://landing-{tmp_path.name}/2026-11-20.parquet"
    fsspec.filesystem("memory").pipe_file(url, local.read_bytes())
    guarded = guard_batch(url, contract, store, as_of=AS_OF)
    assert guarded.manifest is not None and guarded.manifest.source == url
    assert (Path(store.batch_path(guarded.batch_id)) / guarded.manifest.data_file).read_bytes() == local.read_bytes()


def _dataset(frame: pl.DataFrame, folder: Path, *, hive: bool) -> Path:
    """`frame` written as a dataset of two Parquet files (``part=N/`` when `hive`) plus a marker readers skip."""
    half = frame.height // 2
    for index, part in enumerate((frame[:half], frame[half:])):
        target = folder / (f"part={index}/data.parquet" if hive else f"data-{index}.parquet")
        target.parent.mkdir(parents=True, exist_ok=True)
        part.write_parquet(target)
    (folder / "_SUCCESS").write_text("")
    return folder


@pytest.mark.parametrize("hive", [False, True], ids=["flat", "hive"])
def test_a_directory_of_parquet_files_is_one_batch_kept_as_one_parquet_file(
    contract: Contract, store: QuarantineStore, tmp_path: Path, hive: bool
) -> None:
    """A failing dataset directory is quarantined whole as one combined Parquet file; a retry lands on the same id."""
    frame = generate_transactions(DAY, ROWS, defect=Defect.NULLS)
    folder = _dataset(frame, tmp_path / "landing", hive=hive)
    guarded = guard_batch(folder, contract, store, as_of=AS_OF)
    assert guarded.outcome.status is CheckStatus.FAILED and guarded.outcome.rows == ROWS
    assert guarded.manifest is not None and guarded.manifest.data_format is DataFormat.PARQUET
    assert guarded.manifest.source == str(folder) and guarded.manifest.rows_in == ROWS
    kept = pl.from_arrow(store.read(guarded.batch_id))
    assert sorted(kept["transaction_id"]) == sorted(frame["transaction_id"])
    assert ("part" in kept.columns) is hive
    assert guard_batch(folder, contract, store, as_of=AS_OF).batch_id == guarded.batch_id and len(store.list()) == 1


def test_a_directory_under_the_rows_policy_publishes_its_valid_rows(
    rows_contract: Contract, store: QuarantineStore, tmp_path: Path
) -> None:
    """Rows in the dataset's files are split like a file's: published plus quarantined equals the input."""
    frame = generate_transactions(DAY, ROWS, defect=Defect.OUT_OF_RANGE_AMOUNTS)
    guarded = guard_batch(_dataset(frame, tmp_path / "landing", hive=True), rows_contract, store, as_of=AS_OF)
    bad = defect_rows(ROWS, Defect.OUT_OF_RANGE_AMOUNTS)
    assert guarded.published is not None and guarded.published.num_rows == ROWS - bad
    assert guarded.manifest is not None and guarded.manifest.rows_quarantined == bad


def test_an_unreadable_directory_is_kept_file_for_file(contract: Contract, store: QuarantineStore, tmp_path: Path) -> None:
    """A dataset with a corrupt file could not run; its files are kept byte for byte in one tar archive."""
    import io
    import tarfile

    folder = _dataset(generate_transactions(DAY, ROWS), tmp_path / "landing", hive=True)
    write_batch(generate_transactions(DAY, ROWS), folder / "part=2" / "data.parquet", defect=Defect.CORRUPT_FILE)
    guarded = guard_batch(folder, contract, store, as_of=AS_OF)
    assert guarded.outcome.status is CheckStatus.ERROR and guarded.published is None
    assert f"cannot read {folder} as Parquet" in guarded.outcome.error and "\n" not in guarded.outcome.error
    assert guarded.manifest is not None and guarded.manifest.data_format is DataFormat.RAW
    with tarfile.open(fileobj=io.BytesIO(store.read(guarded.batch_id))) as archive:
        kept = {m.name: archive.extractfile(m).read() for m in archive.getmembers()}  # type: ignore[union-attr]
    assert kept == {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.parquet")}


def test_an_empty_directory_is_an_error_outcome(contract: Contract, store: QuarantineStore, tmp_path: Path) -> None:
    """A directory without Parquet files could not run, saying so; there is nothing to keep."""
    (tmp_path / "empty").mkdir()
    guarded = guard_batch(tmp_path / "empty", contract, store, as_of=AS_OF)
    assert guarded.outcome.status is CheckStatus.ERROR and "no Parquet files" in guarded.outcome.error
    assert guarded.manifest is None and guarded.published is None


def _duplicated(path: Path) -> None:
    table = generate_transactions(DAY, ROWS).to_arrow()
    pq.write_table(table.append_column("amount", table["amount"]), path)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_uncastable, "column 'fee' has a type the engine (polars) cannot read: decimal256(60, 0)"),
        (_duplicated, "column name is duplicated: 'amount'"),
    ],
    ids=["decimal256", "duplicated-names"],
)
def test_unreadable_columns_quarantine_the_file_with_a_one_line_reason(
    contract: Contract, store: QuarantineStore, tmp_path: Path, make: Callable[[Path], None], reason: str
) -> None:
    """A column type polars cannot hold, or duplicated names: the file is kept byte for byte, the reason is one line."""
    path = tmp_path / "landing.parquet"
    make(path)
    guarded = guard_batch(path, contract, store, as_of=AS_OF)
    assert guarded.outcome.status is CheckStatus.ERROR and guarded.published is None
    assert reason in guarded.outcome.error and "\n" not in guarded.outcome.error
    manifest = guarded.manifest
    assert manifest is not None and reason in manifest.reason and "\n" not in manifest.reason
    assert (Path(store.batch_path(guarded.batch_id)) / manifest.data_file).read_bytes() == path.read_bytes()
