"""Validating batches against data contracts (our one-pass polars engine) and Great Expectations suites.

- `validate(contract, data, *, as_of=None, sample_size=None) -> ContractValidation`: every rule of the contract
  judged over a batch (Arrow table, polars DataFrame/LazyFrame, pandas frame or Parquet path), with per-rule
  failing-row counts, a capped sample of failing rows (primary key, offending values, ``_rules``, ``_row``) and
  the mask of rows that must not be published. Data problems never raise: an unreadable batch is an outcome
  with status ERROR, a rule that cannot run on this batch is a rule with status ERROR.
- ODCS ``type: sql`` rules run after the one pass, in a sandboxed in-process DuckDB over the same frame (`_sql`:
  read-only, time- and memory-bounded, zero-copy registration); ``type: custom`` rules run through Great
  Expectations when their engine is GX, and are *not run* otherwise (`_custom`; `validate(..., allow_unrun=)`).
- `read_parquet(path, columns=None)`: a Parquet file or a (hive-partitioned) directory as one polars frame, after
  refusing from the footers what the engine cannot read (`UnreadableBatchError`: duplicated column names, types
  polars cannot hold such as decimal256 or unions); `error_line(exc)` is the one-line form every outcome uses.
- `to_pandera_schema(contract, *, as_of=None)`: the same contract as a real `pandera.polars.DataFrameSchema`
  (to validate with pandera, print, extend with custom checks).
- `validate_expectation_suite(suite, data, ...)`: an existing GX 1.x suite run through GX's own API, mapped to
  the same `CheckOutcome`.

Design decision: one implementation, two faces. Each row rule compiles to ONE polars expression that is True
where a row violates it (`_rules.violation`); that expression is the only definition of the rule. The engine
evaluates all of them in a single lazy ``select`` producing one violation bitmap per rule (1 bit per row per
rule), from which come the counts, the rejected mask and the sample; the pandera schema wraps the very same
expressions in its checks, and a property test holds the two to identical failure counts.

Why the hot path does not run the pandera schema: pandera collects every check on its own (one pass over the
data per check, plus a failure-case frame per failing check). Measured with ``python -m bench.contract`` (each
engine in a fresh process, best of 3 interleaved runs, GX once; 2 shared cores, load average 2-5), validation
time as a multiple of a hand-written single-``select`` polars floor, same contract, same data, all engines
agreeing on every rule's failing count:

======================  ========  ==========  =========  ===========
engine                  1M clean  1M corrupt  10M clean  10M corrupt
======================  ========  ==========  =========  ===========
guardrails (this)       1.16x     1.09x       0.90x      0.99x
pandera polars, lazy    1.47x     2.10x       1.67x      1.51x
Great Expectations 1.x  7.56x     11.38x      5.81x      8.19x
======================  ========  ==========  =========  ===========

At 10M rows our peak RSS is 1.06x (clean) and 1.04x (corrupt) the floor's; the bitmaps cost
``rules x rows / 8`` bytes (about 28 MB for the example's 22 row rules at 10M rows). Ratios below 1 are noise on a shared
machine: the engine does the floor's work plus the bitmaps, the mask and the sample.
Semantics (nulls, uniqueness groups, full-match patterns, time zones) are documented in `_rules`; logical
type families (which dtypes satisfy ``string``, ``integer``...) in `_types`.
"""

from guardrails.validation._engine import ContractValidation, validate
from guardrails.validation._frames import UnreadableBatchError, error_line, read_parquet
from guardrails.validation._great_expectations import validate_expectation_suite
from guardrails.validation._pandera import to_pandera_schema

__all__ = [
    "ContractValidation",
    "UnreadableBatchError",
    "error_line",
    "read_parquet",
    "to_pandera_schema",
    "validate",
    "validate_expectation_suite",
]
