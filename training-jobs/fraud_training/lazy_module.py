"""A module imported on first use, for definitions shared with the scoring service.

The feature definitions use pandas for whole frames (training, monitoring) and plain numpy for the
few rows of a request. The serving image does not install pandas, so the shared modules name it
through :class:`LazyModule`: importing them costs nothing, and only the frame functions import
pandas when first called.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for module ``name`` and imports it on the first attribute read."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)
