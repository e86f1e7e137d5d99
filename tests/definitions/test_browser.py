"""What a person sees in the Dagster UI after a bad day: the real webserver, read in a real Chromium.

The bad day (2026-11-03, merchant category ``crypto``) runs in-process on a fresh demo instance, the code
location's incident sensor ticks once (as the daemon would), then `dagster-webserver` serves that instance and
playwright drives Debian's ``chromium`` through the asset's checks and events. Screenshots go to
``$GUARDRAILS_ARTIFACTS`` (else a temporary directory printed in the test output): look at them.

Without a browser (playwright's package or a Chromium binary missing) the UI test is skipped with the reason,
unless ``GUARDRAILS_REQUIRE_BROWSER=1`` (CI), where it fails.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from definitions.data import Defect, defect_rows
from definitions.definitions import INCIDENT_SENSOR, build_definitions
from guardrails.dagster.incidents import INCIDENT_REPORT_KEY
from tests.definitions.conftest import settings_for
from tests.definitions.test_webserver_e2e import Webserver

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("webserver")]

BAD_DAY = "2026-11-03"
ROWS = 1_000
DEFECT = Defect.UNKNOWN_CATEGORIES
BATCH_ID = f"clean_transactions.{BAD_DAY}"
REQUIRE_BROWSER_ENV = "GUARDRAILS_REQUIRE_BROWSER"
ARTIFACTS_ENV = "GUARDRAILS_ARTIFACTS"
CHROMIUM = ("/usr/bin/chromium", "chromium", "chromium-browser")
"""Debian's package installs /usr/bin/chromium; playwright cannot download its own browser here."""
INSTANCE_CONFIG = (
    "run_coordinator:\n  module: dagster._core.run_coordinator\n  class: DefaultRunCoordinator\n"
    "telemetry:\n  enabled: false\n"
)
DEADLINE_SECONDS = 90
"""Server start, code location load and every page, together."""


def chromium_path() -> str | None:
    return next((found for name in CHROMIUM if (found := shutil.which(name))), None)


