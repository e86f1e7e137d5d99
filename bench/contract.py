"""Contract validation benchmark: our engine vs pandera, Great Expectations and a hand-written polars floor.

Every engine judges the same deterministic transactions batch (`definitions.data`) against the same contract
(`expectations/transactions.odcs.yaml`; the GX side runs `expectations/transactions.gx.json`, its GX 1.x
translation) and each runs in a fresh subprocess, so its peak RSS is its own:

- ``guardrails``: `guardrails.validation.validate` (one lazy polars pass, bitmaps, mask and sample);
- ``pandera``: the same contract written directly in pandera's polars API with built-in checks, ``lazy=True``;
- ``gx``: the GX suite through `validate_expectation_suite` (GX's own pandas execution, ``SUMMARY``);
- ``floor``: a hand-written single polars ``select`` of one failing-row count per rule: the least work any
  engine can do.

Each child reads the Parquet file into its native frame (polars, or pandas for GX), then validates; the table
shows the validation wall time (reading is reported apart, it is the same for all polars engines), peak RSS
of the whole child, and both as ratios to the floor. All engines must agree on the failing-row count of every
rule they can count (pandera cannot count rules with a tolerance; those are compared pass/fail).

    python -m bench.contract                      # 1M and 10M rows, clean and corrupt, all engines
    python -m bench.contract --rows 1000000 --engines guardrails floor
    python -m bench.contract --write-gx-suite     # re-export expectations/transactions.gx.json with GX's API
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "expectations" / "transactions.odcs.yaml"
GX_SUITE = ROOT / "expectations" / "transactions.gx.json"
DATA = Path(__file__).resolve().parent / ".data"
DAY = date(2026, 11, 20)
AS_OF = datetime(2026, 11, 21, tzinfo=UTC)
"""End of the batch's day: clean event times are in the past, the future-timestamp defect (+25 h) is not."""
MAX_AGE = timedelta(days=30)
ENGINES = ("floor", "guardrails", "pandera", "gx")
SCENARIOS = ("clean", "corrupt")
CORRUPT_DEFECTS = ("nulls", "unknown_categories", "duplicate_ids", "future_timestamps")
"""The corrupt batch carries these defects at once (each on its own columns, so the counts stay known)."""

CURRENCIES = ["USD", "EUR", "GBP", "CAD"]
CATEGORIES = ["grocery", "electronics", "travel", "restaurants", "fuel", "fashion", "gaming", "health", "utilities",
              "entertainment"]
CHANNELS = ["online", "pos", "atm"]
REQUIRED = ["transaction_id", "account_id", "merchant_id", "amount", "currency", "merchant_category", "channel",
            "card_present", "event_time"]
KEY = ["account_id", "event_time", "amount"]
TOLERANT_RULES = {"country.not_null"}
"""Rules with a failing-row budget: pandera only reports pass/fail for them."""


# --- data --------------------------------------------------------------------------------------------------


def batch_path(rows: int, scenario: str, data_dir: Path = DATA) -> Path:
    """The Parquet batch for (rows, scenario), generated once and reused (deterministic, so safe to cache)."""
    path = data_dir / f"transactions-{rows}-{scenario}.parquet"
    if not path.exists():
        # In a child: generating 10M rows here would leave this long-lived harness process gigabytes large.
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "bench.contract", "--generate", str(rows), scenario, str(path)],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True,
        )
    return path


def write_batch_file(rows: int, scenario: str, path: Path) -> None:
    partial = path.with_suffix(".partial")
    make_batch(rows, scenario).write_parquet(partial)
    partial.replace(path)


def make_batch(rows: int, scenario: str):  # -> polars.DataFrame
    """A clean batch, or one carrying every defect of `CORRUPT_DEFECTS` (spliced column by column)."""
    import polars as pl

    from definitions.data import Defect, generate_transactions

    if scenario == "clean":
        return generate_transactions(DAY, rows)
    # Generation is a pure function of (day, rows, seed) up to the injected defect, so a defect's columns can
    # be taken from its own batch and the other columns stay identical.
    frame = generate_transactions(DAY, rows, defect=Defect.NULLS)
    takes = {"unknown_categories": "merchant_category", "duplicate_ids": "transaction_id", "future_timestamps": "event_time"}
    return frame.with_columns(
        generate_transactions(DAY, rows, defect=Defect(defect))[column].alias(column)
        for defect, column in takes.items()
    )


# --- the engines (each runs in its own child process) --------------------------------------------------------


