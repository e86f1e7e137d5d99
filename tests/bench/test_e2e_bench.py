"""Smoke test of the end-to-end benchmark: on 1k rows the CLI and the hand-written script agree, and the harness runs."""

from __future__ import annotations

from bench import contract, e2e


def test_cli_and_script_agree_and_each_reports_its_own_figures(tmp_path) -> None:
    """Both sides run as fresh processes on the same file, report every rule's count alike, and get a table row."""
    figures = e2e.bench([1_000], ["corrupt"], tmp_path, repeat=1)
    assert figures["disagreements"] == []
    (record,) = figures["records"]
    assert record["agree"] == "yes" and record["cli_s"] > 0 and record["script_s"] > 0
    assert record["cli_rss_mib"] > 20 and record["script_rss_mib"] > 20
    assert figures["table"].count("\n") == 2 and "| 1,000 | corrupt |" in figures["table"]


def test_the_cli_side_reports_the_engines_counts(tmp_path) -> None:
    """The CLI side's counts are the failing rows of every counted rule, exactly the floor's on the corrupt batch."""
    path = contract.batch_path(1_000, "corrupt", tmp_path)
    cli = e2e.run_side("cli", path)["counts"]
    assert cli["amount.not_null"] == 50 and cli["merchant_category.allowed_values"] == 50
    assert set(cli) == set(contract.run_floor(contract.make_batch(1_000, "corrupt"))["counts"])
