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
    """The pure checks never import Dagster, Airflow or the MLflow client (dependencies point inward)."""
    import subprocess
    import sys

    code = ("import sys, guardrails.checks, guardrails.profile; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'airflow', 'mlflow')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
