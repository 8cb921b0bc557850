"""Input the model cannot use is refused with a clear error instead of a silent wrong answer.

Images and empty (None) turns, empty model names, duplicate tool names, per-call token limits,
adapters with non-finite weights or made for another base.
"""

from __future__ import annotations

import json
import shutil

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from pydantic import BaseModel

from localchain.errors import AdapterError, ConfigError
from localchain.models.chat import ChatLocal
from localchain.models.loading import clear_model_cache, load_model
from localchain.models.registry import base_mismatch, resolve_model
from localchain.models.tool_calling import render_tool_messages

IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}


@pytest.fixture(scope="module")
def chat(tiny_decoder_path) -> ChatLocal:
    return ChatLocal(model=str(tiny_decoder_path), device="cpu", max_tokens=4)


# --- input a text-only model cannot see ---------------------------------------------------


@pytest.mark.parametrize(
    "block",
    [
        IMAGE,
        {
            "type": "image",
            "source_type": "base64",
            "data": "iVBORw0KGgo=",
            "mime_type": "image/png",
        },
        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
        {
            "type": "file",
            "source_type": "base64",
            "data": "JVBERi0=",
            "mime_type": "application/pdf",
        },
    ],
    ids=["image_url", "image", "audio", "file"],
)
def test_media_blocks_are_refused_naming_the_message(chat, block):
    messages = [
        SystemMessage("Describe it."),
        HumanMessage(content=[{"type": "text", "text": "What is this?"}, block]),
    ]
    with pytest.raises(ConfigError, match=r"Message 1 .*text-only") as info:
        chat.invoke(messages)
    kind = {"image_url": "image", "input_audio": "audio"}.get(block["type"], block["type"])
    assert f"holds {kind} input" in str(info.value)


def test_text_blocks_still_render():
    rendered = render_tool_messages(
        [HumanMessage(content=[{"type": "text", "text": "hello "}, "world"])]
    )
    assert rendered == [{"role": "user", "content": "hello world"}]


def test_image_in_a_tool_result_is_refused():
    with pytest.raises(ConfigError, match="Message 2"):
        render_tool_messages(
            [
                HumanMessage("look"),
                AIMessage("", tool_calls=[{"name": "snap", "args": {}, "id": "c1"}]),
                ToolMessage(content=[IMAGE], tool_call_id="c1"),
            ]
        )


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "user", "content": None}],
        [("system", "be brief"), ("user", None)],
    ],
    ids=["dict", "tuple"],
)
def test_none_content_is_refused(chat, messages):
    with pytest.raises(ConfigError, match=r"Message \d+ has content None"):
        chat.invoke(messages)


def test_assistant_turn_with_only_tool_calls_is_fine(chat):
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "content": "ok", "tool_call_id": "c1"},
    ]
    assert isinstance(chat.invoke(messages), AIMessage)


def test_unreadable_input_is_a_config_error(chat):
    with pytest.raises(ConfigError, match="Cannot read the chat input"):
        chat.invoke(42)


# --- an empty model name -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "   "])
def test_empty_model_name_never_picks_up_a_stray_gguf(tmp_path, monkeypatch, name):
    (tmp_path / "stray.gguf").write_bytes(b"GGUF\x03\x00\x00\x00")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="empty"):
        resolve_model(name)
    with pytest.raises(ConfigError, match="empty"):
        load_model(name, device="cpu")
    with pytest.raises(ConfigError, match="model="):
        ChatLocal(model=name)


# --- tools and per-call limits -------------------------------------------------------------


class Search(BaseModel):
    """Search the web."""

    query: str


def test_two_different_tools_with_one_name_are_refused(chat):
    other = {
        "type": "function",
        "function": {
            "name": "Search",
            "description": "Search files.",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
        },
    }
    with pytest.raises(ConfigError, match="'Search'"):
        chat.bind_tools([Search, other])
    with pytest.raises(ConfigError, match="'Search'"):
        chat.invoke("hi", tools=[Search.model_json_schema() | {"title": "Search"}, other])


def test_the_same_tool_twice_counts_once(chat):
    bound = chat.bind_tools([Search, Search.model_json_schema()])
    assert len(bound.kwargs["tools"]) == 2  # both kept; the schema lists the name once


@pytest.mark.parametrize("value", [0, -3])
@pytest.mark.parametrize("option", ["max_tokens", "max_new_tokens"])
def test_per_call_token_limit_below_one_raises(chat, option, value):
    with pytest.raises(ConfigError, match="max_new_tokens"):
        chat.invoke("hi", **{option: value})


