"""The example format below tuning and evaluation: records, templates, splits."""

import json

import pytest

from localchain.datasets import (
    TEMPLATES,
    Example,
    file_sha256,
    load_examples,
    parse_record,
    resolve_template,
    split_examples,
)
from localchain.errors import ConfigError


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


def test_parse_record_in_code_and_templates():
    example = parse_record({"prompt": "2+2", "completion": "4"}, template=TEMPLATES["flan-qa"])
    assert isinstance(example, Example)
    assert example.messages == [{"role": "user", "content": "Q: 2+2\nA:"}]
    assert example.where == "record 0"
    assert resolve_template(None) is None
    assert resolve_template("concise") == TEMPLATES["concise"]
    assert resolve_template("Do: {prompt}") == "Do: {prompt}"
    with pytest.raises(ConfigError, match="flan-qa"):
        resolve_template("no placeholder")


def test_package_is_lazy_and_old_paths_reexport():
    import subprocess
    import sys

    import localchain.datasets as datasets
    import localchain.tuning as tuning
    import localchain.tuning.data as data

    assert sorted(datasets.__all__) == sorted(
        ["TEMPLATES", "Example", "file_sha256", "load_examples", "parse_record",
         "resolve_template", "split_examples"]
    )  # fmt: skip
    for name in datasets.__all__:
        assert getattr(data, name) is getattr(datasets, name)
    assert tuning.Example is datasets.Example and tuning.load_examples is datasets.load_examples
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        datasets.nope  # noqa: B018
    code = (
        "import sys; from localchain.datasets import load_examples; "
        "print([m for m in ('torch', 'transformers', 'localchain.tuning', 'localchain.eval') "
        "if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_invalid_utf8_and_a_directory_name_the_file_and_line(tmp_path):
    from localchain.datasets import load_examples
    from localchain.errors import ConfigError

    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"prompt": "a", "completion": "b"}\n{"prompt": "\xff", "completion": "c"}\n')
    with pytest.raises(ConfigError, match=r"bad\.jsonl:2: line 2 is not valid UTF-8"):
        load_examples(bad)
    with pytest.raises(ConfigError, match="is a directory"):
        load_examples(tmp_path)
