"""Modules loaded when first used, so `import riskshare` and the agreement core start without the
solver (PuLP) or other heavy libraries they never touch.

`pulp = lazy_module("pulp")` gives an object that imports PuLP on the first attribute looked up
on it and then behaves as the module; until then PuLP is not in `sys.modules`.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType


class LazyModule:
    """A stand-in for the module `name`, imported at its first use."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str):
        if self._module is None:
            self._module = import_module(self._name)
        return getattr(self._module, attr)

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded yet"
        return f"<lazy module {self._name!r} ({state})>"


def lazy_module(name: str) -> LazyModule:
    """A stand-in for the module `name` that imports it at the first attribute looked up."""
    return LazyModule(name)


__all__ = ["LazyModule", "lazy_module"]
