"""The decode loop on tiny checkpoints: parity with transformers, batch, stream, stop, seed."""

from __future__ import annotations

import pytest
import torch

from localchain.errors import ConfigError, ContextLengthError
from localchain.models.generation import GenerationConfig, generate, stream, stream_batch
from localchain.models.loading import load_model

PROMPTS = ["hello world", "The capital of France is a long prompt indeed", "cat"]


@pytest.fixture(scope="module", params=["decoder", "t5"])
def lm(request, tiny_decoder_path, tiny_t5_path):
    path = tiny_decoder_path if request.param == "decoder" else tiny_t5_path
    return load_model(str(path), device="cpu")


def _reference(lm, prompt: str, max_new_tokens: int) -> list[int]:
    """Greedy token ids from transformers' own generate, EOS and padding removed."""
    enc = lm.tokenizer(prompt, return_tensors="pt")
    out = lm.model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False)
    ids = out[0, enc["input_ids"].shape[1] :] if lm.kind == "causal" else out[0, 1:]
    result = []
    for token in ids.tolist():
        if token in lm.eos_token_ids:
            break
        result.append(token)
    return result


def test_greedy_tokens_match_transformers_generate(lm):
    for prompt in PROMPTS:
        ours = generate(lm, [prompt], GenerationConfig(max_new_tokens=10))[0]
        assert ours.token_ids == _reference(lm, prompt, 10)


def test_batch_equals_single_prompts(lm):
    config = GenerationConfig(max_new_tokens=10)
    batched = generate(lm, PROMPTS, config)
    singles = [generate(lm, [p], config)[0] for p in PROMPTS]
    assert [c.token_ids for c in batched] == [c.token_ids for c in singles]
    assert [c.prompt_tokens for c in batched] == [
        len(lm.tokenizer(p)["input_ids"]) for p in PROMPTS
    ]


def test_stream_pieces_join_to_the_full_text(lm):
    config = GenerationConfig(max_new_tokens=12)
    events = list(stream(lm, "hello world", config))
    assert events[-1].done
    full = generate(lm, ["hello world"], config)[0]
    assert "".join(e.text for e in events) == full.text
    assert events[-1].completion.completion_tokens == full.completion_tokens == 12
    assert events[-1].completion.finish_reason == "length"


def test_stop_sequence_trims_in_generate_and_stream(lm):
    free = generate(lm, ["hello world"], GenerationConfig(max_new_tokens=12))[0].text
    assert len(free) >= 4
    stop = free[2:4]  # a two-character stop that spans what the model really produces
    config = GenerationConfig(max_new_tokens=12, stop=[stop])
    stopped = generate(lm, ["hello world"], config)[0]
    assert stopped.text == free[: free.find(stop)]
    assert stopped.finish_reason == "stop"
    streamed = "".join(e.text for e in stream(lm, "hello world", config))
    assert streamed == stopped.text
    batched = generate(lm, ["hello world", "cat"], config)
    assert batched[0].text == stopped.text


def test_same_seed_same_sample_and_other_seed_differs(lm):
    def sample(seed):
        config = GenerationConfig(max_new_tokens=16, temperature=1.0, seed=seed)
        return generate(lm, ["hello"], config)[0].token_ids

    assert sample(7) == sample(7)
    assert any(sample(s) != sample(7) for s in (1, 2, 3))


def test_top_k_one_is_greedy(lm):
    greedy = generate(lm, ["hello"], GenerationConfig(max_new_tokens=8))[0].token_ids
    config = GenerationConfig(max_new_tokens=8, temperature=0.7, top_k=1, seed=3)
    assert generate(lm, ["hello"], config)[0].token_ids == greedy


def test_a_vanishing_temperature_samples_the_best_token(lm):
    # Found by the fuzz test: temperature=2.7e-39 overflowed the scores to inf (a NaN softmax).
    greedy = generate(lm, ["hello"], GenerationConfig(max_new_tokens=8))[0].token_ids
    for temperature in (2.7e-39, 1e-12):
        config = GenerationConfig(max_new_tokens=8, temperature=temperature, seed=3)
        assert generate(lm, ["hello"], config)[0].token_ids == greedy


def test_prompt_longer_than_window_is_a_clear_error(lm):
    long_prompt = "hello world " * 200
    with pytest.raises(ContextLengthError, match="context window of 128"):
        generate(lm, [long_prompt], GenerationConfig(max_new_tokens=4))


