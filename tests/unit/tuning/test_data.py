"""Tuning's own data step: records to token ids and labels, and padded batches."""

import json

import pytest

from localchain.datasets import load_examples
from localchain.errors import ContextLengthError
from localchain.models.chat_format import format_chat
from localchain.tuning.data import IGNORE_INDEX, PadCollator, encode_examples


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _record(prompt="What is the capital of France?", completion="Paris"):
    return json.dumps({"prompt": prompt, "completion": completion})


@pytest.fixture(scope="module")
def decoder(tiny_decoder_path):
    from localchain.models.loading import load_model

    loaded = load_model(str(tiny_decoder_path), device="cpu")
    return loaded, lambda messages: format_chat(loaded.tokenizer, "causal", messages)


def test_decoder_labels_cover_only_the_completion(tmp_path, decoder):
    loaded, format_chat = decoder
    path = _write(tmp_path / "d.jsonl", [_record()])
    [row] = encode_examples(
        load_examples(path),
        tokenizer=loaded.tokenizer,
        kind="causal",
        format_chat=format_chat,
        max_length=128,
    )
    tok = loaded.tokenizer
    # The prompt is what ChatLocal sends: the chat template with the generation prompt.
    prompt = format_chat([{"role": "user", "content": "What is the capital of France?"}])
    assert prompt.endswith("<|im_start|>assistant\n")
    prompt_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    target = [*tok("Paris", add_special_tokens=False)["input_ids"], tok.eos_token_id]
    assert row["input_ids"] == prompt_ids + target
    assert row["labels"] == [IGNORE_INDEX] * len(prompt_ids) + target
    assert row["attention_mask"] == [1] * len(row["input_ids"])


def test_over_long_record_names_the_line(tmp_path, decoder):
    loaded, format_chat = decoder
    path = _write(tmp_path / "d.jsonl", [_record(), _record(completion="hello world " * 40)])
    with pytest.raises(ContextLengthError, match=r":2: line 2 is \d+ tokens long, over the limit"):
        encode_examples(
            load_examples(path),
            tokenizer=loaded.tokenizer,
            kind="causal",
            format_chat=format_chat,
            max_length=loaded.context_length,
        )


def test_seq2seq_rows_and_padding(tmp_path, tiny_t5_path):
    from localchain.models.loading import load_model

    loaded = load_model(str(tiny_t5_path), device="cpu")
    path = _write(tmp_path / "d.jsonl", [_record(), _record(prompt="hello", completion="hi there")])
    rows = encode_examples(
        load_examples(path),
        tokenizer=loaded.tokenizer,
        kind="seq2seq",
        format_chat=lambda messages: format_chat(loaded.tokenizer, "seq2seq", messages),
        max_length=128,
    )
    assert rows[0]["input_ids"] == loaded.tokenizer("What is the capital of France?")["input_ids"]
    assert rows[0]["labels"][-1] == loaded.tokenizer.eos_token_id
    batch = PadCollator(pad_id=0)(rows)
    width = max(len(r["input_ids"]) for r in rows)
    assert batch["input_ids"].shape == (2, width)
    short = min(range(2), key=lambda i: len(rows[i]["labels"]))
    assert batch["labels"][short, -1].item() == IGNORE_INDEX
    assert batch["attention_mask"].sum().item() == sum(len(r["input_ids"]) for r in rows)
