"""Shared fixtures: tiny checkpoints built once per session, and an offline hub."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

from tests.fixtures.tiny_models import build_tiny_decoder, build_tiny_t5  # noqa: E402


@pytest.fixture(scope="session")
def tiny_decoder_path(tmp_path_factory):
    """A tiny random Llama checkpoint directory."""
    return build_tiny_decoder(tmp_path_factory.mktemp("tiny-decoder"))


@pytest.fixture(scope="session")
def tiny_t5_path(tmp_path_factory):
    """A tiny random T5 checkpoint directory."""
    return build_tiny_t5(tmp_path_factory.mktemp("tiny-t5"))


@pytest.fixture(autouse=True)
def _block_named_models_in_fast_tests(request, monkeypatch):
    """Fast tests must not load a real named model: those belong to tests marked slow."""
    if request.node.get_closest_marker("slow") is None:
        monkeypatch.setenv("LOCALCHAIN_BLOCK_NAMED_MODELS", "1")