def _first_forward_input_ids(lm, run):
    """Run ``run()`` and return (its result, the input_ids of the model's first forward call)."""
    seen = []

    def record(module, args, kwargs):
        if not seen and kwargs.get("input_ids") is not None:
            seen.append(kwargs["input_ids"].tolist())

    handle = lm.model.register_forward_pre_hook(record, with_kwargs=True)
    try:
        result = run()
    finally:
        handle.remove()
    return result, seen[0]


# Distinct tokens all along (numbers in order), so the oldest and newest tokens differ.
LONG_PROMPT = " ".join(str(i) for i in range(400))


def test_left_truncation_keeps_the_newest_tokens(lm):
    full = lm.tokenizer(LONG_PROMPT)["input_ids"]
    assert len(full) > 2 * lm.context_length  # the premise: it does not fit
    config = GenerationConfig(max_new_tokens=4, truncation="left")
    [out], [fed] = _first_forward_input_ids(lm, lambda: generate(lm, [LONG_PROMPT], config))
    kept = out.prompt_tokens
    assert fed == full[-kept:]  # exactly the newest tokens, in order
    assert full[-kept:] != full[:kept]
    if lm.kind == "causal":  # room is left for the new tokens
        assert kept + 4 <= lm.context_length
        assert kept >= lm.context_length // 2
    else:
        assert kept == lm.context_length
    # What is generated is what the kept tokens alone produce.
    assert out.token_ids == _greedy_from_ids(lm, fed, 4)


def _greedy_from_ids(lm, ids, max_new_tokens):
    enc = {"input_ids": torch.tensor([ids]), "attention_mask": torch.ones(1, len(ids), dtype=int)}
    out = lm.model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False)
    new = out[0, len(ids) :] if lm.kind == "causal" else out[0, 1:]
    result = []
    for token in new.tolist():
        if token in lm.eos_token_ids:
            break
        result.append(token)
    return result


def test_bad_inputs(lm):
    with pytest.raises(ConfigError, match="strings"):
        generate(lm, [123], GenerationConfig(max_new_tokens=2))  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="one per prompt"):
        generate(lm, ["a", "b"], GenerationConfig(max_new_tokens=2), adapters=[None])
    assert generate(lm, [], GenerationConfig()) == []


def test_logits_processor_is_applied_per_step(lm):
    forced = lm.tokenizer("cat", add_special_tokens=False)["input_ids"][0]

    def only_forced(ids, scores):
        mask = torch.full_like(scores, float("-inf"))
        mask[:, forced] = 0
        return scores + mask

    out = generate(lm, ["hello"], GenerationConfig(max_new_tokens=3), logits_processor=only_forced)
    assert out[0].token_ids == [forced] * 3


def test_batch_stream_reports_every_row(lm):
    events = list(stream_batch(lm, ["hello", "cat"], GenerationConfig(max_new_tokens=5)))
    done = {e.index for e in events if e.done}
    assert done == {0, 1}


def test_rows_that_finish_early_leave_the_batch_without_changing_the_others(lm):
    free = generate(lm, ["hello world"], GenerationConfig(max_new_tokens=12))[0].text
    config = GenerationConfig(max_new_tokens=12, stop=[free[1:3]])
    batched = generate(lm, ["hello world", "cat", "The capital of France"], config)
    assert batched[0].finish_reason == "stop" and len(batched[0].token_ids) < 12
    for prompt, row in zip(["cat", "The capital of France"], batched[1:], strict=True):
        assert row.token_ids == generate(lm, [prompt], config)[0].token_ids


def test_constrained_and_free_rows_finish_at_different_times(lm):
    from localchain.models.engines.transformers import TransformersEngine

    schema = {
        "type": "object",
        "properties": {"city": {"type": "string", "maxLength": 40}},
        "required": ["city"],
    }
    engine = TransformersEngine(lm)
    short = GenerationConfig(max_new_tokens=3)
    out = engine.generate(["hello", "cat"], short, schemas=[schema, None])
    assert out[0].text.startswith("{") and out[0].finish_reason == "length"
    assert out[1].token_ids == generate(lm, ["cat"], short)[0].token_ids


def test_stream_can_be_resumed_on_other_threads(lm):
    """LangChain's async streaming resumes the generator on a fresh worker thread each step."""
    from concurrent.futures import ThreadPoolExecutor

    config = GenerationConfig(max_new_tokens=8)
    events = stream(lm, "hello world", config)
    pieces = []
    with ThreadPoolExecutor(max_workers=4) as pool:
        while True:
            event = pool.submit(next, events, None).result()
            if event is None:
                break
            pieces.append(event.text)
    assert "".join(pieces) == generate(lm, ["hello world"], config)[0].text
