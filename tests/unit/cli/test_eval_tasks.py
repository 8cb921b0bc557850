"""``localchain eval --task pal|triples`` and the jsonl task's required flags, in-process."""

from __future__ import annotations

import json

import pytest

from localchain.cli import main
from localchain.models.fake import FakeChatModel


def test_task_model_is_a_chat_local_from_the_flags(tiny_decoder_path):
    from localchain.cli import build_parser
    from localchain.cli.commands import eval_chat_model
    from localchain.models.chat import ChatLocal
    from localchain.models.registry import DEFAULT_MODEL

    parser = build_parser()
    args = parser.parse_args(["eval", "--task", "pal", "--base", str(tiny_decoder_path)])
    chat = eval_chat_model(args, default_max_new_tokens=160)
    assert isinstance(chat, ChatLocal)
    assert (chat.model, chat.adapter, chat.max_tokens) == (str(tiny_decoder_path), None, 160)
    args = parser.parse_args(["eval", "--task", "triples", "--max-new-tokens", "9"])
    chat = eval_chat_model(args, default_max_new_tokens=256)
    assert (chat.model, chat.max_tokens) == (DEFAULT_MODEL, 9)


def test_pal_writes_a_json_report(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(
        "localchain.cli.commands.eval_chat_model",
        lambda args, **_: FakeChatModel(fn=lambda messages, options: "2 + 2"),
    )
    problems = tmp_path / "p.json"
    problems.write_text(json.dumps([{"question": "What is 2 + 2?", "answer": 4}] * 2))
    out = tmp_path / "pal.json"
    args = f"--task pal --data {problems} --max-repairs 0 --output {out}"
    assert main(["eval", *args.split()]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].split() == ["TASK", "N", "CORRECT", "ACCURACY", "RAN"]
    assert f"wrote {out}" in captured.out
    assert "[2/2] correct" in captured.err  # one progress line per problem, on stderr
    saved = json.loads(out.read_text())
    assert saved["n"] == 2 and saved["accuracy"] == 1.0 and saved["data"] == str(problems)


@pytest.fixture
def fake_chat(monkeypatch):
    """Run task evaluations on FakeChatModel, recording the settings the CLI asked for."""
    asked = {}
    facts = json.dumps({"facts": ["Marie Curie was born in Warsaw."]})
    triples = json.dumps(
        {"triples": [{"subject": "Marie Curie", "relation": "born in", "object": "Warsaw"}]}
    )

    def fake(args, *, default_max_new_tokens):
        asked.update(base=args.base, adapter=args.adapter, max_new_tokens=default_max_new_tokens)
        return FakeChatModel(responses=[facts, triples] * 10)

    monkeypatch.setattr("localchain.cli.commands.eval_chat_model", fake)
    return asked


def test_triples_defaults_to_the_packaged_gold_set(capsys, fake_chat):
    assert main(["eval", "--task", "triples", "--limit", "1", "--adapter", "none"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].split()[:2] == ["MATCH", "TP"] and lines[1].startswith("strict")
    assert "1 texts from triples_gold.json (packaged)" in captured.out
    assert "Marie Curie | born_in | Warsaw" in captured.err
    assert fake_chat == {"base": None, "adapter": "none", "max_new_tokens": 256}


def test_an_explicit_task_adapter_on_a_model_without_adapters_is_a_clear_error(capsys, fake_chat):
    assert main(["eval", "--task", "triples", "--limit", "1", "--adapter", "x"]) == 1
    assert "needs a localchain model" in capsys.readouterr().err


def test_pal_samples_vote_and_label_the_report(tmp_path, capsys, monkeypatch):
    replies = iter(["3 + 4", "2 + 2", "8 - 4"] * 2)
    monkeypatch.setattr(
        "localchain.cli.commands.eval_chat_model",
        lambda args, **_: FakeChatModel(fn=lambda messages, options: next(replies)),
    )
    problems = tmp_path / "p.json"
    problems.write_text(json.dumps([{"question": "What is 2 + 2?", "answer": 4}] * 2))
    assert main(["eval", "--task", "pal", "--data", str(problems), "--samples", "3"]) == 0
    out = capsys.readouterr().out
    assert "self-consistency, 3 samples" in out
    assert out.splitlines()[-2].split()[:4] == ["all", "2", "2", "100.0%"]


def test_pal_defaults_to_the_packaged_problems(capsys, monkeypatch):
    def fake(args, *, default_max_new_tokens):
        assert default_max_new_tokens == 160
        return FakeChatModel(fn=lambda messages, options: "8")

    monkeypatch.setattr("localchain.cli.commands.eval_chat_model", fake)
    assert main(["eval", "--task", "pal", "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert "1 problems from pal_problems.json (packaged)" in out
    assert out.splitlines()[-2].split()[:4] == ["all", "1", "1", "100.0%"]  # answer 8 is right


@pytest.mark.parametrize(
    ("args", "missing"),
    [(["--base", "m"], "--data"), (["--data", "d.jsonl"], "--base"), ([], "--base and --data")],
)
def test_jsonl_task_needs_base_and_data(capsys, args, missing):
    assert main(["eval", *args]) == 1
    assert f"needs {missing}" in capsys.readouterr().err


def test_unknown_task_is_a_usage_error(capsys):
    assert main(["eval", "--task", "nope"]) == 2
    assert "invalid choice" in capsys.readouterr().err
