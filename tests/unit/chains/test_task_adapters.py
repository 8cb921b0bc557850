"""Chains pick their shipped task adapter only on the base it was trained for."""

from __future__ import annotations

import json

import pytest

from localchain.chains.pal import PAL_ADAPTER, PALChain
from localchain.chains.task_adapters import pick_task_adapter, shipped_adapter_fits
from localchain.chains.triples import TRIPLES_ADAPTER, TripleExtractionChain
from localchain.errors import ConfigError
from localchain.models import ChatLocal, adapter_metadata, find_adapter, shipped_adapters
from localchain.models import adapters as adapters_module


@pytest.fixture
def shipped(tmp_path, monkeypatch, tiny_decoder_path):
    """A package adapters folder holding 'pal-smollm2', recorded as trained on the tiny model."""
    root = tmp_path / "adapters"
    folder = root / PAL_ADAPTER
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))
    meta = {"name": PAL_ADAPTER, "base": str(tiny_decoder_path)}
    (folder / "localchain_adapter.json").write_text(json.dumps(meta))
    monkeypatch.setattr(adapters_module, "SHIPPED_ADAPTERS_DIR", root)
    # An empty cache: a name registered by an earlier `localchain tune` must not answer first.
    monkeypatch.setenv("LOCALCHAIN_HOME", str(tmp_path / "home"))
    return folder


def test_shipped_adapters_are_found_by_name(shipped):
    assert shipped_adapters() == {PAL_ADAPTER: shipped}
    assert find_adapter(PAL_ADAPTER) == shipped
    assert adapter_metadata(shipped)["name"] == PAL_ADAPTER


def test_auto_picks_the_adapter_on_its_base_and_keeps_the_model_shared(shipped, tiny_decoder_path):
    chat = ChatLocal(model=str(tiny_decoder_path), device="cpu")
    assert shipped_adapter_fits(chat, PAL_ADAPTER)
    chosen = PALChain.from_model(chat).chain_model()
    assert chosen.adapter == PAL_ADAPTER and chosen.model.adapter == PAL_ADAPTER
    assert chat.adapter is None  # the user's model is not changed
    assert chosen.model.model == chat.model and chosen.model.max_tokens == chat.max_tokens


def test_auto_leaves_other_bases_an_own_adapter_and_opt_outs_alone(shipped, tiny_decoder_path):
    other = ChatLocal(model="smollm2-135m-instruct", device="cpu")
    assert not shipped_adapter_fits(other, PAL_ADAPTER)
    assert PALChain.from_model(other).chain_model().adapter is None
    own = ChatLocal(model=str(tiny_decoder_path), device="cpu", adapter="mine")
    assert PALChain.from_model(own).chain_model().model is own  # an explicit adapter wins
    chat = ChatLocal(model=str(tiny_decoder_path), device="cpu")
    assert PALChain.from_model(chat, adapter=None).chain_model().adapter is None
    # No shipped triples adapter in this folder: the triples chain stays plain.
    assert TripleExtractionChain.from_model(chat).chain_model().adapter is None
    # The llama.cpp engine takes no peft LoRA: the same rule as ChatLocal(tool_adapter="auto").
    gguf = ChatLocal(model=str(tiny_decoder_path), device="cpu", engine="llama_cpp")
    assert gguf.shipped_adapter(PAL_ADAPTER) is None
    assert PALChain.from_model(gguf).chain_model().adapter is None
    assert chat.shipped_adapter(PAL_ADAPTER) == PAL_ADAPTER


def test_an_explicit_adapter_is_used_on_any_localchain_model(tiny_decoder_path):
    chat = ChatLocal(model=str(tiny_decoder_path), device="cpu")
    chosen = pick_task_adapter(chat, "/some/dir", TRIPLES_ADAPTER)
    assert chosen.adapter == "/some/dir" and chosen.model.adapter == "/some/dir"
    with pytest.raises(ConfigError, match="adapter=None"):
        pick_task_adapter(object(), "x", TRIPLES_ADAPTER)  # type: ignore[arg-type]


def test_auto_uses_the_adapter_on_the_cpu_int8_path_too(shipped, tiny_decoder_path):
    chat = ChatLocal(model=str(tiny_decoder_path), device="cpu", quantization="int8")
    assert PALChain.from_model(chat).chain_model().adapter == PAL_ADAPTER