def browser_problem() -> str | None:
    """Why no browser can be driven here, or None when playwright and a Chromium binary are both present."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright's Python package is not installed (uv pip install -e '.[dev]')"
    if chromium_path() is None:
        return f"no Chromium binary among {', '.join(CHROMIUM)} (apt-get install -y chromium)"
    return None


@dataclass(frozen=True, slots=True)
class BadDay:
    """A demo home whose instance holds the quarantined bad day and the incident report the sensor attached."""

    dagster_home: Path
    home: Path
    run_id: str


@pytest.fixture(scope="module")
def bad_day(tmp_path_factory: pytest.TempPathFactory) -> BadDay:
    root = tmp_path_factory.mktemp("ui")
    dagster_home, home = root / "dagster_home", root / "home"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text(INSTANCE_CONFIG)
    defs = build_definitions(settings_for(home))
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        result = defs.resolve_job_def("daily_pipeline").execute_in_process(
            instance=instance,
            partition_key=BAD_DAY,
            run_config={"ops": {"raw_transactions": {"config": {"defect": DEFECT.value, "rows": ROWS}}}},
            raise_on_error=False,
        )
        assert not result.success
        sensor = defs.resolve_sensor_def(INCIDENT_SENSOR)
        sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs))
    return BadDay(dagster_home=dagster_home, home=home, run_id=result.run_id)


@pytest.fixture(scope="module")
def webserver(bad_day: BadDay) -> Iterator[Webserver]:
    server = Webserver(bad_day.dagster_home, bad_day.home, bad_day.dagster_home.parent / "webserver.log")
    try:
        server.wait_until_loaded(time.monotonic() + DEADLINE_SECONDS)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def chromium() -> str:
    problem = browser_problem()
    if problem is not None:
        if os.environ.get(REQUIRE_BROWSER_ENV) == "1":
            pytest.fail(f"{REQUIRE_BROWSER_ENV}=1 but {problem}")
        pytest.skip(problem)
    return str(chromium_path())


@pytest.fixture
def screenshots(tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]) -> Path:
    directory = Path(os.environ[ARTIFACTS_ENV]) / "screenshots" if os.environ.get(ARTIFACTS_ENV) else (
        tmp_path_factory.mktemp("screenshots"))
    directory.mkdir(parents=True, exist_ok=True)
    with capsys.disabled():
        print(f"\nUI screenshots: {directory}")
    return directory


def test_incident_sensor_attaches_the_report_to_the_guarded_asset(bad_day: BadDay) -> None:
    """The code location's incident sensor records the bad day's incident report on `clean_transactions`."""
    with dg.DagsterInstance.from_config(str(bad_day.dagster_home)) as instance:
        observations = [r.event_log_entry.asset_observation
                        for r in instance.fetch_observations(dg.AssetKey("clean_transactions"), limit=10).records]
    [report] = [o.metadata[INCIDENT_REPORT_KEY].value for o in observations if INCIDENT_REPORT_KEY in o.metadata]
    assert "merchant_category.allowed_values" in report and f"release batch {BATCH_ID}" in report


def test_a_person_sees_the_failed_partition_its_rules_the_quarantine_and_the_incident(
    webserver: Webserver, bad_day: BadDay, chromium: str, screenshots: Path
) -> None:
    """In the UI: the contract check failed for 2026-11-03 with its rule table and a ``crypto`` sample, the
    quarantine observation and the incident report are on the asset, and the run page shows the failure."""
    from playwright.sync_api import expect, sync_playwright

    base = f"http://127.0.0.1:{webserver.port}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])  # root in CI
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(30_000)
        expect.set_options(timeout=30_000)
        # A fresh instance greets the first visitor with a newsletter dialog over the page: dismiss it if it shows.
        skip = page.get_by_role("button", name="Skip")
        page.add_locator_handler(skip, lambda: skip.click())

        page.goto(f"{base}/assets/clean_transactions?view=checks&checkDetail=transactions_contract")
        expect(page.get_by_text("transactions_contract", exact=True).first).to_be_visible()
        page.get_by_text("Execution history", exact=True).click()
        history = page.locator("table").first
        expect(history.get_by_role("columnheader", name="Partition")).to_be_visible()
        failed = history.locator("tr", has_text=BAD_DAY)
        expect(failed).to_contain_text("Failed")
        expect(failed).to_contain_text(f"merchant_category.allowed_values ({defect_rows(ROWS, DEFECT)} rows)")
        page.screenshot(path=screenshots / "1-contract-check-history.png", full_page=True)

        failed.get_by_role("button").click()  # the evaluation's metadata
        metadata = page.get_by_role("dialog")
        expect(metadata.get_by_role("cell", name="crypto", exact=True).first).to_be_visible()
        expect(metadata).to_contain_text(BATCH_ID)
        page.screenshot(path=screenshots / "2-failed-evaluation-sample.png", full_page=True)
        failed_rule = metadata.get_by_role("cell", name="merchant_category.allowed_values", exact=True)
        failed_rule.scroll_into_view_if_needed()  # the rules table sits below the sample in the dialog
        expect(failed_rule).to_be_in_viewport()
        page.screenshot(path=screenshots / "3-failed-evaluation-rules.png", full_page=True)
        page.keyboard.press("Escape")

        page.goto(f"{base}/assets/clean_transactions?view=events")
        expect(page.get_by_text("Incident inc-").first).to_be_visible()
        page.get_by_text("[Show Markdown]").click()
        report = page.get_by_role("dialog")
        expect(report).to_contain_text("transactions_contract failing on clean_transactions")
        expect(report.get_by_text("Checks that fired", exact=True)).to_be_visible()
        expect(report).to_contain_text(f"release batch {BATCH_ID}")
        page.screenshot(path=screenshots / "4-incident-report.png", full_page=True)
        page.keyboard.press("Escape")

        page.get_by_text(BAD_DAY, exact=True).first.click()  # the partition's event: the quarantine observation
        expect(page.get_by_text(f"Quarantined batch {BATCH_ID}: {ROWS} rows held back")).to_be_visible()
        page.screenshot(path=screenshots / "5-quarantine-observation.png", full_page=True)

        page.goto(f"{base}/runs/{bad_day.run_id}?logs=type%3ASTEP_FAILURE")
        expect(page.get_by_text("clean_transactions: nothing published").first).to_be_visible()
        page.screenshot(path=screenshots / "6-run-failure.png", full_page=True)
        browser.close()
