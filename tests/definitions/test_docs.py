"""The worked examples in the example pipeline's docstrings run and print what they claim."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from definitions import data, features, model


@pytest.mark.parametrize("module", [data, features, model], ids=lambda m: m.__name__)
def test_docstring_examples_run(module: ModuleType) -> None:
    """Every `>>>` example in the module's docstrings passes."""
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
