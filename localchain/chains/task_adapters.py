"""Task adapters: the LoRA a chain uses by default on the model it was trained for.

``PALChain`` and ``TripleExtractionChain`` ship with LoRA adapters for the embedded
SmolLM2-135M-Instruct (package data under ``localchain/adapters/``). A chain built on a
``ChatLocal`` for that base calls it with its task adapter, per call, through the model
layer's ``adapter=``: one loaded model serves plain chat, PAL and triples at once.

The ``adapter`` option of each chain says which:

- ``"auto"`` (the default): the chain's shipped adapter when the model is a ``ChatLocal`` (or
  ``LocalLLM``) on the base the adapter records in its ``localchain_adapter.json`` and has no
  adapter of its own (an adapter set on the model always wins); otherwise the plain model.
  Not on the llama.cpp engine, which serves no peft adapter (the CPU int8 path takes LoRA).
  The rule is ``LocalModelSettings.shipped_adapter``, the one ``ChatLocal(tool_adapter=
  "auto")`` uses too.
- a name or directory: that adapter (the model must be a localchain model).
- ``None``: never an adapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseLanguageModel

from localchain.errors import ConfigError

AUTO = "auto"
"""Use the chain's shipped task adapter where it fits the model."""


@dataclass(frozen=True)
class ChainModel:
    """The model a chain calls, and the task adapter those calls carry (None: none)."""

    model: BaseLanguageModel
    adapter: str | None


def pick_task_adapter(model: BaseLanguageModel, setting: str | None, default: str) -> ChainModel:
    """The model a chain should call for ``setting`` ("auto", None, or an adapter).

    Args:
        model: The chain's model.
        setting: The chain's ``adapter`` option.
        default: The name of the chain's shipped adapter (e.g. ``"pal-smollm2"``).

    Raises:
        ConfigError: An explicit adapter was asked for on a model that is not a localchain
            model (other chat models have no per-call adapters).
    """
    from localchain.models.local_model import LocalModelSettings

    if setting is None:
        return ChainModel(model, None)
    if not isinstance(model, LocalModelSettings):
        if setting == AUTO:
            return ChainModel(model, None)
        msg = (
            f"adapter={setting!r} needs a localchain model (ChatLocal or LocalLLM), but the "
            f"chain's model is a {type(model).__name__}. Pass adapter=None, or load the adapter "
            "into your model yourself."
        )
        raise ConfigError(msg)
    if setting != AUTO:
        return ChainModel(_with_adapter(model, setting), setting)
    if model.adapter is not None or model.shipped_adapter(default) is None:
        return ChainModel(model, None)
    return ChainModel(_with_adapter(model, default), default)


def shipped_adapter_fits(model: Any, name: str) -> bool:
    """Whether the shipped adapter ``name`` was trained on the base ``model`` runs.

    The base is recognised by its identity: the registry name the adapter's metadata records
    against the name ``model.model`` resolves to (a path to the same files counts too).
    """
    from localchain.models.adapters import shipped_adapter_fits as fits

    return fits(model.model, name)


def _with_adapter(model: Any, adapter: str) -> Any:
    # A shallow copy shares the loaded weights (and the scheduler); only the default adapter
    # of its calls differs.
    return model.model_copy(update={"adapter": adapter})


__all__ = ["AUTO", "ChainModel", "pick_task_adapter", "shipped_adapter_fits"]
