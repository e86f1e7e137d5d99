"""`lint_contract` and ``guardrails contract lint``: every error and warning, as a table or JSON, with exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from guardrails.cli import app as root_app
from guardrails.cli.contract import app
from guardrails.contract import LintReport, lint_contract

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "expectations" / "transactions.odcs.yaml"
FIXTURES = Path(__file__).parent / "fixtures"
WARNINGS = FIXTURES / "lint" / "warnings.odcs.yaml"
MANY_ERRORS = FIXTURES / "bad" / "many_errors.odcs.yaml"

runner = CliRunner()


def test_lint_of_the_example_is_clean_but_for_the_unchecked_label() -> None:
    """The example loads; its only warning is is_fraud, which has no check besides its type."""
    report = lint_contract(EXAMPLE)
    assert report.ok and report.errors == ()
    assert [(w.field, w.got) for w in report.warnings] == [("schema[0].properties[10]", "none for 'is_fraud'")]
    assert report.contract is not None and report.contract.table == "transactions"


def test_lint_reports_each_suspicious_construct_with_its_line() -> None:
    """Each '# warn:' line of the fixture is reported as a warning at that line, and nothing else is."""
    expected = [line.removeprefix("# warn: ") for line in WARNINGS.read_text().splitlines() if line.startswith("# warn: ")]
    report = lint_contract(WARNINGS)
    assert report.ok
    found = [f"{w.line}: {w.message}" for w in report.warnings]
    assert len(found) == len(expected)
    for fragment, message in zip(expected, found, strict=True):
        assert message.startswith(fragment)


def test_lint_collects_all_errors_without_raising() -> None:
    """A broken contract gives a report with every error (no exception) and no contract."""
    report = lint_contract(MANY_ERRORS)
    assert not report.ok and report.contract is None
    assert [e.line for e in report.errors] == [12, 16, 21]
    assert all(e.level == "error" for e in report.errors)


def test_lint_runs_the_checks_own_settings_parsers() -> None:
    """Drift/parity settings that their checks refuse are lint errors on their customProperty line (the
    schema object's entry for parity, the contract's for drift)."""
    path = FIXTURES / "lint" / "bad_settings.odcs.yaml"
    report = lint_contract(path)
    assert not report.ok and report.contract is None
    assert [(e.line, e.field) for e in report.errors] == [
        (11, "customProperties.parity.tolerance.abs"),
        (14, "customProperties.drift.bogus"),
    ]
    assert lint_contract(FIXTURES / "good" / "all_features.odcs.yaml").errors == ()


def test_lint_report_survives_json() -> None:
    """The JSON form round-trips through json and carries the same facts as the report."""
    report = lint_contract(WARNINGS)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is True and data["contract"]["id"] == "lint-warnings"
    assert [w["line"] for w in data["warnings"]] == [w.line for w in report.warnings]
    assert isinstance(report, LintReport)


def test_cli_lint_clean_contract_exits_zero() -> None:
    """`lint` on the example prints a table with the warning and an ok line, and exits 0."""
    result = runner.invoke(app, ["lint", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "is_fraud" in result.output and "34 rules" in result.output and "ok" in result.output


def test_cli_lint_broken_contract_exits_one_and_names_the_fields() -> None:
    """`lint` on a broken contract lists every error's line and field and exits 1."""
    result = runner.invoke(app, ["lint", str(MANY_ERRORS)], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    for field in ("logicalTypeOptions.minimum", "logicalTypeOptions.pattern", "customProperties[0].value"):
        assert field in result.output
    assert "invalid" in result.output and "3 error(s), 0 warning(s)" in result.output


def test_cli_lint_json() -> None:
    """`lint --json` prints the report as JSON, with errors carrying line, field, expected and got."""
    result = runner.invoke(app, ["lint", str(MANY_ERRORS), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False and data["contract"] is None
    first = data["errors"][0]
    assert (first["line"], first["field"], first["expected"], first["got"]) == (
        12, "schema[0].properties[0].logicalTypeOptions.minimum", "a number", "'low'"
    )
    clean = runner.invoke(app, ["lint", str(EXAMPLE), "--json"])
    assert clean.exit_code == 0 and json.loads(clean.output)["contract"]["rules"][0] == "transaction_id.type"


def test_cli_lint_table_option_and_missing_file(tmp_path: Path) -> None:
    """Without `--table` every table is linted; `--table` selects one; a missing path is a usage error (exit 2)."""
    contract = tmp_path / "two.odcs.yaml"
    contract.write_text(
        "apiVersion: v3.1.0\nkind: DataContract\nid: two\nversion: 1.0.0\nschema:\n"
        "  - {name: a, properties: [{name: x, logicalType: string, required: true}]}\n"
        "  - {name: b, properties: [{name: y, logicalType: integer, unique: true}]}\n"
    )
    every = runner.invoke(app, ["lint", str(contract), "--json"])
    assert every.exit_code == 0 and [c["rules"] for c in json.loads(every.output)["contracts"]] == [
        ["x.type", "x.not_null"], ["y.type", "y.unique"]]
    assert json.loads(every.output)["contract"] is None  # no single table to name
    text = runner.invoke(app, ["lint", str(contract)])
    assert text.exit_code == 0 and "2 tables (a: 2 rules, b: 2 rules)" in text.output
    chosen = runner.invoke(app, ["lint", str(contract), "--table", "b", "--json"])
    assert chosen.exit_code == 0 and json.loads(chosen.output)["contract"]["rules"] == ["y.type", "y.unique"]
    assert runner.invoke(app, ["lint", str(tmp_path / "missing.odcs.yaml")]).exit_code == 2


def test_contract_commands_are_registered_on_the_root_cli() -> None:
    """`guardrails contract lint --help` is reachable from the root command."""
    result = runner.invoke(root_app, ["contract", "lint", "--help"])
    assert result.exit_code == 0 and "--json" in result.output
