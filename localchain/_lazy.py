"""Lazy package attributes: heavy modules load on first use of a public name."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_getattr(package: str, table: dict[str, str]) -> Callable[[str], Any]:
    """Build a module ``__getattr__`` that imports ``table[name]`` on first access.

    Args:
        package: The package's ``__name__``, for the error message.
        table: Public name -> module that defines it.
    """

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            msg = f"module {package!r} has no attribute {name!r}"
            raise AttributeError(msg)
        return getattr(importlib.import_module(module), name)

    return __getattr__
