"""One JSON conversion for every sample: validation and parity show a decimal exactly, as the same text."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import polars as pl

from guardrails.checks import ParitySettings, check_parity
from guardrails.contract import Contract, RangeRule
from guardrails.validation import validate
from guardrails.validation._sample import json_safe

AMOUNT = Decimal("12345678901234567.89")  # 19 significant digits: a float keeps 15-17


def test_json_safe_keeps_decimals_exact_and_survives_strict_json() -> None:
    """A Decimal becomes its exact text and every value survives ``json.dumps(allow_nan=False)``."""
    value = {"amount": AMOUNT, "day": date(2026, 1, 2), "ratio": float("inf"), "raw": b"\x01", "xs": (1, Decimal("0.1"))}
    safe = json_safe(value)
    assert safe == {"amount": "12345678901234567.89", "day": "2026-01-02", "ratio": "inf", "raw": "01",
                    "xs": [1, "0.1"]}
    assert json.loads(json.dumps(safe, allow_nan=False)) == safe


def test_validation_sample_shows_a_failing_decimal_exactly() -> None:
    """A failing decimal in a validation sample is shown digit for digit, not rounded through a float."""
    contract = Contract(id="c", version="1", name="c", table="t",
                        rules=(RangeRule(rule_id="amount.range", column="amount", maximum=0),))
    frame = pl.DataFrame({"amount": [AMOUNT]}, schema={"amount": pl.Decimal(38, 2)})
    outcome = validate(contract, frame).outcome
    assert [row["amount"] for row in outcome.sample] == ["12345678901234567.89"]


def test_parity_and_validation_render_a_decimal_alike() -> None:
    """Parity's sample renders a mismatched decimal with the same conversion as validation's."""
    offline = pl.DataFrame({"id": [1], "amount": [AMOUNT]}, schema={"id": pl.Int64, "amount": pl.Decimal(38, 2)})
    online = offline.with_columns(pl.lit(Decimal("1.10")).cast(pl.Decimal(38, 2)).alias("amount"))
    outcome = check_parity(offline, online, ParitySettings(keys=("id",)))
    assert outcome.sample[0]["amount.offline"] == json_safe(AMOUNT) == "12345678901234567.89"
    assert outcome.sample[0]["amount.online"] == "1.10"
