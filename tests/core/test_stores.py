"""Each concrete store satisfies its protocol in `guardrails.stores`: same verbs, same parameters, same defaults."""

from __future__ import annotations

import inspect
from pathlib import Path

import polars as pl
import pytest

from guardrails import stores
from guardrails.profile import ProfileStore
from guardrails.incidents import IncidentStateStore
from guardrails.models import MlflowModelRegistry
from guardrails.quarantine import QuarantineStore


def _protocol_methods(protocol: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(member) for name, member in vars(protocol).items()
            if inspect.isfunction(member) and not name.startswith("_")}


def assert_implements(concrete: type, protocol: type) -> None:
    """Every protocol method exists on `concrete` and accepts the same call: each parameter with its kind and
    (where the protocol states one) its default; anything extra on the concrete side must be optional."""
    for name, wanted in _protocol_methods(protocol).items():
        got = inspect.signature(getattr(concrete, name))
        for parameter in wanted.parameters.values():
            assert parameter.name in got.parameters, f"{concrete.__name__}.{name} lacks {parameter.name}"
            actual = got.parameters[parameter.name]
            assert actual.kind == parameter.kind, f"{concrete.__name__}.{name}({parameter.name}): kind differs"
            if parameter.default is not inspect.Parameter.empty and parameter.default is not Ellipsis:
                assert actual.default == parameter.default, f"{concrete.__name__}.{name}({parameter.name}): default"
            if parameter.default is not inspect.Parameter.empty:
                assert actual.default is not inspect.Parameter.empty, f"{concrete.__name__}.{name}: required"
        extra = [p for n, p in got.parameters.items() if n not in wanted.parameters
                 and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        assert all(p.default is not inspect.Parameter.empty for p in extra), f"{concrete.__name__}.{name}: {extra}"


@pytest.mark.parametrize(("concrete", "protocol"), [
    (QuarantineStore, stores.QuarantineRepository),
    (ProfileStore, stores.ReferenceProfileRepository),
    (IncidentStateStore, stores.IncidentStateRepository),
    (MlflowModelRegistry, stores.ModelRegistry),
])
def test_concrete_store_implements_its_protocol(concrete: type, protocol: type) -> None:
    """The store class has every verb of its protocol with a compatible signature (runtime check included)."""
    assert issubclass(concrete, protocol)
    assert_implements(concrete, protocol)


def test_protocol_check_catches_a_store_missing_a_parameter() -> None:
    """The signature check is not vacuous: a store whose `purge` lost its argument is refused."""

    class Broken(QuarantineStore):
        def purge(self) -> None:  # type: ignore[override]
            raise NotImplementedError

    with pytest.raises(AssertionError, match="purge lacks batch_id"):
        assert_implements(Broken, stores.QuarantineRepository)


def test_real_stores_are_instances_of_their_protocols(tmp_path: Path) -> None:
    """Live instances pass the runtime check, and the reference store's merged answer has a profile and batches."""
    assert isinstance(QuarantineStore(tmp_path / "q"), stores.QuarantineRepository)
    assert isinstance(IncidentStateStore(tmp_path / "s"), stores.IncidentStateRepository)
    reference: stores.ReferenceProfileRepository = ProfileStore(tmp_path / "ref")
    assert isinstance(reference, stores.ReferenceProfileRepository)
    reference.accept("tx", pl.DataFrame({"amount": [1.0, 2.0, 3.0]}), batch_name="2026-01-01")
    merged = reference.reference("tx")
    assert merged is not None and merged.batches == ("2026-01-01",) and merged.profile.rows == 3
    assert not isinstance(object(), stores.IncidentStateRepository)
