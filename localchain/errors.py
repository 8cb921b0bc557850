"""Every error localchain raises on purpose, under one root.

Each error also subclasses the builtin (or langchain-core) exception that callers would
naturally catch, so ``except ValueError`` or ``except ContextOverflowError`` keep working.
"""

from __future__ import annotations

try:  # langchain-core >= 1.1 defines a context-overflow exception; keep working without it.
    from langchain_core.exceptions import ContextOverflowError as _ContextOverflowBase
except ImportError:  # pragma: no cover - older langchain-core

    class _ContextOverflowBase(ValueError):  # type: ignore[no-redef]
        """Stand-in for langchain-core's ContextOverflowError."""


class LocalchainError(Exception):
    """Base class for every error localchain raises on purpose."""


class ConfigError(LocalchainError, ValueError):
    """A setting is invalid or conflicts with another."""


class ModelNotFoundError(LocalchainError, LookupError):
    """No model by that name or path."""


class MissingDependencyError(LocalchainError, ImportError):
    """An optional extra is not installed."""


class UnsupportedOnDeviceError(LocalchainError):
    """The device cannot do what was asked (e.g. nf4 on CPU)."""


class AdapterError(LocalchainError):
    """A LoRA adapter is missing, clashes with another, or fits another base."""


class ContextLengthError(LocalchainError, _ContextOverflowBase):
    """The prompt does not fit the model's context window."""


class SandboxError(LocalchainError):
    """A program was refused, timed out, or hit a limit."""


__all__ = [
    "AdapterError",
    "ConfigError",
    "ContextLengthError",
    "LocalchainError",
    "MissingDependencyError",
    "ModelNotFoundError",
    "SandboxError",
    "UnsupportedOnDeviceError",
]
