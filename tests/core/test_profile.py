"""Reference profiles: mergeability (merge == whole), order invariance, JSON storage and clear errors."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from guardrails.profile import (
    FOLDED_BATCH,
    OTHER,
    PROFILE_SCHEMA_VERSION,
    CategoricalProfile,
    NumericProfile,
    Profile,
    ProfileError,
    ProfileStore,
    build_profile,
    load_profile,
    save_profile,
)

FIXTURES = Path(__file__).parent / "fixtures"

floats = st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False), st.just(float("nan")))
words = st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d", "e", "f", "g"]))


@st.composite
def split_tables(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame]:
    n = draw(st.integers(1, 60))
    m = draw(st.integers(0, 60))
    values = draw(st.lists(floats, min_size=n + m, max_size=n + m))
    labels = draw(st.lists(words, min_size=n + m, max_size=n + m))
    frame = pl.DataFrame({"x": values, "c": labels}, schema={"x": pl.Float64, "c": pl.String})
    return frame.head(n), frame.tail(m) if m else frame.clear()


def assert_same(a: Profile, b: Profile) -> None:
    """Exact equality for counts, ranges and layout; float tolerance for the merged moments."""
    assert a.rows == b.rows and list(a.columns) == list(b.columns)
    for name, col in a.columns.items():
        other = b.columns[name]
        if isinstance(col, NumericProfile):
            assert (col.count, col.null_count, col.minimum, col.maximum, col.edges, col.counts, col.psi_edges) == (
                other.count, other.null_count, other.minimum, other.maximum, other.edges, other.counts,
                other.psi_edges)
            assert math.isclose(col.mean, other.mean, rel_tol=1e-9, abs_tol=1e-6)
            assert math.isclose(col.m2, other.m2, rel_tol=1e-7, abs_tol=1e-3)
            assert col.at_edges == other.at_edges
            assert np.allclose(col.offsets, other.offsets, rtol=1e-9, atol=1e-6)
        else:
            assert col == other


@given(split_tables())
def test_merge_of_halves_equals_profile_of_whole(tables: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    """Merging the profiles of two batches equals profiling both batches together (Deequ's state property)."""
    a, b = tables
    reference = build_profile(a, bins=2, fine_bins=10, max_categories=3)
    merged = reference.merge(build_profile(b, like=reference))
    assert_same(merged, build_profile(pl.concat([a, b]), like=reference))


@given(split_tables(), st.randoms())
def test_profile_ignores_row_order(tables: tuple[pl.DataFrame, pl.DataFrame], rnd) -> None:
    """Shuffling the rows of a batch leaves its profile unchanged, moments included."""
    frame = pl.concat(tables)
    order = list(range(frame.height))
    rnd.shuffle(order)
    assert build_profile(frame[order]) == build_profile(frame)


@given(split_tables())
def test_profile_survives_json_round_trip(tables: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    """A profile written to JSON and read back is equal to the original."""
    profile = build_profile(pl.concat(tables), bins=5, fine_bins=50)
    assert Profile.from_json(profile.to_json()) == profile


def test_numeric_profile_matches_numpy() -> None:
    """Counts, moments, range and null count agree with numpy; NaN and inf count as missing."""
    rng = np.random.default_rng(3)
    values = rng.gamma(2.0, 3.0, 5000)
    column = pl.Series("x", [*values, None, float("nan"), float("inf")])
    profile = build_profile(pl.DataFrame({"x": column})).columns["x"]
    assert isinstance(profile, NumericProfile)
    assert (profile.count, profile.null_count, profile.rows) == (5000, 3, 5003)
    assert profile.minimum == values.min() and profile.maximum == values.max()
    assert math.isclose(profile.mean, values.mean(), rel_tol=1e-12)
    assert math.isclose(profile.std, values.std(), rel_tol=1e-9)
    assert len(profile.counts) == len(profile.edges) + 1 and sum(profile.counts) == 5000


def test_quantile_bins_hold_equal_shares_and_nest() -> None:
    """For continuous data each coarse bin holds 1/bins of the reference, and coarse edges are fine edges."""
    values = np.random.default_rng(4).normal(size=20_000)
    profile = build_profile(pl.DataFrame({"x": values}), bins=20, fine_bins=1000).columns["x"]
    assert set(profile.psi_edges) <= set(profile.edges)
    shares = profile.psi_counts() / profile.count
    assert len(shares) == 20 and np.allclose(shares, 0.05, atol=1e-3)
    # independent computation of the coarse bins, right-closed: (e[i-1], e[i]]
    direct = np.bincount(np.searchsorted(profile.psi_edges, values, side="left"), minlength=20)
    assert direct.tolist() == profile.psi_counts().tolist()


def test_categories_are_capped_with_the_rest_as_other() -> None:
    """Only the most frequent categories are kept; the rest are counted as other, nulls apart."""
    labels = ["a"] * 5 + ["b"] * 4 + ["c"] * 3 + ["d"] * 2 + ["e"] + [None] * 2
    profile = build_profile(pl.DataFrame({"c": labels}), max_categories=2).columns["c"]
    assert isinstance(profile, CategoricalProfile)
    assert (profile.categories, profile.counts, profile.other, profile.null_count) == (("a", "b"), (5, 4), 6, 2)
    assert OTHER == "__other__"


def test_unseen_categories_in_later_batches_count_as_other() -> None:
    """A batch profiled in the reference layout counts values the reference never saw as other."""
    reference = build_profile(pl.DataFrame({"c": ["a", "b", "a"]}))
    later = build_profile(pl.DataFrame({"c": ["a", "z", "z", None]}), like=reference).columns["c"]
    assert (later.counts, later.other, later.null_count) == ((1, 0), 2, 1)


def test_pandas_arrow_and_polars_give_the_same_profile() -> None:
    """The same rows as pandas, Arrow or polars produce equal profiles."""
    frame = pl.DataFrame({"x": [1.5, 2.0, None, 4.0], "c": ["a", None, "b", "a"], "n": [1, 2, 3, 4]})
    expected = build_profile(frame)
    assert build_profile(frame.to_arrow()) == expected
    assert build_profile(pd.DataFrame({"x": [1.5, 2.0, None, 4.0], "c": ["a", None, "b", "a"],
                                       "n": [1, 2, 3, 4]})) == expected
    assert isinstance(build_profile(pa.table({"n": [1, 2]})).columns["n"], NumericProfile)


def test_numeric_codes_can_be_profiled_as_categories_and_datetimes_as_numbers() -> None:
    """`categorical=` turns integer codes into categories; datetime columns are profiled numerically."""
    from datetime import datetime

    frame = pl.DataFrame({"code": [1, 2, 2], "at": [datetime(2026, 1, d) for d in (1, 2, 3)]})
    profile = build_profile(frame, categorical=["code"])
    assert profile.columns["code"].categories == ("2", "1")
    assert isinstance(profile.columns["at"], NumericProfile) and profile.columns["at"].count == 3
    in_ms = build_profile(frame.with_columns(pl.col("at").dt.cast_time_unit("ms")), categorical=["code"])
    assert in_ms.columns["at"].edges == profile.columns["at"].edges  # same microseconds whatever the unit


def test_merge_refuses_different_layouts() -> None:
    """Profiles built with different layouts cannot be merged, and the error says how to fix it."""
    a = build_profile(pl.DataFrame({"x": [1.0, 2.0, 3.0]}))
    b = build_profile(pl.DataFrame({"x": [10.0, 20.0]}))
    with pytest.raises(ProfileError, match="like=reference"):
        a.merge(b)
    with pytest.raises(ProfileError, match="columns"):
        a.merge(build_profile(pl.DataFrame({"y": [1.0]})))


def test_store_accepts_batches_and_merges_them(tmp_path) -> None:
    """ProfileStore.accept stores each batch in the first batch's layout; load merges them, on disk."""
    store = ProfileStore(tmp_path / "profiles")
    store.accept("tx", pl.DataFrame({"x": [1.0, 2.0], "c": ["a", "b"]}), bins=1, fine_bins=2)
    batch = store.accept("tx", pl.DataFrame({"x": [3.0, None], "c": ["a", "q"]}))
    profile = store.load("tx")
    assert batch.rows == 2 and profile.rows == 4 and len(store.batches("tx")) == 2
    assert profile.columns["x"].count == 3 and profile.columns["c"].other == 1
    assert profile.columns["x"].edges == batch.columns["x"].edges  # the later batch reused the layout
    [first, _] = store.batches("tx")
    stored = json.loads((store.directory("tx") / f"{first}.profile.json").read_text())
    assert stored["schema_version"] == PROFILE_SCHEMA_VERSION
    assert not list((tmp_path / "profiles").rglob("*.tmp"))


def test_store_replaces_a_rerun_batch_and_leaves_out_the_batch_under_audit(tmp_path) -> None:
    """A batch accepted again replaces its profile; `excluding` and `window` choose which batches are merged."""
    store = ProfileStore(tmp_path)
    for day, values in (("2026-10-01", [1.0, 2.0]), ("2026-10-02", [3.0]), ("2026-10-02", [4.0, 5.0, 6.0])):
        store.accept("tx", pl.DataFrame({"x": values}), batch_name=day)
    assert store.batches("tx") == ("2026-10-01", "2026-10-02")
    assert store.reference("tx").rows == 5
    assert store.reference("tx", excluding="2026-10-02").batches == ("2026-10-01",)
    assert store.reference("tx", window=1).batches == ("2026-10-02",)
    assert store.reference("tx", excluding="2026-10-01", window=1).rows == 3
    assert store.reference("absent") is None
    with pytest.raises(ProfileError, match="no stored profile"):
        store.load("absent")
    with pytest.raises(ValueError, match="plain file stem"):
        store.accept("../tx", pl.DataFrame({"x": [1.0]}))


def test_store_cache_matches_a_full_merge_and_is_rebuilt_after_a_replace(tmp_path) -> None:
    """The cached merge of all batches equals merging the files, follows accepts, and is rebuilt after a replace."""
    rng = np.random.default_rng(5)
    store = ProfileStore(tmp_path)
    days = ("2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04")
    for day in days[:3]:
        store.accept("tx", pl.DataFrame({"x": rng.normal(size=500)}), batch_name=day)
    assert store.reference("tx").batches == days[:3] and store.merged_path("tx").exists()
    store.accept("tx", pl.DataFrame({"x": rng.normal(size=500)}), batch_name=days[3])  # folded into the cache
    cached = store.reference("tx")
    store.merged_path("tx").unlink()
    rebuilt = store.reference("tx")
    assert cached.batches == rebuilt.batches == days
    assert cached.profile.columns["x"].counts == rebuilt.profile.columns["x"].counts

    store.accept("tx", pl.DataFrame({"x": rng.normal(10, 1, size=500)}), batch_name=days[1])  # a re-run
    assert not store.merged_path("tx").exists()
    assert store.reference("tx").profile.columns["x"].mean > rebuilt.profile.columns["x"].mean + 2
    assert store.reference("tx", excluding=days[1]).rows == 1_500


def test_profiles_written_by_the_previous_stores_keep_loading(tmp_path) -> None:
    """A folded ``<name>.profile.json`` and a directory of batch files, both written by the old code, still load."""
    shutil.copytree(FIXTURES / "profiles_v1", tmp_path, dirs_exist_ok=True)
    store = ProfileStore(tmp_path)
    folded = store.load("transactions")
    assert store.batches("transactions") == (FOLDED_BATCH,) and folded.rows == 6
    assert folded.columns["channel"].categories == ("pos", "atm", "web")
    store.accept("transactions", pl.DataFrame({"amount": [6.0], "channel": ["pos"]}), batch_name="2026-10-03")
    grown = store.load("transactions")
    assert grown.rows == 7 and grown.columns["amount"].edges == folded.columns["amount"].edges
    assert store.reference("transactions", excluding="2026-10-03").profile == folded

    assert store.batches("features") == ("2026-10-01", "2026-10-02")
    assert store.reference("features").rows == 5
    assert store.reference("features", excluding="2026-10-02").rows == 3


def test_a_parquet_path_is_profiled_like_the_frame_it_holds(tmp_path) -> None:
    """`build_profile` reads a Parquet file or directory of files, as `validate` does, with the same result."""
    frame = pl.DataFrame({"x": [1.5, 2.0, None, 4.0], "c": ["a", None, "b", "a"]})
    frame.write_parquet(tmp_path / "batch.parquet")
    (tmp_path / "dataset").mkdir()
    frame.head(2).write_parquet(tmp_path / "dataset" / "part-0.parquet")
    frame.tail(2).write_parquet(tmp_path / "dataset" / "part-1.parquet")
    assert build_profile(tmp_path / "batch.parquet") == build_profile(frame)
    assert build_profile(str(tmp_path / "dataset")) == build_profile(frame)


def test_missing_corrupt_and_old_profiles_give_clear_errors(tmp_path) -> None:
    """Reading a missing, non-JSON, old-version or inconsistent profile raises ProfileError naming file and field."""
    path = save_profile(build_profile(pl.DataFrame({"x": [1.0, 2.0, 3.0]})), tmp_path / "p.json")
    data = json.loads(path.read_text())

    with pytest.raises(ProfileError, match="no such file") as missing:
        load_profile(tmp_path / "absent.json")
    assert missing.value.path.endswith("absent.json")

    path.write_text("{not json")
    with pytest.raises(ProfileError, match="invalid JSON"):
        load_profile(path)

    path.write_text(json.dumps(dict(data, schema_version=0)))
    with pytest.raises(ProfileError, match="schema_version: expected 1, got 0") as old:
        load_profile(path)
    assert old.value.field == "schema_version" and "rebuild" in str(old.value)

    broken = json.loads(json.dumps(data))
    broken["columns"]["x"]["counts"][0] += 1
    path.write_text(json.dumps(broken))
    with pytest.raises(ProfileError, match=r"columns\.x\.counts"):
        load_profile(path)

    broken = json.loads(json.dumps(data))
    broken["columns"]["x"]["edges"] = list(reversed(broken["columns"]["x"]["edges"]))
    path.write_text(json.dumps(broken))
    with pytest.raises(ProfileError, match=r"columns\.x\.edges"):
        load_profile(path)

    broken = json.loads(json.dumps(data))
    del broken["columns"]["x"]["m2"]
    path.write_text(json.dumps(broken))
    with pytest.raises(ProfileError, match="missing \\['m2'\\]"):
        load_profile(path)


def test_build_rejects_unknown_columns_and_bad_bins() -> None:
    """Asking for a column that is absent or for bins that do not nest is a ValueError at build time."""
    frame = pl.DataFrame({"x": [1.0]})
    with pytest.raises(ValueError, match="'y'"):
        build_profile(frame, columns=["y"])
    with pytest.raises(ValueError, match="divide"):
        build_profile(frame, bins=3, fine_bins=10)
    with pytest.raises(ValueError, match="not in the batch"):
        build_profile(pl.DataFrame({"z": [1.0]}), like=build_profile(frame))
