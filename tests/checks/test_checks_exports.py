"""The public names of `guardrails.checks` and `guardrails.profile` are curated and importable."""

import guardrails.checks
import guardrails.profile


def test_every_exported_name_exists_and_is_listed_once() -> None:
    """Each name in `__all__` resolves, and no name is listed twice (the public API is deliberate)."""
    for module in (guardrails.checks, guardrails.profile):
        assert len(module.__all__) == len(set(module.__all__))
        for name in module.__all__:
            assert getattr(module, name) is not None, name


def test_core_checks_do_not_import_orchestrators() -> None:
    """No module of the pure checks or profiles imports Dagster, Airflow or MLflow (dependencies point inward)."""
    import ast
    from pathlib import Path

    sources = [*Path(guardrails.profile.__file__).parent.glob("*.py"), *Path(guardrails.checks.__file__).parent.glob("*.py")]
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in ("dagster", "airflow", "mlflow"), f"{source.name} imports {name}"


def test_importing_one_check_leaves_the_others_unloaded() -> None:
    """`from guardrails.checks import assess_canary` loads the canary alone, not scipy.stats or the drift check."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from guardrails.checks import assess_canary\n"
        "loaded = [m for m in ('scipy.stats', 'guardrails.checks.drift', 'guardrails.checks.fairness',"
        " 'guardrails.checks.performance') if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == ""
