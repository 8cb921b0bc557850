"""Chat formatting and the model-class choice, written once in models/ for every caller."""

from __future__ import annotations

import pytest

from localchain.errors import ConfigError
from localchain.models.chat_format import flan_prompt, format_chat
from localchain.models.registry import model_class

CHAT = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "Capital of France?"},
]


def test_decoder_with_template_gets_the_template(tiny_decoder_path):
    from localchain.models.engines.transformers import TransformersEngine
    from localchain.models.loading import load_model

    loaded = load_model(str(tiny_decoder_path), device="cpu")
    text = format_chat(loaded.tokenizer, "causal", CHAT)
    assert text.startswith("<|im_start|>system\nBe brief.<|im_end|>\n")
    assert text.endswith("<|im_start|>user\nCapital of France?<|im_end|>\n<|im_start|>assistant\n")
    assert TransformersEngine(loaded).format_chat(CHAT) == text  # the engine delegates


def test_seq2seq_and_templateless_decoders_get_flan_prompts(tiny_t5_path):
    from localchain.models.loading import load_model

    loaded = load_model(str(tiny_t5_path), device="cpu")
    single = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert format_chat(loaded.tokenizer, "seq2seq", single) == "Be brief.\n\nHi"
    assert format_chat(loaded.tokenizer, "seq2seq", CHAT) == (
        "Be brief.\n\nUser: Hi\nAssistant: Hello!\nUser: Capital of France?\nAssistant:"
    )

    class NoTemplate:
        chat_template = None

    assert format_chat(NoTemplate(), "causal", single) == flan_prompt(single)


def test_flan_prompt_stays_importable_from_the_engine():
    from localchain.models.engines.transformers import flan_prompt as engine_flan_prompt

    assert engine_flan_prompt is flan_prompt


def test_model_class_by_kind():
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    assert model_class("causal") is AutoModelForCausalLM
    assert model_class("seq2seq") is AutoModelForSeq2SeqLM
    with pytest.raises(ConfigError, match="Unknown model kind 'encoder'"):
        model_class("encoder")  # type: ignore[arg-type]


def test_model_class_loads_the_tiny_checkpoints(tiny_decoder_path, tiny_t5_path):
    assert model_class("causal").from_pretrained(tiny_decoder_path).config.model_type == "llama"
    assert model_class("seq2seq").from_pretrained(tiny_t5_path).config.is_encoder_decoder
