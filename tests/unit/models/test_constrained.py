"""Grammar-constrained decoding on a tiny random Llama: output always parses and validates."""

from __future__ import annotations

import json
from typing import Literal

import pytest
import torch
from pydantic import BaseModel, Field

from localchain.errors import ConfigError
from localchain.models.constrained import (
    GrammarLogitsProcessor,
    compile_json_schema,
    json_schema_of,
)


class Answer(BaseModel):
    color: Literal["red", "green", "blue"]
    count: int = Field(ge=0, le=9)
    note: str = Field(max_length=6)


@pytest.fixture(scope="module")
def tiny(tiny_decoder_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_decoder_path)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(tiny_decoder_path)
    model.eval()
    return model, tokenizer


def _grammar(model, tokenizer, schema=Answer):
    return compile_json_schema(tokenizer, schema, vocab_size=model.config.vocab_size)


def test_json_schema_of_accepts_dict_and_model():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    copy = json_schema_of(schema)
    assert copy == schema
    assert copy is not schema
    assert json_schema_of(Answer) == Answer.model_json_schema()


def test_json_schema_of_rejects_other_types():
    with pytest.raises(ConfigError, match="pydantic BaseModel subclass"):
        json_schema_of("not a schema")  # type: ignore[arg-type]


def test_compile_is_cached_per_tokenizer_and_schema(tiny):
    model, tokenizer = tiny
    first = _grammar(model, tokenizer)
    assert _grammar(model, tokenizer) is first
    # A dict with the same JSON text hits the same cache entry as the model class.
    assert (
        compile_json_schema(
            tokenizer, Answer.model_json_schema(), vocab_size=model.config.vocab_size
        )
        is first
    )
    other = _grammar(model, tokenizer, {"type": "object", "properties": {"x": {"type": "boolean"}}})
    assert other is not first


def test_generate_batch_with_constrained_and_free_rows(tiny):
    model, tokenizer = tiny
    processor = GrammarLogitsProcessor([_grammar(model, tokenizer), None])
    inputs = tokenizer(["What is the capital?", "hello world"], return_tensors="pt", padding=True)
    with torch.no_grad():
        out = model.generate(
            **inputs,
            logits_processor=[processor],
            do_sample=False,
            max_new_tokens=60,
            pad_token_id=tokenizer.pad_token_id,
        )
    new = out[:, inputs["input_ids"].shape[1] :]
    text = tokenizer.decode(new[0], skip_special_tokens=True)
    answer = Answer.model_validate(json.loads(text))
    assert answer.color in {"red", "green", "blue"}
    assert tokenizer.eos_token_id in new[0].tolist()
    assert processor.is_terminated(0)
    assert not processor.is_terminated(1)
    # The unconstrained row decodes exactly as it does without the processor.
    with torch.no_grad():
        free = model.generate(
            **inputs, do_sample=False, max_new_tokens=60, pad_token_id=tokenizer.pad_token_id
        )
    assert out[1].tolist() == free[1].tolist()


def test_hand_written_decode_loop(tiny):
    model, tokenizer = tiny
    processor = GrammarLogitsProcessor([_grammar(model, tokenizer)])
    ids = tokenizer("hello world", return_tensors="pt")["input_ids"]
    prompt_len = ids.shape[1]
    with torch.no_grad():
        for _ in range(60):
            scores = model(ids).logits[:, -1, :]
            scores = processor(ids, scores)
            next_id = scores.argmax(dim=-1, keepdim=True)
            ids = torch.cat([ids, next_id], dim=-1)
            if next_id.item() == tokenizer.eos_token_id:
                break
    generated = ids[0, prompt_len:].tolist()
    assert generated[-1] == tokenizer.eos_token_id
    Answer.model_validate_json(tokenizer.decode(generated[:-1]))
    # One more step after the stop token: only the stop token stays allowed.
    scores = processor(ids, torch.zeros(1, model.config.vocab_size))
    assert processor.is_terminated(0)
    allowed = torch.isfinite(scores[0]).nonzero().flatten().tolist()
    assert allowed == [tokenizer.eos_token_id]


