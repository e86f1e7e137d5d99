"""Fixtures for the incident tests: the example pipeline's real history (see `_history`)."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest

from definitions.demo import end_of, fixed_contract
from definitions.definitions import build_definitions
from definitions.settings import REPOSITORY_ROOT
from guardrails.quarantine import QuarantineStore
from tests.incidents._webhook import Webhook, serve_webhook
from tests.incidents._history import BAD_1, BAD_2, GOOD_1, GOOD_2, History, release_batch, run_day, settings_for


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    home = tmp_path_factory.mktemp("home")
    settings = settings_for(home)
    defs = build_definitions(settings)
    store = QuarantineStore(settings.quarantine_dir)
    with dg.instance_for_test(temp_dir=str(tmp_path_factory.mktemp("dagster_home"))) as instance:
        results = {
            GOOD_1: run_day(defs, instance, GOOD_1, whole_job=False),
            BAD_1: run_day(defs, instance, BAD_1, "unknown_categories", whole_job=True),
            BAD_2: run_day(defs, instance, BAD_2, "unknown_categories", whole_job=True),
        }
        quarantined = tuple(m.batch_id for m in store.list())
        contract = fixed_contract(REPOSITORY_ROOT / "expectations" / "transactions.odcs.yaml",
                                  home / "contracts" / "transactions.odcs.yaml")
        by_day = {m.outcome.as_of: m.batch_id for m in store.list()}
        for day in (BAD_1, BAD_2):
            release_batch(instance, store, by_day[end_of(day)], contract, day)
        results[GOOD_2] = run_day(defs, instance, GOOD_2, whole_job=False)
        yield History(instance=instance, settings=settings, store=store, results=results,
                      quarantined=quarantined, fixed_contract=contract)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with serve_webhook() as hook:
        yield hook
