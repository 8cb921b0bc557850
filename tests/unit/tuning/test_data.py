import json

import pytest

from localchain.errors import ConfigError, ContextLengthError
from localchain.tuning.data import (
    IGNORE_INDEX,
    PadCollator,
    encode_examples,
    file_sha256,
    load_examples,
    split_examples,
)


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _record(prompt="What is the capital of France?", completion="Paris"):
    return json.dumps({"prompt": prompt, "completion": completion})


def test_reads_prompt_completion_and_chat_records(tmp_path):
    chat = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hello"},
            {"role": "assistant", "content": "hi"},
        ]
    }
    path = _write(tmp_path / "d.jsonl", [_record(), "", json.dumps(chat)])
    first, second = load_examples(path)
    assert first.messages == [{"role": "user", "content": "What is the capital of France?"}]
    assert (first.completion, first.line) == ("Paris", 1)
    assert second.messages[0] == {"role": "system", "content": "Be brief."}
    assert (second.completion, second.line) == ("hi", 3)


def test_template_and_system_are_applied(tmp_path):
    path = _write(tmp_path / "d.jsonl", [_record(prompt="2+2")])
    [example] = load_examples(path, template="flan-qa", system="Answer in digits.")
    assert example.messages == [
        {"role": "system", "content": "Answer in digits."},
        {"role": "user", "content": "Q: 2+2\nA:"},
    ]
    [custom] = load_examples(path, template="Task: {prompt}")
    assert custom.messages[0]["content"] == "Task: 2+2"
    with pytest.raises(ConfigError, match="Unknown prompt template"):
        load_examples(path, template="nope")


def test_empty_file_is_refused(tmp_path):
    path = _write(tmp_path / "empty.jsonl", ["", "  "])
    with pytest.raises(ConfigError, match="empty"):
        load_examples(path)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_examples(tmp_path / "nope.jsonl")


def test_bad_json_names_the_line(tmp_path):
    path = _write(tmp_path / "d.jsonl", [_record(), _record(), '{"prompt": "x", "completion": '])
    with pytest.raises(ConfigError, match=r"d\.jsonl:3: line 3 is not valid JSON"):
        load_examples(path)


def test_missing_field_names_the_line_and_field(tmp_path):
    path = _write(tmp_path / "d.jsonl", [_record(), json.dumps({"prompt": "x"})])
    with pytest.raises(ConfigError, match=r":2: line 2 lacks the field\(s\) 'completion'"):
        load_examples(path)


@pytest.mark.parametrize(
    ("record", "fragment"),
    [
        ({"prompt": 3, "completion": "x"}, "field 'prompt' must be a string, got int"),
        ({"prompt": "x", "completion": ["a"]}, "field 'completion' must be a string, got list"),
        ([1, 2], "is a JSON list, not an object"),
        ({"messages": "hi"}, "'messages' must be a list"),
        ({"messages": [{"role": "user", "content": "a"}, {"role": "bot", "content": "b"}]}, "role"),
        (
            {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]},
            "must end with a non-empty assistant message",
        ),
        ({"prompt": "x", "completion": "  "}, "empty 'completion'"),
    ],
)
def test_wrong_types_name_the_line(tmp_path, record, fragment):
    path = _write(tmp_path / "d.jsonl", [_record(), _record(), json.dumps(record)])
    with pytest.raises(ConfigError, match="line 3") as info:
        load_examples(path)
    assert fragment in str(info.value)


def test_split_is_seeded_and_holds_out_at_least_one(tmp_path):
    path = _write(tmp_path / "d.jsonl", [_record(completion=str(i)) for i in range(10)])
    examples = load_examples(path)
    train, val = split_examples(examples, 0.2, seed=1)
    assert (len(train), len(val)) == (8, 2)
    assert [e.line for e in split_examples(examples, 0.2, seed=1)[1]] == [e.line for e in val]
    assert len(split_examples(examples[:3], 0.01)[1]) == 1
    assert split_examples(examples, 0.0) == (examples, [])
    with pytest.raises(ConfigError, match="Cannot hold out"):
        split_examples(examples[:1], 0.1)


def test_sha256_is_stable(tmp_path):
    path = _write(tmp_path / "d.jsonl", [_record()])
    assert file_sha256(path) == file_sha256(path) and len(file_sha256(path)) == 64


@pytest.fixture(scope="module")
def decoder(tiny_decoder_path):
    from localchain.models.engines.transformers import TransformersEngine
    from localchain.models.loading import load_model

    loaded = load_model(str(tiny_decoder_path), device="cpu")
    return loaded, TransformersEngine(loaded).format_chat


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
    from localchain.models.engines.transformers import TransformersEngine
    from localchain.models.loading import load_model

    loaded = load_model(str(tiny_t5_path), device="cpu")
    path = _write(tmp_path / "d.jsonl", [_record(), _record(prompt="hello", completion="hi there")])
    rows = encode_examples(
        load_examples(path),
        tokenizer=loaded.tokenizer,
        kind="seq2seq",
        format_chat=TransformersEngine(loaded).format_chat,
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
