"""One message for an adapter imported without its extra: which extra to install, in one line."""

from __future__ import annotations

import importlib
from types import ModuleType

DISTRIBUTION = "pipeline-guardrails"


def require_extra(module: str, extra: str, feature: str) -> ModuleType:
    """Import `module`, or raise ImportError naming the extra that installs it.

    Only a missing `module` itself is translated: an ImportError from inside an installed package (a broken
    dependency of it) propagates unchanged, so the message never blames an extra that is installed.

    Args:
        module: The third-party module the feature needs, e.g. ``"dagster"``.
        extra: The extra of `DISTRIBUTION` that installs it, e.g. ``"dagster"``.
        feature: What the user tried to use, e.g. ``"guardrails.dagster"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        if error.name is None or error.name.split(".")[0] != module.split(".")[0]:
            raise
        raise ImportError(
            f"{feature} needs the [{extra}] extra: pip install '{DISTRIBUTION}[{extra}]'", name=error.name
        ) from error