def run_floor(frame) -> dict[str, Any]:
    """The floor: one hand-written polars select, one failing-row count per rule, nothing else."""
    import polars as pl

    as_of_us = int(AS_OF.timestamp() * 1_000_000)
    oldest_us = int((AS_OF - MAX_AGE).timestamp() * 1_000_000)
    c = pl.col
    counts = {f"{name}.not_null": c(name).is_null().sum() for name in REQUIRED}
    counts |= {
        "transaction_id.pattern": (~c("transaction_id").str.contains(r"\A(?:^tx_[0-9]{12}$)\z")).sum(),
        "transaction_id.unique": c("transaction_id").is_duplicated().sum(),
        "account_id.pattern": (~c("account_id").str.contains(r"\A(?:^acct_[0-9]{7}$)\z")).sum(),
        "merchant_id.length": (c("merchant_id").str.len_chars() != 7).sum(),
        "amount.range": ((c("amount") < 0) | (c("amount") > 50_000)).sum(),
        "currency.allowed_values": (~c("currency").is_in(CURRENCIES)).sum(),
        "merchant_category.allowed_values": (~c("merchant_category").is_in(CATEGORIES)).sum(),
        "channel.allowed_values": (~c("channel").is_in(CHANNELS)).sum(),
        "country.pattern": (~c("country").str.contains(r"\A(?:^[A-Z]{2}$)\z")).sum(),
        "country.not_null": c("country").is_null().sum(),
        "event_time.not_in_future": (c("event_time").dt.epoch("us") > as_of_us).sum(),
        "event_time.max_age": (c("event_time").dt.epoch("us") < oldest_us).sum(),
        "transactions.unique": (
            pl.struct("account_id", "event_time", "amount").is_duplicated()
            & c("account_id").is_not_null() & c("event_time").is_not_null() & c("amount").is_not_null()
        ).sum(),
    }
    row = frame.lazy().select(pl.len().alias("rows"), *(e.alias(k) for k, e in counts.items())).collect().row(0, named=True)
    rows = row.pop("rows")
    return {
        "counts": {k: int(v) for k, v in row.items()},
        "statuses": {"transactions.row_count": 100 <= rows <= 20_000_000, "country.not_null": row["country.not_null"] < rows / 100},
    }


def run_guardrails(frame, contract=None) -> dict[str, Any]:
    from guardrails.contract import load_contract
    from guardrails.outcome import CheckStatus
    from guardrails.validation import validate

    result = validate(contract or load_contract(CONTRACT), frame, as_of=AS_OF)
    rules = [r for r in result.outcome.rules if r.kind != "type"]
    return {
        "counts": {r.rule_id: r.failing_rows for r in rules if r.kind != "row_count"},
        "statuses": {r.rule_id: r.status is CheckStatus.PASSED for r in rules if r.kind == "row_count" or r.rule_id in TOLERANT_RULES},
        "rejected": None if result.rejected_rows is None else int(result.rejected_rows.sum()),
    }


def pandera_schema():
    """The contract written directly in pandera's polars API, the way a pandera user would."""
    import pandera.polars as pa
    import polars as pl

    def not_null(name: str) -> dict[str, Any]:
        return {"nullable": name not in REQUIRED}

    country_nulls = pa.Check(
        lambda data: data.lazyframe.select(pl.col(data.key).is_null().mean() < 0.01).collect().item(),
        name="country.not_null",
        raise_warning=True,
    )
    return pa.DataFrameSchema(
        {
            "transaction_id": pa.Column(pl.String, unique=True, checks=pa.Check.str_matches(r"^tx_[0-9]{12}$"), **not_null("transaction_id")),
            "account_id": pa.Column(pl.String, checks=pa.Check.str_matches(r"^acct_[0-9]{7}$"), **not_null("account_id")),
            "merchant_id": pa.Column(pl.String, checks=pa.Check.str_length(7, 7), **not_null("merchant_id")),
            "amount": pa.Column(pl.Float64, checks=pa.Check.in_range(0, 50_000), **not_null("amount")),
            "currency": pa.Column(pl.String, checks=pa.Check.isin(CURRENCIES), **not_null("currency")),
            "merchant_category": pa.Column(pl.String, checks=pa.Check.isin(CATEGORIES), **not_null("merchant_category")),
            "channel": pa.Column(pl.String, checks=pa.Check.isin(CHANNELS), **not_null("channel")),
            "country": pa.Column(pl.String, checks=[pa.Check.str_matches(r"^[A-Z]{2}$"), country_nulls], nullable=True, required=False),
            "card_present": pa.Column(pl.Boolean, **not_null("card_present")),
            "event_time": pa.Column(
                pl.Datetime("us", "UTC"),
                checks=[pa.Check.le(AS_OF), pa.Check.ge(AS_OF - MAX_AGE)],
                **not_null("event_time"),
            ),
            "is_fraud": pa.Column(pl.Boolean, nullable=True, required=False),
        },
        checks=[
            pa.Check(lambda data: 100 <= data.lazyframe.select(pl.len()).collect().item() <= 20_000_000, name="transactions.row_count"),
            # DataFrameSchema(unique=[...]) treats null keys as equal; the contract (SQL semantics) does not, so
            # a pandera user needs a custom check for it.
            pa.Check(
                lambda data: data.lazyframe.select(
                    ~(pl.struct(*KEY).is_duplicated() & pl.all_horizontal(pl.col(k).is_not_null() for k in KEY))
                ),
                name="transactions.unique",
            ),
        ],
    )


