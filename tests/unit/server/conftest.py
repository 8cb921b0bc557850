"""Fixtures for the server tests: a tiny model with a wide window, two adapters, app factories."""

from __future__ import annotations

import pytest

from tests.unit.server.helpers import build_lora, build_server_model


@pytest.fixture(scope="session")
def server_model_path(tmp_path_factory):
    """The tiny random decoder with a 1024-token window."""
    return build_server_model(tmp_path_factory.mktemp("server-model") / "tiny-chat")


@pytest.fixture(scope="session")
def server_adapters(server_model_path, tmp_path_factory):
    """Two random LoRA adapters for the tiny model: name -> directory."""
    root = tmp_path_factory.mktemp("server-adapters")
    return {
        "alpha": build_lora(server_model_path, root / "alpha", seed=1),
        "beta": build_lora(server_model_path, root / "beta", seed=2),
    }
