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
