"""Running-summary memory with a scripted model."""

from __future__ import annotations

import pytest
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import SystemMessage
from langchain_core.prompts import PromptTemplate

from localchain.errors import ConfigError
from localchain.memory import SummaryMemory
from localchain.models import FakeChatModel


def _fill(memory, n, start=0):
    for i in range(start, start + n):
        memory.add_turn(f"question {i}", f"answer {i}")


def test_no_model_call_while_everything_fits_the_window():
    model = FakeChatModel(responses=[])
    memory = SummaryMemory(model, keep_last=2)
    _fill(memory, 2)
    assert [m.text for m in memory.load()] == ["question 0", "answer 0", "question 1", "answer 1"]
    assert model.calls == []


def test_older_turns_are_summarised_incrementally():
    model = FakeChatModel(responses=["Ada asked two things.", "Ada asked three things."])
    memory = SummaryMemory(model, keep_last=1)
    _fill(memory, 3)
    loaded = memory.load()
    assert isinstance(loaded[0], SystemMessage)
    assert loaded[0].text == "Summary of the earlier conversation: Ada asked two things."
    assert [m.text for m in loaded[1:]] == ["question 2", "answer 2"]
    prompt = model.calls[0].messages[-1].text
    assert "question 0" in prompt and "question 1" in prompt and "question 2" not in prompt
    memory.load()  # nothing new left the window: no call
    assert len(model.calls) == 1
    _fill(memory, 1, start=3)
    memory.load()
    second = model.calls[1].messages[-1].text
    assert "Ada asked two things." in second and "question 2" in second
    assert "question 0" not in second
    assert memory.summary == "Ada asked three things."


def test_empty_summary_raises_and_loses_nothing():
    model = FakeChatModel(responses=["   ", "Now summarised."])
    memory = SummaryMemory(model, keep_last=1)
    _fill(memory, 2)
    with pytest.raises(OutputParserException, match="empty summary"):
        memory.load()
    assert memory.summary == ""
    loaded = memory.load()  # the same turns are summarised again
    assert "question 0" in model.calls[1].messages[-1].text
    assert loaded[0].text.endswith("Now summarised.")


async def test_aload_uses_the_async_model_path():
    model = FakeChatModel(responses=["S1"])
    memory = SummaryMemory(model, keep_last=1)
    _fill(memory, 2)
    loaded = await memory.aload()
    assert loaded[0].text.endswith("S1")
    assert len(loaded) == 3


def test_clear_and_bad_prompt():
    model = FakeChatModel(responses=["S"])
    memory = SummaryMemory(model, keep_last=0)
    _fill(memory, 1)
    assert memory.load()[0].text.endswith("S")
    memory.clear()
    assert memory.summary == "" and memory.load() == []
    with pytest.raises(ConfigError, match="new_lines"):
        SummaryMemory(model, prompt=PromptTemplate.from_template("{summary}"))
    with pytest.raises(ConfigError, match="keep_last"):
        SummaryMemory(model, keep_last=-1)
