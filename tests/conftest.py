"""Shared fixtures: tiny checkpoints built once per session, and an offline hub."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

from tests.fixtures.tiny_models import build_tiny_decoder, build_tiny_t5  # noqa: E402

# Property-based tests: no per-example deadline (the first example may load a model), and in
# CI the same examples every run, so a failure there is reproducible and never flaky.
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


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