# --- adapters ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_adapter(tiny_decoder_path, tmp_path_factory):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_decoder_path)
    config = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj"], init_lora_weights=False)
    out = tmp_path_factory.mktemp("adapter") / "good"
    get_peft_model(model, config).save_pretrained(out)
    return out


@pytest.fixture
def decoder_lm(tiny_decoder_path):
    clear_model_cache()
    lm = load_model(str(tiny_decoder_path), device="cpu")
    yield lm
    clear_model_cache()


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_adapter_weights_are_refused(decoder_lm, good_adapter, tmp_path, value):
    from safetensors.torch import load_file, save_file

    bad = tmp_path / "bad"
    shutil.copytree(good_adapter, bad)
    weights = bad / "adapter_model.safetensors"
    state = load_file(str(weights))
    first = next(iter(state))
    state[first] = state[first].fill_(value)
    save_file(state, str(weights))
    with pytest.raises(AdapterError, match="NaN or infinite") as info:
        decoder_lm.adapters.add("bad", bad)
    assert str(weights) in str(info.value)
    assert decoder_lm.adapters.names() == []


def test_adapter_for_another_base_is_refused_even_when_shapes_fit(
    decoder_lm, good_adapter, tmp_path
):
    other = tmp_path / "other"
    shutil.copytree(good_adapter, other)
    config_path = other / "adapter_config.json"
    config = json.loads(config_path.read_text())
    config["base_model_name_or_path"] = "meta-llama/Llama-2-7b-hf"
    config_path.write_text(json.dumps(config))
    with pytest.raises(AdapterError, match="Llama-2-7b-hf"):
        decoder_lm.adapters.add("other", other)
    assert decoder_lm.adapters.names() == []
    decoder_lm.adapters.add("good", good_adapter)  # recorded base: the tiny model's own path
    assert decoder_lm.adapters.names() == ["good"]


SMOLLM_NAMES = [
    "smollm2-135m-instruct",
    "HuggingFaceTB/SmolLM2-135M-Instruct",
    "/root/.cache/localchain/models/SmolLM2-135M-Instruct.Q4_1-0a1b2c3d4e5f",
]


@pytest.mark.parametrize(
    "recorded",
    [
        "meta-llama/Llama-2-7b-hf",
        "HuggingFaceTB/SmolLM2-1.7B-Instruct",
        "Qwen/Qwen2.5-0.5B-Instruct",
        "google/flan-t5-base",
    ],
)
def test_base_mismatch_flags_another_family_or_size(recorded):
    assert base_mismatch(recorded, names=SMOLLM_NAMES, model_type="llama") is not None


@pytest.mark.parametrize(
    "recorded",
    [
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        "smollm2-135m-instruct",
        "/home/me/models/SmolLM2-135M-Instruct",
        "/root/.cache/localchain/models/SmolLM2-135M-Instruct.Q4_1-ffffffffffff",
        "/tmp/pytest-of-root/pytest-3/tiny-decoder0",
        "my-org/my-finetune",
    ],
)
def test_base_mismatch_accepts_the_same_model_by_another_route(recorded):
    assert base_mismatch(recorded, names=SMOLLM_NAMES, model_type="llama") is None


def test_base_mismatch_falls_back_to_architecture_and_size():
    tiny = ["/tmp/pytest-of-root/pytest-3/tiny-decoder0"]
    assert base_mismatch("google/flan-t5-small", names=tiny, model_type="llama")
    assert base_mismatch("meta-llama/Llama-2-7b-hf", names=tiny, model_type="llama", n_params=3e4)
    assert not base_mismatch("HuggingFaceTB/SmolLM2-135M", names=tiny, model_type="llama")


# --- found by tests/unit/test_fuzz.py ---------------------------------------------------------


def test_a_tool_message_without_its_call_id_is_a_config_error(chat):
    with pytest.raises(ConfigError, match="Cannot read the chat input"):
        chat.invoke([("tool", "")])


@pytest.mark.parametrize(
    "tool",
    [
        {"name": "", "parameters": {"type": "object"}},
        {"type": "function", "function": {"name": "f", "parameters": "0"}},
    ],
    ids=["empty name", "parameters not a dict"],
)
def test_malformed_tool_specs_are_config_errors(chat, tool):
    with pytest.raises(ConfigError):
        chat.bind_tools([tool])


def test_settings_errors_are_config_errors_naming_the_field():
    with pytest.raises(ConfigError, match="temperature=-1.0: Input should be greater"):
        ChatLocal(temperature=-1)
    with pytest.raises(ConfigError, match="max_tokens"):
        ChatLocal(max_tokens=0)
