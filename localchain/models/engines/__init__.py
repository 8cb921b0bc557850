"""Inference engines behind ChatLocal and LocalLLM: transformers (default) and llama.cpp."""

from localchain.models.engines.base import Engine, get_engine

__all__ = ["Engine", "get_engine"]