_PANDERA_RULES = {
    "not_nullable": "not_null",
    "field_uniqueness": "unique",
    "str_matches": "pattern",
    "str_length": "length",
    "in_range": "range",
    "isin": "allowed_values",
    "less_than_or_equal_to": "not_in_future",
    "greater_than_or_equal_to": "max_age",
}


def run_pandera(frame, schema=None) -> dict[str, Any]:
    import warnings

    import pandera.errors
    import polars as pl

    counts: dict[str, int] = {}
    statuses: dict[str, bool] = {"transactions.row_count": True, "country.not_null": True}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            (schema or pandera_schema()).validate(frame, lazy=True)
            cases = None
        except pandera.errors.SchemaErrors as exc:
            cases = exc.failure_cases
    statuses["country.not_null"] = not any("country.not_null" in str(w.message) for w in caught)
    if cases is not None:
        grouped = cases.group_by("column", "check").agg(pl.len().alias("n"), pl.col("index").n_unique().alias("rows"))
        for column, check, n, _rows in grouped.iter_rows():
            name = str(check).split("(")[0]
            if name == "transactions.row_count":
                statuses[name] = False
            elif name == "transactions.unique":
                counts[name] = n
            elif name in _PANDERA_RULES:
                counts[f"{column}.{_PANDERA_RULES[name]}"] = n
    return {"counts": counts, "statuses": statuses}


def run_gx(frame) -> dict[str, Any]:
    from guardrails.outcome import CheckStatus
    from guardrails.validation import validate_expectation_suite

    outcome = validate_expectation_suite(GX_SUITE, frame, as_of=AS_OF, parameters=gx_parameters())
    if outcome.error:
        raise RuntimeError(outcome.error)
    return {
        "counts": {r.rule_id: r.failing_rows for r in outcome.rules if r.columns and not r.rule_id.endswith(".type")},
        "statuses": {r.rule_id: r.status is CheckStatus.PASSED for r in outcome.rules if not r.columns or r.rule_id in TOLERANT_RULES},
    }


def gx_parameters() -> dict[str, Any]:
    import pandas as pd

    return {"as_of": pd.Timestamp(AS_OF), "max_age_cutoff": pd.Timestamp(AS_OF - MAX_AGE)}


# --- the GX suite ---------------------------------------------------------------------------------------------


