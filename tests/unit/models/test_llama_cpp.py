"""The llama.cpp engine: refusals without the extra, and the embedded GGUF run through it.

Tests that need llama-cpp-python skip without the ``llamacpp`` extra (CI has none); those that
load the embedded SmolLM2 GGUF are also marked slow. The first tests run everywhere.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest
from pydantic import BaseModel

from localchain.errors import (
    AdapterError,
    ConfigError,
    ContextLengthError,
    LocalchainError,
    MissingDependencyError,
)
from localchain.models.engines.base import get_engine
from localchain.models.engines.llama_cpp import LlamaCppEngine
from localchain.models.generation import GenerationConfig

HAS_LLAMA_CPP = importlib.util.find_spec("llama_cpp") is not None
needs_llama_cpp = pytest.mark.skipif(not HAS_LLAMA_CPP, reason="needs the llamacpp extra")
MODEL = "smollm2-135m-instruct"
GREEDY = GenerationConfig(max_new_tokens=24)


@pytest.fixture
def fake_gguf(tmp_path):
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF")
    return path


class _FakeLlama:
    """Just enough of ``llama_cpp.Llama`` to build an engine without the extra."""

    metadata: dict[str, str] = {}  # no chat template: FLAN-style prompts
    input_ids = [0] * 16  # llama-cpp-python's token buffer, sized by n_ctx

    def n_ctx(self):
        return 16

    def tokenize(self, text, add_bos=True, special=False):
        return list(range(len(text.split())))

    def token_bos(self):
        return 1

    def token_eos(self):
        return 2


@pytest.fixture
def fake_engine(tmp_path):
    return LlamaCppEngine(_FakeLlama(), name="fake", gguf=tmp_path / "fake.gguf")


# -- without llama-cpp-python -------------------------------------------------------------


def test_missing_llama_cpp_names_the_extra(monkeypatch, fake_gguf):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # `import llama_cpp` now fails
    with pytest.raises(MissingDependencyError, match=r"pip install 'localchain\[llamacpp\]'"):
        get_engine("llama_cpp", str(fake_gguf))
    with pytest.raises(ImportError):  # callers catching ImportError still do
        LlamaCppEngine.load(str(fake_gguf))


def test_quantization_is_refused():
    with pytest.raises(ConfigError, match="already quantized"):
        LlamaCppEngine.load(MODEL, quantization="int8")


def test_checkpoint_without_gguf_is_refused(tiny_decoder_path):
    with pytest.raises(ConfigError, match="no GGUF file"):
        LlamaCppEngine.load(str(tiny_decoder_path))


def test_adapters_are_refused(fake_engine):
    with pytest.raises(AdapterError, match="engine='transformers'"):
        fake_engine.generate(["hi"], GREEDY, adapters=["french"])
    with pytest.raises(AdapterError, match="serves no LoRA adapters"):
        next(fake_engine.stream("hi", GREEDY, adapter="french"))


def test_prompt_longer_than_the_window_raises(fake_engine):
    long_prompt = " ".join(["word"] * 40)
    with pytest.raises(ContextLengthError, match="context window of 16") as info:
        fake_engine.generate([long_prompt], GREEDY)
    assert isinstance(info.value, LocalchainError)


def test_chat_without_template_falls_back_to_flan(fake_engine):
    assert fake_engine.format_chat([{"role": "user", "content": "Hi"}]) == "Hi"


# -- with llama-cpp-python and the embedded GGUF ------------------------------------------


@pytest.fixture(scope="module")
def engine():
    return LlamaCppEngine.load(MODEL)


@pytest.fixture(scope="module")
def chat():
    from localchain import ChatLocal

    return ChatLocal(engine="llama_cpp", max_new_tokens=24)


@needs_llama_cpp
@pytest.mark.slow
def test_loads_once_per_process(engine):
    assert LlamaCppEngine.load(MODEL) is engine
    assert get_engine("llama_cpp", MODEL) is engine
    assert engine.model_path.suffix == ".gguf"
    assert engine.context_length == 2048


@needs_llama_cpp
@pytest.mark.slow
def test_format_chat_uses_the_gguf_template(engine):
    prompt = engine.format_chat([{"role": "user", "content": "Hi"}])
    assert "<|im_start|>user\nHi<|im_end|>" in prompt
    assert prompt.endswith("<|im_start|>assistant\n")
    completion = engine.generate([prompt], GREEDY, chat=True)[0]
    assert completion.prompt_tokens == engine.count_tokens(prompt)


@needs_llama_cpp
@pytest.mark.slow
def test_chat_answers_paris(chat):
    # The bare question is a near tie for SmolLM2's first token ("The" 25.33 against "L" 25.24
    # in float32); llama.cpp's 8-bit activations tip it to French ("L'Étoile, la Cité, ...").
    reply = chat.invoke("What is the capital of France? Answer in one sentence.")
    assert "Paris" in reply.content
    assert reply.usage_metadata["output_tokens"] > 0
    assert reply.usage_metadata["output_tokens"] <= 24


@needs_llama_cpp
@pytest.mark.slow
def test_stream_joins_to_invoke(chat):
    question = "Name three colors."
    pieces = [chunk.content for chunk in chat.stream(question)]
    assert len([p for p in pieces if p]) > 1
    assert "".join(pieces) == chat.invoke(question).content


@needs_llama_cpp
@pytest.mark.slow
def test_streamed_usage_matches_generate(engine):
    prompt = engine.format_chat([{"role": "user", "content": "Say hello."}])
    for config in (GenerationConfig(max_new_tokens=5), GenerationConfig(max_new_tokens=200)):
        whole = engine.generate([prompt], config, chat=True)[0]
        events = list(engine.stream(prompt, config, chat=True))
        assert events[-1].done
        streamed = events[-1].completion
        assert streamed.text == whole.text == "".join(e.text for e in events)
        assert streamed.completion_tokens == whole.completion_tokens
        assert streamed.finish_reason == whole.finish_reason
    assert whole.finish_reason == "stop"  # the 200-token reply ended on its own


@needs_llama_cpp
@pytest.mark.slow
def test_stop_sequence_cuts_the_reply(engine):
    prompt = engine.format_chat([{"role": "user", "content": "Count from 1 to 20."}])
    full = engine.generate([prompt], GREEDY, chat=True)[0].text
    stop = full[len(full) // 2 :][:3]
    expected = full[: full.index(stop)]
    config = GenerationConfig(max_new_tokens=24, stop=[stop])
    cut = engine.generate([prompt], config, chat=True)[0]
    assert (cut.text, cut.finish_reason) == (expected, "stop")
    events = list(engine.stream(prompt, config, chat=True))
    assert "".join(e.text for e in events) == expected
    assert events[-1].completion.completion_tokens == cut.completion_tokens


@needs_llama_cpp
@pytest.mark.slow
def test_structured_output_through_the_grammar():
    from localchain import ChatLocal

    class Capital(BaseModel):
        city: str
        country: str

    chat = ChatLocal(engine="llama_cpp", max_new_tokens=64)
    result = chat.with_structured_output(Capital).invoke("What is the capital of France?")
    assert isinstance(result, Capital)
    assert result.city


@needs_llama_cpp
@pytest.mark.slow
def test_sampling_with_a_seed_repeats(engine):
    prompt = engine.format_chat([{"role": "user", "content": "Tell me a story."}])
    config = GenerationConfig(max_new_tokens=16, temperature=1.0, top_p=0.9, seed=7)
    first, second = (engine.generate([prompt], config, chat=True)[0].text for _ in range(2))
    assert first == second


@needs_llama_cpp
@pytest.mark.slow
def test_context_window_and_truncation():
    small = LlamaCppEngine.load(MODEL, n_ctx=64)  # llama.cpp pads it to 256; we keep 64
    assert small.context_length == 64
    prompt = "one two three four " * 40
    with pytest.raises(ContextLengthError, match="n_ctx"):
        small.generate([prompt], GREEDY)
    kept = small.generate([prompt], GenerationConfig(max_new_tokens=8, truncation="left"))[0]
    assert kept.prompt_tokens < 64


@needs_llama_cpp
@pytest.mark.slow
def test_chat_local_refuses_quantization():
    from localchain import ChatLocal

    with pytest.raises(ConfigError, match="already quantized"):
        ChatLocal(engine="llama_cpp", quantization="int8").invoke("Hi")
