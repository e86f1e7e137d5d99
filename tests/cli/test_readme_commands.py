"""Every command README.md shows in a ``bash`` block works as printed, against a demo built once by `make demo`.

The README is parsed when the tests are collected, so a command anyone adds is tested too. Commands are run by
bash, from a project directory that looks like the repository after `make demo`: ``.demo/`` (the demo's home,
built here by the README's own `make demo`), ``expectations/``, and ``batch.parquet`` (a landed day, standing for
"your batch"). The shell is one where the demo's instance and MLflow store are the configured ones
(``DAGSTER_HOME``, ``MLFLOW_TRACKING_URI``), as `make ui` sets them; commands that set them inline override that.

Not run: `make ui`, `make bench`, `make test` (a server, minutes of benchmarks, the suite itself), other make
targets (they change the checkout), and lines with placeholders (``<batch>``, ``...``, ``[--optional]``,
``a|b`` alternatives, ``UPPER_CASE`` arguments). Working means: exit 0 or 1 (a verdict; 2 is "could not run"
or a usage error), no traceback, and no ``guardrails:`` error or warning on stderr.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
README = REPOSITORY / "README.md"
DEMO_DAY = "2026-11-02"  # a good landed day: the "batch.parquet" the README's validate commands read
NOT_RUN = {"make ui": "starts a server", "make bench": "runs minutes of benchmarks", "make test": "is the test suite"}
PLACEHOLDER = re.compile(r"<[^>]+>|\.\.\.|\[[^\]]*\]")
ARGUMENT_NAME = re.compile(r"^[A-Z][A-Z0-9_]+$")
SAFE_MAKE_TARGETS = {"demo"}

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("readme_demo")]


@dataclass(frozen=True)
class ReadmeCommand:
    """One command line of a ``bash`` block, with the README line it is on."""

    line: int
    text: str


def readme_commands(text: str) -> list[ReadmeCommand]:
    """The command lines of the ``bash`` blocks in `text` (comments and blank lines dropped), in order."""
    commands: list[ReadmeCommand] = []
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = stripped[3:].strip() if fence is None else None
            continue
        if fence == "bash" and stripped and not stripped.startswith("#"):
            commands.append(ReadmeCommand(number, stripped))
    return commands


def why_not_run(command: str) -> str | None:
    """Why a README command is not run here, or None when it is."""
    words = shlex.split(command, comments=True)
    program = " ".join(words[:2])
    if program in NOT_RUN:
        return f"`{program}` {NOT_RUN[program]}"
    if words[0] == "make" and not set(words[1:]) <= SAFE_MAKE_TARGETS:
        return "a make target other than demo changes the checkout"
    if PLACEHOLDER.search(" ".join(words)) or any("|" in w and w != "|" for w in words):
        return "it has placeholders"
    if any(ARGUMENT_NAME.match(w) for w in words):
        return "it names an argument (UPPER_CASE) instead of a value"
    return None


def without_comment(command: str) -> str:
    """The command as bash reads it, comment dropped: what tells two README lines apart."""
    return " ".join(shlex.split(command, comments=True))


def unique_commands(commands: list[ReadmeCommand]) -> list[str]:
    """Each command once (the README shows `make demo` twice), in the README's order."""
    first: dict[str, str] = {}
    for command in commands:
        first.setdefault(without_comment(command.text), command.text)
    return list(first.values())


COMMANDS = unique_commands(readme_commands(README.read_text()))


@dataclass(frozen=True)
class DemoProject:
    """A directory laid out like the repository after `make demo`, and the shell environment to run commands in."""

    root: Path
    env: dict[str, str]
    make_demo: subprocess.CompletedProcess[str]


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> DemoProject:
    """Build the demo once with the README's `make demo` (this interpreter as the venv: nothing is installed)."""
    root = tmp_path_factory.mktemp("readme_project")
    home = root / ".demo"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GUARDRAILS_", "MLFLOW_", "DAGSTER_")) and k != "COLUMNS"}
    venv_bin = Path(sys.executable).parent
    env["PATH"] = f"{venv_bin}{os.pathsep}{env.get('PATH', '')}"
    demo = subprocess.run(
        ["make", "-C", str(REPOSITORY), "-o", ".venv/.installed", f"BIN={venv_bin}", "demo"],
        env={**env, "GUARDRAILS_HOME": str(home)}, capture_output=True, text=True, timeout=900,
    )
    (root / "expectations").symlink_to(REPOSITORY / "expectations", target_is_directory=True)
    landed = home / "landing" / "transactions" / f"{DEMO_DAY}.parquet"
    if landed.exists():  # absent only when the demo failed, which the `make demo` test reports
        shutil.copy(landed, root / "batch.parquet")
    shell = {**env, "GUARDRAILS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster_home"),
             "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}"}
    return DemoProject(root=root, env=shell, make_demo=demo)


def run(project: DemoProject, command: str) -> subprocess.CompletedProcess[str]:
    """Run one README command with bash, in the project directory."""
    return subprocess.run(["bash", "-c", command], cwd=project.root, env=project.env, capture_output=True,
                          text=True, timeout=600)


def test_readme_shows_the_demo_commands() -> None:
    """The parser finds the demo's commands, and knows which lines it must leave alone."""
    assert "make demo" in [without_comment(c) for c in COMMANDS]
    assert "DAGSTER_HOME=.demo/dagster_home guardrails quarantine list" in [without_comment(c) for c in COMMANDS]
    assert why_not_run("make ui      # the UI") is not None
    assert why_not_run("guardrails quarantine show BATCH_ID [--json]") is not None
    assert why_not_run("guardrails models pin|unpin fraud_detector ...") is not None
    assert why_not_run("DAGSTER_HOME=.demo/dagster_home guardrails incident   # the report") is None


@pytest.mark.parametrize("command", [pytest.param(c, id=without_comment(c)) for c in COMMANDS])
def test_readme_command_works_as_printed(command: str, demo_project: DemoProject) -> None:
    """The command exits 0 or 1 with no traceback and no error or warning line from guardrails."""
    reason = why_not_run(command)
    if reason is not None:
        pytest.skip(f"not run: {reason}")
    done = demo_project.make_demo if without_comment(command) == "make demo" else run(demo_project, command)
    shown = f"$ {command}\nexit {done.returncode}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
    assert done.returncode in (0, 1), shown
    assert "Traceback" not in done.stdout + done.stderr, shown
    assert not [line for line in done.stderr.splitlines() if line.startswith("guardrails:")], shown


def test_demo_incident_names_the_quarantined_day(demo_project: DemoProject) -> None:
    """On the demo's instance, `guardrails incident` without flags finds the batch the bad day quarantined."""
    done = run(demo_project, "DAGSTER_HOME=.demo/dagster_home guardrails incident --asset clean_transactions")
    assert done.returncode == 0, done.stderr  # the incident was resolved by the release
    assert "`clean_transactions.2026-11-03`" in done.stdout
    assert "Batches quarantined: 1 (5,000 rows)" in done.stdout