def transactions_expectation_suite() -> dict[str, Any]:
    """The example contract translated to GX 1.x expectations, built with GX's API (meta.rule_id = our rule id).

    GX checks column presence, not our logical type families, so each ``<col>.type`` rule maps to
    ``expect_column_to_exist``. Time rules read the suite parameters ``as_of`` and ``max_age_cutoff``.
    """
    import great_expectations as gx
    import great_expectations.expectations as gxe

    gx.get_context(mode="ephemeral")
    suite = gx.ExpectationSuite(name="transactions")

    def add(expectation_type, rule_id: str, **kwargs: Any) -> None:
        suite.add_expectation(expectation_type(meta={"rule_id": rule_id}, **kwargs))

    for column in [*REQUIRED[:8], "event_time"]:
        add(gxe.ExpectColumnToExist, f"{column}.type", column=column)
    for column in REQUIRED:
        add(gxe.ExpectColumnValuesToNotBeNull, f"{column}.not_null", column=column)
    add(gxe.ExpectColumnValuesToMatchRegex, "transaction_id.pattern", column="transaction_id", regex=r"^tx_[0-9]{12}$")
    add(gxe.ExpectColumnValuesToBeUnique, "transaction_id.unique", column="transaction_id")
    add(gxe.ExpectColumnValuesToMatchRegex, "account_id.pattern", column="account_id", regex=r"^acct_[0-9]{7}$")
    add(gxe.ExpectColumnValueLengthsToBeBetween, "merchant_id.length", column="merchant_id", min_value=7, max_value=7)
    add(gxe.ExpectColumnValuesToBeBetween, "amount.range", column="amount", min_value=0, max_value=50_000)
    add(gxe.ExpectColumnValuesToBeInSet, "currency.allowed_values", column="currency", value_set=CURRENCIES)
    add(gxe.ExpectColumnValuesToBeInSet, "merchant_category.allowed_values", column="merchant_category", value_set=CATEGORIES)
    add(gxe.ExpectColumnValuesToBeInSet, "channel.allowed_values", column="channel", value_set=CHANNELS)
    add(gxe.ExpectColumnValuesToMatchRegex, "country.pattern", column="country", regex=r"^[A-Z]{2}$")
    add(gxe.ExpectColumnValuesToNotBeNull, "country.not_null", column="country", mostly=0.99, severity="warning")
    add(gxe.ExpectColumnValuesToBeBetween, "event_time.not_in_future", column="event_time", max_value={"$PARAMETER": "as_of"})
    add(gxe.ExpectColumnValuesToBeBetween, "event_time.max_age", column="event_time", min_value={"$PARAMETER": "max_age_cutoff"})
    add(gxe.ExpectTableRowCountToBeBetween, "transactions.row_count", min_value=100, max_value=20_000_000)
    add(
        gxe.ExpectCompoundColumnsToBeUnique,
        "transactions.unique",
        column_list=["account_id", "event_time", "amount"],
        ignore_row_if="any_value_is_missing",
        severity="warning",
    )
    return suite.to_json_dict()


def write_gx_suite(path: Path = GX_SUITE) -> Path:
    path.write_text(json.dumps(transactions_expectation_suite(), indent=2, default=str) + "\n")
    return path


# --- the harness --------------------------------------------------------------------------------------------

RUNNERS = {"floor": run_floor, "guardrails": run_guardrails, "pandera": run_pandera, "gx": run_gx}


def prepare(engine: str):  # -> Callable[[frame], dict]
    """The engine's runner with its contract/schema already built: loading config is not what we time."""
    if engine == "guardrails":
        from guardrails.contract import load_contract

        contract = load_contract(CONTRACT)
        return lambda frame: run_guardrails(frame, contract)
    if engine == "pandera":
        schema = pandera_schema()
        return lambda frame: run_pandera(frame, schema)
    return RUNNERS[engine]


def _status_kib(field: str) -> int:
    """A memory figure of this process from /proc/self/status (VmRSS: now, VmHWM: peak), in KiB.

    VmHWM is the peak of this program's own address space. `ru_maxrss` is not: Linux carries the parent's
    RSS over fork+exec into it, so a child of a parent that just generated 10M rows would report the parent's.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def child(engine: str, path: str, out: str) -> None:
    """Run one engine on one file and write its figures as JSON (called in a fresh interpreter)."""
    import importlib

    if engine == "gx":
        importlib.import_module("great_expectations")
        import pandas as pd

        reader = pd.read_parquet
    else:
        importlib.import_module("pandera.polars" if engine == "pandera" else "guardrails.validation")
        import polars as pl

        reader = pl.read_parquet
    runner = prepare(engine)
    baseline = _status_kib("VmRSS")
    t0 = time.perf_counter()
    frame = reader(path)
    t1 = time.perf_counter()
    figures = runner(frame)
    t2 = time.perf_counter()
    figures |= {
        "read_s": t1 - t0,
        "validate_s": t2 - t1,
        "baseline_rss_mib": baseline / 1024,
        "peak_rss_mib": _status_kib("VmHWM") / 1024,
    }
    Path(out).write_text(json.dumps(figures))


def run_engine(engine: str, path: Path) -> dict[str, Any]:
    """Run `engine` in a fresh subprocess and return the figures it measured on itself."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        target = out.name
    try:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.contract", "--child", engine, str(path), target], cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        if process.wait() != 0:
            raise RuntimeError(f"{engine} on {path.name} exited with {process.returncode}")
        figures = json.loads(Path(target).read_text())
        figures["process_s"] = time.perf_counter() - started
        return figures
    finally:
        Path(target).unlink(missing_ok=True)


