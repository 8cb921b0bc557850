"""Fixtures for the model-layer tests: fresh tiny models that a test may change."""

import pytest

from localchain.models.loading import clear_model_cache, load_model


@pytest.fixture
def decoder_lm(tiny_decoder_path):
    """A fresh decoder LoadedModel that no other test shares (adapters mutate it)."""
    clear_model_cache()
    lm = load_model(str(tiny_decoder_path), device="cpu")
    yield lm
    clear_model_cache()


@pytest.fixture
def t5_lm(tiny_t5_path):
    """A fresh T5 LoadedModel that no other test shares."""
    clear_model_cache()
    lm = load_model(str(tiny_t5_path), device="cpu")
    yield lm
    clear_model_cache()