def test_first_call_masks_to_grammar_start_and_reset(tiny):
    model, tokenizer = tiny
    processor = GrammarLogitsProcessor([_grammar(model, tokenizer)])
    ids = tokenizer("hi", return_tensors="pt")["input_ids"]
    scores = processor(ids, torch.zeros(1, model.config.vocab_size))
    allowed = torch.isfinite(scores[0]).nonzero().flatten().tolist()
    assert allowed
    assert all(tokenizer.decode([i]).startswith("{") for i in allowed)
    brace = allowed[0]
    processor(
        torch.cat([ids, torch.tensor([[brace]])], dim=-1), torch.zeros(1, model.config.vocab_size)
    )
    processor.reset()
    again = processor(ids, torch.zeros(1, model.config.vocab_size))
    assert torch.isfinite(again[0]).nonzero().flatten().tolist() == allowed


def test_padded_logits_are_masked(tiny):
    model, tokenizer = tiny
    processor = GrammarLogitsProcessor([_grammar(model, tokenizer)])
    ids = tokenizer("hi", return_tensors="pt")["input_ids"]
    scores = processor(ids, torch.zeros(1, model.config.vocab_size + 40))
    assert torch.isinf(scores[0, model.config.vocab_size :]).all()


def test_rejects_off_grammar_token(tiny):
    from localchain.errors import LocalchainError

    model, tokenizer = tiny
    processor = GrammarLogitsProcessor([_grammar(model, tokenizer)])
    ids = tokenizer("hi", return_tensors="pt")["input_ids"]
    scores = processor(ids, torch.zeros(1, model.config.vocab_size))
    masked = torch.isinf(scores[0]).nonzero().flatten()[0].item()
    with pytest.raises(LocalchainError, match="does not fit the grammar"):
        processor(torch.cat([ids, torch.tensor([[masked]])], dim=-1), scores)


def test_wrong_batch_size_and_empty_grammars(tiny):
    model, tokenizer = tiny
    with pytest.raises(ConfigError):
        GrammarLogitsProcessor([])
    processor = GrammarLogitsProcessor([_grammar(model, tokenizer), None])
    with pytest.raises(ConfigError, match="built for 2 rows"):
        processor(torch.zeros(3, 4, dtype=torch.long), torch.zeros(3, model.config.vocab_size))


def test_all_unconstrained_rows_pass_through():
    processor = GrammarLogitsProcessor([None, None])
    scores = torch.randn(2, 10)
    assert torch.equal(processor(torch.zeros(2, 3, dtype=torch.long), scores.clone()), scores)


def test_control_tokens_are_never_text_inside_the_grammar(tiny):
    """A control token (``<|im_start|>``) is not 12 characters of a JSON string.

    xgrammar reads a fast tokenizer's vocabulary entries as text; without marking control
    tokens special, a model that wants to end its turn inside a string wrote
    ``<|im_start|>user...`` there until the token limit.
    """
    from localchain.models.constrained import control_token_ids

    model, tokenizer = tiny
    control = control_token_ids(tokenizer) - {tokenizer.eos_token_id}
    assert tokenizer.convert_tokens_to_ids("<|im_start|>") in control
    grammar = _grammar(model, tokenizer, {"type": "string"})
    assert set(grammar.tokenizer_info.special_token_ids) >= control
    processor = GrammarLogitsProcessor([grammar])
    ids = tokenizer("hi", return_tensors="pt")["input_ids"]
    width = model.config.vocab_size
    first = processor(ids, torch.zeros(1, width))
    quote = next(
        i
        for i in torch.isfinite(first[0]).nonzero().flatten().tolist()
        if tokenizer.decode([i]) == '"'
    )
    inside = processor(torch.cat([ids, torch.tensor([[quote]])], dim=-1), torch.zeros(1, width))
    allowed = set(torch.isfinite(inside[0]).nonzero().flatten().tolist())
    assert len(allowed) > 10  # free text is allowed inside the string
    assert not allowed & control  # control tokens are not
    assert tokenizer.eos_token_id not in allowed  # nor the stop token, before the closing quote