def disagreements(results: dict[str, dict[str, Any]]) -> list[str]:
    """Rules on which the engines' failing counts (or pass/fail, for uncountable ones) differ."""
    problems = []
    rules = sorted({rule for figures in results.values() for rule in figures["counts"]})
    for rule in rules:
        seen = {engine: figures["counts"][rule] for engine, figures in results.items() if rule in figures["counts"]}
        if len(set(seen.values())) > 1:
            problems.append(f"{rule}: {seen}")
    for rule in sorted({rule for figures in results.values() for rule in figures["statuses"]}):
        seen = {engine: figures["statuses"][rule] for engine, figures in results.items() if rule in figures["statuses"]}
        if len(set(seen.values())) > 1:
            problems.append(f"{rule} passed: {seen}")
    return problems


def table(rows: list[dict[str, Any]]) -> str:
    """The figures as a Markdown table (the README's performance section pastes it)."""
    lines = [
        "| rows | batch | engine | validate (s) | x floor | read (s) | peak RSS (MiB) | x floor | agree |",
        "|---:|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['rows']:,} | {r['scenario']} | {r['engine']} | {r['validate_s']:.2f} | {r['time_ratio']:.2f} "
            f"| {r['read_s']:.2f} | {r['peak_rss_mib']:,.0f} | {r['rss_ratio']:.2f} | {r['agree']} |"
        )
    return "\n".join(lines)


def best_of(engines: list[str], path: Path, repeat: int) -> dict[str, dict[str, Any]]:
    """Each engine `repeat` times (GX once: minutes per run), interleaved so load drift hits all alike; fastest run wins."""
    runs: dict[str, list[dict[str, Any]]] = {engine: [] for engine in engines}
    for round_ in range(repeat):
        for engine in engines:
            if engine != "gx" or round_ == 0:
                runs[engine].append(run_engine(engine, path))
    return {engine: min(figures, key=lambda f: f["validate_s"]) for engine, figures in runs.items()}


def bench(
    rows_list: list[int], scenarios: list[str], engines: list[str], data_dir: Path = DATA, repeat: int = 1
) -> dict[str, Any]:
    """Run every (rows, scenario, engine) in its own child; return figures, the table and any disagreement."""
    order = ["floor", *[e for e in engines if e != "floor"]]
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    for rows in rows_list:
        for scenario in scenarios:
            path = batch_path(rows, scenario, data_dir)
            results = best_of(order, path, repeat)
            floor = results["floor"]
            found = disagreements(results)
            problems += [f"{rows:,} {scenario}: {p}" for p in found]
            for engine, figures in results.items():
                records.append(
                    {
                        "rows": rows,
                        "scenario": scenario,
                        "engine": engine,
                        **{k: figures[k] for k in ("validate_s", "read_s", "peak_rss_mib", "baseline_rss_mib")},
                        "time_ratio": figures["validate_s"] / floor["validate_s"],
                        "rss_ratio": figures["peak_rss_mib"] / floor["peak_rss_mib"],
                        "agree": "yes" if not found else "NO",
                        "counts": figures["counts"],
                        "rejected": figures.get("rejected"),
                    }
                )
    load = os.getloadavg()
    return {
        "records": records,
        "table": table(records),
        "disagreements": problems,
        "load_average": [round(x, 2) for x in load],
        "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print its table; returns the figures (for `bench.run`)."""
    parser = argparse.ArgumentParser(prog="python -m bench.contract", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--write-gx-suite", action="store_true", help="re-export expectations/transactions.gx.json")
    parser.add_argument("--repeat", type=int, default=3, help="runs per polars engine; the fastest counts (GX runs once)")
    parser.add_argument("--child", nargs=3, metavar=("ENGINE", "PATH", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--generate", nargs=3, metavar=("ROWS", "SCENARIO", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return {}
    if args.generate:
        write_batch_file(int(args.generate[0]), args.generate[1], Path(args.generate[2]))
        return {}
    if args.write_gx_suite:
        print(f"wrote {write_gx_suite()}")
        return {}
    figures = bench(args.rows, args.scenarios, args.engines, args.data_dir, args.repeat)
    print(figures["table"])
    print(f"\nload average {figures['load_average']} on {figures['cpus']} cores")
    for problem in figures["disagreements"]:
        print(f"DISAGREE {problem}")
    return figures


if __name__ == "__main__":
    main()
