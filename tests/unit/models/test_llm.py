"""LocalLLM on tiny random checkpoints (decoder and T5): generation paths, stops, usage, limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from localchain.errors import ConfigError, ContextLengthError
from localchain.models.llm import LocalLLM

PROMPT = "The capital of France is"
PROMPTS = [PROMPT, "hello world", "Summarize: the cat sat on the mat and slept all day."]


@pytest.fixture(scope="module", params=["decoder", "t5"])
def llm(request, tiny_decoder_path, tiny_t5_path) -> LocalLLM:
    path = tiny_decoder_path if request.param == "decoder" else tiny_t5_path
    return LocalLLM(model=str(path), device="cpu", max_tokens=10)


def _stop_from(text: str) -> str:
    for i in range(1, len(text)):
        if text[i].isascii() and text[i].isprintable() and text[i] != " ":
            return text[i]
    pytest.skip(f"no printable character to stop on in {text!r}")


def test_invoke_and_usage(llm):
    text = llm.invoke(PROMPT)
    assert isinstance(text, str)
    result = llm.generate([PROMPT])
    info = result.generations[0][0].generation_info
    assert result.generations[0][0].text == text
    assert info["prompt_tokens"] >= llm._get_engine().count_tokens(PROMPT)
    assert 1 <= info["completion_tokens"] <= 10
    assert info["finish_reason"] in ("stop", "length")
    assert result.llm_output["token_usage"] == {
        "prompt_tokens": info["prompt_tokens"],
        "completion_tokens": info["completion_tokens"],
    }


def test_batch_equals_individual_invokes(llm):
    assert llm.batch(PROMPTS) == [llm.invoke(p) for p in PROMPTS]


def test_stream_matches_invoke(llm):
    chunks = list(llm.stream(PROMPT))
    assert "".join(chunks) == llm.invoke(PROMPT)


async def test_async_paths_match_sync(llm):
    expected = llm.invoke(PROMPT)
    assert await llm.ainvoke(PROMPT) == expected
    assert "".join([c async for c in llm.astream(PROMPT)]) == expected
    assert await llm.abatch(PROMPTS) == llm.batch(PROMPTS)


def test_stop_trimmed_and_consistent(llm):
    full = llm.invoke(PROMPT)
    stop = _stop_from(full)
    cut = llm.invoke(PROMPT, stop=[stop])
    assert stop not in cut
    assert full.startswith(cut)
    assert llm.batch([PROMPT, "hello world"], stop=[stop])[0] == cut
    assert "".join(llm.stream(PROMPT, stop=[stop])) == cut
    info = llm.generate([PROMPT], stop=[stop]).generations[0][0].generation_info
    assert info["finish_reason"] == "stop"


def test_seed_reproducible_with_sampling(llm):
    sampler = LocalLLM(model=llm.model, device="cpu", max_tokens=10, temperature=1.0)
    assert sampler.invoke(PROMPT, seed=3) == sampler.invoke(PROMPT, seed=3)
    assert len({sampler.invoke(PROMPT, seed=s) for s in (1, 2, 3)}) > 1


def test_prompt_too_long(llm):
    long_prompt = "hello world " * 200
    engine = llm._get_engine()
    tokens = len(engine.loaded.tokenizer(long_prompt)["input_ids"])
    assert tokens > engine.context_length
    with pytest.raises(ContextLengthError) as info:
        llm.invoke(long_prompt)
    message = str(info.value)
    assert f"has {tokens} tokens" in message  # how long the prompt is
    assert f"context window of {engine.context_length} tokens" in message  # the limit
    assert "shorten it, or pass truncation='left'" in message  # the fix
    truncated = LocalLLM(model=llm.model, device="cpu", max_tokens=10, truncation="left")
    assert isinstance(truncated.invoke(long_prompt), str)


def test_unknown_option_raises(llm):
    with pytest.raises(ConfigError, match="Unknown generation option"):
        llm.invoke(PROMPT, frobnicate=True)


def test_model_path(llm):
    assert llm.model_path.resolve() == Path(llm.model).resolve()
