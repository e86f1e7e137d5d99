"""The core stands alone: it imports with Dagster, Airflow and every other extra unavailable, and exports what it
promises; an adapter imported without its extra says which extra to install."""

import subprocess
import sys
from pathlib import Path

import pytest

CORE_MODULES = [
    "guardrails",
    "guardrails.outcome",
    "guardrails.contract",
    "guardrails.validation",
    "guardrails.quarantine",
    "guardrails.profile",
    "guardrails.checks",
    "guardrails.models",
    "guardrails.incidents",
    "guardrails.evidence",
    "guardrails.history",
    "guardrails.engines",  # parses table URIs without ibis; the executors import it lazily
]

# The top-level modules the extras in pyproject.toml install ([dagster], [airflow], [mlflow], [gx], [pandera], [ml],
# [duckdb], [spark]); the core must import with every one of them missing.
EXTRA_MODULES = (
    "dagster",
    "dagster_webserver",
    "dagster_postgres",
    "sqlalchemy",
    "airflow",
    "mlflow",
    "great_expectations",
    "pandera",
    "sklearn",
    "pandas",
    "duckdb",
    "pyspark",
    "ibis",
    "sqlglot",
    "psycopg",
)

BLOCK_EXTRAS = """
import sys
for name in {extras!r}:
    sys.modules[name] = None  # any import of it now raises ImportError
import importlib
for module in {modules!r}:
    importlib.import_module(module)
leaked = sorted(m for m in sys.modules if m.split(".")[0] in {extras!r} and sys.modules[m] is not None)
assert not leaked, leaked
"""

ADAPTER_WITHOUT_EXTRA = """
import sys
sys.modules[{blocked!r}] = None
try:
    {statement}
except ImportError as error:
    print(error)
else:
    raise SystemExit("imported without its extra")
"""


def test_core_imports_without_any_extra() -> None:
    """Every core module imports in a fresh interpreter where no module an extra installs can be imported."""
    script = BLOCK_EXTRAS.format(extras=EXTRA_MODULES, modules=CORE_MODULES)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize(
    ("blocked", "statement", "extra"),
    [
        ("dagster", "import guardrails.dagster", "dagster"),
        ("airflow", "from guardrails.airflow import GuardedOperator", "airflow"),
        ("mlflow", "from guardrails.models import MlflowModelRegistry; MlflowModelRegistry('file:///x')", "mlflow"),
        ("great_expectations", "from guardrails.validation import validate_expectation_suite; "
         "validate_expectation_suite({'name': 's', 'expectations': []}, {'x': [1]})", "gx"),
        ("pandera", "from guardrails.validation import to_pandera_schema; to_pandera_schema(None)", "pandera"),
        ("ibis", "from guardrails.engines import audit_table", "engines"),
    ],
)
def test_adapter_without_its_extra_names_the_extra(blocked: str, statement: str, extra: str) -> None:
    """Using an adapter whose dependency is missing fails with one line naming the extra to install."""
    script = ADAPTER_WITHOUT_EXTRA.format(blocked=blocked, statement=statement)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith(f"needs the [{extra}] extra: pip install 'pipeline-guardrails[{extra}]'")
    assert result.stdout.count("\n") == 1


def test_missing_dependency_inside_an_installed_extra_is_not_blamed_on_the_extra(tmp_path: Path) -> None:
    """An ImportError raised inside an installed package propagates as it is, not as "install the extra"."""
    (tmp_path / "half_installed.py").write_text("import not_a_real_module_anywhere\n")
    script = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n"
        "from guardrails._extras import require_extra\n"
        "try:\n    require_extra('half_installed', 'x', 'feature')\n"
        "except ImportError as error:\n    print(error.name, '|', error)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "not_a_real_module_anywhere | No module named 'not_a_real_module_anywhere'"


@pytest.mark.parametrize("module", CORE_MODULES)
def test_public_names_exist(module: str) -> None:
    """Every name a module lists in __all__ is really importable from it (the curated API has no dangling names)."""
    imported = __import__(module, fromlist=["*"])
    missing = [name for name in getattr(imported, "__all__", ()) if not hasattr(imported, name)]
    assert not missing
