"""Registry lookups and the offline loading code, on tiny checkpoints."""

from __future__ import annotations

import pytest
import torch

from localchain.errors import ConfigError, ModelNotFoundError, UnsupportedOnDeviceError
from localchain.models import registry
from localchain.models.loading import (
    load_model,
    loaded_models,
    resolve_device,
    resolve_dtype,
)


def test_local_directories_load_with_their_kind(tiny_decoder_path, tiny_t5_path):
    decoder = load_model(str(tiny_decoder_path), device="cpu")
    t5 = load_model(str(tiny_t5_path), device="cpu")
    assert decoder.kind == "causal" and t5.kind == "seq2seq"
    assert decoder.model_path == tiny_decoder_path.resolve()
    assert decoder.dtype == torch.float32 and decoder.device.type == "cpu"
    assert decoder.context_length == 128
    assert decoder.memory_footprint > 0


def test_loaded_once_per_process(tiny_decoder_path):
    first = load_model(str(tiny_decoder_path), device="cpu")
    again = load_model(
        str(tiny_decoder_path), device="auto" if not torch.cuda.is_available() else "cpu"
    )
    assert first is again
    assert first in loaded_models()


def test_dtype_changes_the_key(tiny_decoder_path):
    bf16 = load_model(str(tiny_decoder_path), device="cpu", dtype="bfloat16")
    assert bf16.dtype == torch.bfloat16
    assert bf16 is not load_model(str(tiny_decoder_path), device="cpu")


def test_unknown_name_suggests_a_close_one():
    with pytest.raises(ModelNotFoundError, match="Did you mean 'smollm2-135m-instruct'"):
        registry.resolve_model("smollm2-135m-instruc")


def test_flan_t5_absent_from_cache_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(registry, "hf_cache_path", lambda repo_id: None)
    with pytest.raises(ModelNotFoundError, match="huggingface-cli download google/flan-t5-base"):
        registry.resolve_model("flan-t5-base")


def test_flan_t5_found_in_the_hf_cache(monkeypatch, tiny_t5_path):
    monkeypatch.setattr(
        registry, "hf_cache_path", lambda repo_id: tiny_t5_path if "flan-t5" in repo_id else None
    )
    resolved = registry.resolve_model("flan-t5-small")
    assert resolved.kind == "seq2seq" and resolved.path == tiny_t5_path


def test_hf_cache_lookup_is_offline_and_real(tmp_path, monkeypatch):
    """A repo laid out as the HF cache does is found without network."""
    snapshot = tmp_path / "models--org--tiny" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text('{"model_type": "t5", "is_encoder_decoder": true}')
    (tmp_path / "models--org--tiny" / "refs").mkdir()
    (tmp_path / "models--org--tiny" / "refs" / "main").write_text("abc123")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    found = registry.hf_cache_path("org/tiny")
    assert found is not None and found.name == "abc123"
    assert registry.resolve_model("org/tiny").kind == "seq2seq"


def test_directory_without_config_is_refused(tmp_path):
    with pytest.raises(ModelNotFoundError, match="no config.json"):
        registry.resolve_model(str(tmp_path))


def test_device_and_dtype_errors():
    with pytest.raises(ConfigError, match="Unknown device"):
        resolve_device("tpu")
    with pytest.raises(ConfigError, match="Unknown dtype"):
        resolve_dtype("float8", torch.device("cpu"))
    if not torch.cuda.is_available():
        with pytest.raises(UnsupportedOnDeviceError, match="needs a CUDA GPU"):
            resolve_device("cuda:0")
    assert resolve_dtype("auto", torch.device("cpu")) == torch.float32


def test_nf4_on_cpu_is_refused_before_loading(tiny_decoder_path):
    with pytest.raises(UnsupportedOnDeviceError, match="CUDA"):
        load_model(str(tiny_decoder_path), device="cpu", quantization="nf4")


def test_cpu_int8_loads_and_saves_memory(tiny_decoder_path):
    full = load_model(str(tiny_decoder_path), device="cpu")
    int8 = load_model(str(tiny_decoder_path), device="cpu", quantization="int8")
    assert int8.quantization == "int8"
    assert int8.memory_footprint < full.memory_footprint


def test_named_models_are_blocked_in_fast_tests():
    with pytest.raises(ConfigError, match="mark the test"):
        load_model("smollm2-135m-instruct")


def test_registry_lists_every_model():
    names = {spec.name for spec, _ in registry.available_models()}
    assert {"smollm2-135m-instruct", "flan-t5-small", "flan-t5-xl"} <= names
