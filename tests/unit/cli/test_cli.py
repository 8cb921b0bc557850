"""The ``localchain`` command line, run in-process on the tiny decoder checkpoint."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from localchain import __version__
from localchain.cli import main
from localchain.cli.chat_loop import ChatSession, run_chat
from localchain.models import adapters
from localchain.models.chat import ChatLocal


@pytest.fixture
def stdin(monkeypatch):
    def feed(text: str) -> None:
        monkeypatch.setattr("sys.stdin", io.StringIO(text))

    return feed


@pytest.fixture
def stream_calls(monkeypatch) -> list[list[BaseMessage]]:
    """Record the conversation ChatLocal.stream is given on each turn."""
    calls: list[list[BaseMessage]] = []
    original = ChatLocal.stream

    def recording(self, messages, *args, **kwargs):
        calls.append(list(messages))
        return original(self, messages, *args, **kwargs)

    monkeypatch.setattr(ChatLocal, "stream", recording)
    return calls


def test_piped_question_prints_the_answer_and_exits_0(tiny_decoder_path, stdin, capsys):
    stdin("What is the capital of France?\n")
    rc = main(["chat", "--model", str(tiny_decoder_path), "--max-new-tokens", "6"])
    out, err = capsys.readouterr()
    expected = ChatLocal(model=str(tiny_decoder_path), max_new_tokens=6).invoke(
        "What is the capital of France?"
    )
    assert rc == 0
    assert out == expected.text + "\n"  # stdout holds only the (greedy) answer
    assert "localchain chat: model" in err
    assert str(tiny_decoder_path.resolve()) in err  # the banner says where it is from


def test_no_stream_gives_the_same_answer(tiny_decoder_path, stdin, capsys):
    args = ["chat", "--model", str(tiny_decoder_path), "--max-new-tokens", "6"]
    stdin("Hello\n")
    assert main(args) == 0
    streamed = capsys.readouterr().out
    stdin("Hello\n")
    assert main([*args, "--no-stream"]) == 0
    assert capsys.readouterr().out == streamed


def test_history_is_kept_and_reset_clears_it(tiny_decoder_path, stdin, stream_calls, capsys):
    args = ["chat", "--model", str(tiny_decoder_path), "--max-new-tokens", "3", "--system", "S"]
    stdin("first\nsecond\n/reset\nthird\n/exit\nnever read\n")
    assert main(args) == 0
    sizes = [len(call) for call in stream_calls]
    assert sizes == [2, 4, 2]  # system+user, then +reply+user, then back to system+user
    assert stream_calls[2][0].content == "S"
    assert stream_calls[2][1].content == "third"
    assert "conversation cleared" in capsys.readouterr().err


def test_eof_without_input_exits_cleanly(tiny_decoder_path, stdin, capsys):
    stdin("")
    assert main(["chat", "--model", str(tiny_decoder_path)]) == 0
    assert capsys.readouterr().out == ""


def test_unknown_model_exits_1_with_the_message(stdin, capsys):
    stdin("hello\n")
    rc = main(["chat", "--model", "smollm2-135m-instruc"])
    out, err = capsys.readouterr()
    assert rc == 1
    assert out == ""
    assert "Unknown model 'smollm2-135m-instruc'" in err
    assert "Did you mean 'smollm2-135m-instruct'?" in err
    assert "Traceback" not in err


def test_invalid_device_exits_1(tiny_decoder_path, capsys):
    rc = main(["chat", "--model", str(tiny_decoder_path), "--device", "tpu"])
    assert rc == 1
    assert "Unknown device 'tpu'" in capsys.readouterr().err


def test_bad_flag_value_is_a_usage_error(capsys):
    assert main(["chat", "--max-new-tokens", "0"]) == 2
    assert "greater than or equal to 1" in capsys.readouterr().err


def test_models_table_lists_registry_and_availability(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert lines["NAME"].split() == ["NAME", "KIND", "PARAMS", "AVAILABLE", "FROM"]
    assert "causal" in lines["smollm2-135m-instruct"]
    assert "135M" in lines["smollm2-135m-instruct"]
    assert lines["flan-t5-small"].split()[1:3] == ["seq2seq", "77M"]
    for name in ("smollm2-135m-instruct", "flan-t5-small", "all-minilm-l6-v2"):
        assert " yes " in lines[name] or " no " in lines[name]


def test_models_json(capsys):
    from localchain.models.registry import available_models

    assert main(["models", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    models = {m["name"]: m for m in data["models"]}
    assert {"smollm2-135m-instruct", "flan-t5-small"} <= set(models)
    for spec, resolved in available_models():
        assert models[spec.name]["available"] is (resolved is not None)
        assert (models[spec.name]["path"] is None) is (resolved is None)
    assert models["smollm2-135m-instruct"]["default"] is True
    assert [m["name"] for m in data["embedding_models"]] == ["all-minilm-l6-v2"]
    assert isinstance(data["adapters"], list)  # the adapters module is part of every install


def test_models_lists_registered_adapters(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(adapters, "list_adapters", lambda: {"pirate": tmp_path / "pirate"})
    assert main(["models", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["adapters"] == [{"name": "pirate", "path": str(tmp_path / "pirate")}]
    assert main(["models"]) == 0
    assert "pirate" in capsys.readouterr().out


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"localchain {__version__}"


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "chat" in capsys.readouterr().err


# -- the loop itself, on fake models ---------------------------------------------------------


class _InterruptedChat(BaseChatModel):
    """Streams one token, then the user presses Ctrl-C; later turns answer "ok"."""

    turns: int = 0

    @property
    def _llm_type(self) -> str:
        return "interrupted"

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage("ok"))])

    def _stream(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Iterator[Any]:
        self.turns += 1
        if self.turns == 1:
            yield ChatGenerationChunk(message=AIMessageChunk("Par"))
            raise KeyboardInterrupt
        yield ChatGenerationChunk(message=AIMessageChunk("ok"))


def test_ctrl_c_stops_the_reply_but_keeps_the_chat():
    session = ChatSession(_InterruptedChat())
    out, err = io.StringIO(), io.StringIO()
    rc = run_chat(session, stdin=io.StringIO("first\nsecond\n"), stdout=out, stderr=err)
    assert rc == 0
    assert out.getvalue() == "Par\nok\n"
    assert "interrupted" in err.getvalue()
    assert [m.content for m in session.messages] == ["second", "ok"]  # the cut turn is gone


def test_session_keeps_history_as_messages():
    model = GenericFakeChatModel(messages=iter(["Paris.", "Rome."]))
    session = ChatSession(model, system="Be brief.")
    pieces: list[str] = []
    assert session.send("France?", on_token=pieces.append) == "Paris."
    assert "".join(pieces) == "Paris."
    assert session.send("Italy?", stream=False) == "Rome."
    assert [type(m).__name__ for m in session.messages] == [
        "SystemMessage",
        "HumanMessage",
        "AIMessage",
        "HumanMessage",
        "AIMessage",
    ]
    session.reset()
    assert [m.content for m in session.messages] == ["Be brief."]


def test_missing_adapter_exits_1_before_chatting(tiny_decoder_path, stdin, capsys):
    stdin("hello\n")
    rc = main(["chat", "--model", str(tiny_decoder_path), "--adapter", "no-such-adapter"])
    out, err = capsys.readouterr()
    assert rc == 1
    assert out == ""
    assert "no-such-adapter" in err


def test_serve_takes_the_tool_settings(monkeypatch):
    import localchain.server as server
    from localchain.cli import build_parser, main

    seen = []
    monkeypatch.setattr(server, "serve", seen.append)
    assert main(["serve", "--tool-adapter", "auto", "--tool-relevance-floor", "auto"]) == 0
    assert (seen[0].tool_adapter, seen[0].tool_relevance_floor) == ("auto", "auto")
    args = build_parser().parse_args(["serve", "--tool-relevance-floor", "0.4"])
    assert args.tool_relevance_floor == 0.4
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--tool-relevance-floor", "high"])
