"""ChatLocal's tool adapter: used for calls with tools bound, on the base it was trained for."""

from __future__ import annotations

import json

import pytest
import torch
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool

from localchain.models import ChatLocal
from localchain.models import adapters as adapters_module
from localchain.models.adapters import TOOL_CALLS_ADAPTER
from localchain.models.loading import clear_model_cache


@tool
def get_weather(city: str) -> str:
    """Weather in a city."""
    return f"sunny in {city}"


def _make_lora(base_path, out, seed):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base_path)
    config = LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"],
                        init_lora_weights=False)  # fmt: skip
    get_peft_model(model, config).save_pretrained(out)
    return out


@pytest.fixture
def shipped(tmp_path, monkeypatch, tiny_decoder_path):
    """A package adapters folder holding a tool-calls adapter recorded as trained on the tiny
    model (a real LoRA with large random weights, so it changes what the model writes)."""
    root = tmp_path / "adapters"
    folder = _make_lora(tiny_decoder_path, root / TOOL_CALLS_ADAPTER, seed=3)
    meta = {"name": TOOL_CALLS_ADAPTER, "base": str(tiny_decoder_path)}
    (folder / "localchain_adapter.json").write_text(json.dumps(meta))
    monkeypatch.setattr(adapters_module, "SHIPPED_ADAPTERS_DIR", root)
    monkeypatch.setenv("LOCALCHAIN_HOME", str(tmp_path / "home"))
    clear_model_cache()
    yield folder
    clear_model_cache()


def _adapter_of(chat, messages, **kwargs):
    """The adapter ChatLocal would generate the request with (no generation)."""
    return chat._prepare(messages, dict(kwargs)).adapter


def test_auto_picks_the_shipped_adapter_for_calls_with_tools_only(shipped, tiny_decoder_path):
    chat = ChatLocal(model=str(tiny_decoder_path), device="cpu", tool_adapter="auto")
    assert chat.adapter_for_tools() == TOOL_CALLS_ADAPTER
    params = {"type": "object", "properties": {"city": {"type": "string"}}}
    tools = [{"type": "function", "function": {"name": "w", "parameters": params}}]
    ask = [HumanMessage("weather in Paris?")]
    assert _adapter_of(chat, ask, tools=tools, tool_choice="auto") == TOOL_CALLS_ADAPTER
    assert _adapter_of(chat, ask) is None  # plain chat stays on the base
    assert _adapter_of(chat, ask, tools=tools, tool_choice="none") is None
    # A per-call adapter (None included) and with_structured_output are left alone.
    assert _adapter_of(chat, ask, tools=tools, adapter=None) is None
    assert _adapter_of(chat, ask, tools=tools, adapter="other") == "other"
    assert _adapter_of(chat, ask, tools=tools, structured_output=True) is None


def test_the_default_and_other_settings_leave_the_model_plain(shipped, tiny_decoder_path):
    path = str(tiny_decoder_path)
    assert ChatLocal(model=path, device="cpu").adapter_for_tools() is None  # off by default
    own = ChatLocal(model=path, device="cpu", tool_adapter="auto", adapter="mine")
    assert own.adapter_for_tools() is None  # an adapter set on the model wins
    int8 = ChatLocal(model=path, device="cpu", quantization="int8", tool_adapter="auto")
    assert int8.adapter_for_tools() == TOOL_CALLS_ADAPTER  # CPU int8 layers take LoRA too
    gguf = ChatLocal(model=path, device="cpu", engine="llama_cpp", tool_adapter="auto")
    assert gguf.adapter_for_tools() is None  # llama.cpp serves no peft adapter
    other = ChatLocal(model="smollm2-135m-instruct", device="cpu", tool_adapter="auto")
    assert other.adapter_for_tools() is None  # not the base it was trained on
    explicit = ChatLocal(model="smollm2-135m-instruct", device="cpu", tool_adapter="/x/lora")
    assert explicit.adapter_for_tools() == "/x/lora"
    # A copy on another model decides again instead of reusing the first choice.
    chat = ChatLocal(model=path, device="cpu", tool_adapter="auto")
    assert chat.adapter_for_tools() == TOOL_CALLS_ADAPTER
    assert chat.model_copy(update={"model": "smollm2-135m-instruct"}).adapter_for_tools() is None


def _reply(bound, question):
    """What a bound model answers: its text and calls, or the error a cut-off reply raises."""
    try:
        reply = bound.invoke(question)
    except OutputParserException as err:
        return str(err)
    return reply.content, [(c["name"], c["args"]) for c in reply.tool_calls]


def test_bound_tools_generate_with_the_adapter(shipped, tiny_decoder_path):
    path = str(tiny_decoder_path)
    # The tiny model's window is 128 tokens: keep the end of the prompt (the question).
    options = {"device": "cpu", "max_tokens": 24, "truncation": "left"}
    auto = ChatLocal(model=path, tool_adapter="auto", **options).bind_tools([get_weather])
    with_lora = ChatLocal(model=path, adapter=str(shipped), **options).bind_tools([get_weather])
    plain = ChatLocal(model=path, **options).bind_tools([get_weather])
    questions = ["weather in Paris?", "hello", "is it sunny in Oslo today?"]
    got = [_reply(auto, q) for q in questions]
    assert got == [_reply(with_lora, q) for q in questions]
    # The adapter changes what the tiny model writes: the plain model answers otherwise.
    assert got != [_reply(plain, q) for q in questions]
