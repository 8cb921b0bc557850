"""Knowledge-graph memory with a hand-written triple extractor."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from langchain_core.runnables import RunnableLambda

from localchain.errors import ConfigError
from localchain.memory import Fact, KnowledgeGraphMemory


@dataclass
class T:
    subject: str
    relation: str
    object: str


def extract(text):
    """'X lives in Y.' / 'X works at Y.' sentences become triples."""
    found = re.findall(r"(\w+) (lives in|works at|likes) (\w+)", text)
    return [T(*groups) for groups in found]


def test_recalls_facts_about_mentioned_entities():
    memory = KnowledgeGraphMemory(extract, keep_last=1)
    memory.add_turn("Ada lives in Paris. Bob works at Acme.", "Noted.")
    memory.add_turn("Ada likes tea.", "Nice.")
    loaded = memory.load("Where does ada live?")
    assert loaded[0].type == "system"
    assert "Ada lives in Paris" in loaded[0].text and "Ada likes tea" in loaded[0].text
    assert "Bob" not in loaded[0].text
    assert [m.text for m in loaded[1:]] == ["Ada likes tea.", "Nice."]
    assert memory.facts_about("paris") == [Fact("Ada", "lives in", "Paris")]
    assert memory.entities == ["Acme", "Ada", "Bob", "Paris", "tea"]


def test_no_facts_without_a_mention_and_whole_words_only():
    memory = KnowledgeGraphMemory(extract, keep_last=0)
    memory.add_turn("Ada lives in Paris.", "ok")
    assert memory.load("Tell me about Adam.") == []


def test_extraction_runs_once_per_message_and_dedupes():
    calls = []

    def counting(text):
        calls.append(text)
        return extract(text)

    memory = KnowledgeGraphMemory(counting, roles=["human"])
    memory.add_turn("Ada lives in Paris.", "Ada lives in Paris.")
    memory.add_turn("ada  lives in paris.", "ok")
    memory.load("Ada?")
    memory.load("Ada?")
    assert calls == ["Ada lives in Paris.", "ada  lives in paris."]
    assert len(memory.facts_about("Ada")) == 1


def test_accepts_runnables_dicts_and_tuples():
    chain = RunnableLambda(lambda d: [{"subject": "Ada", "relation": "owns", "object": "Rex"}])
    memory = KnowledgeGraphMemory(chain)
    memory.add_turn("hi", "hello")
    assert memory.facts_about("Rex") == [Fact("Ada", "owns", "Rex")]
    memory = KnowledgeGraphMemory(lambda text: [("Rex", "is a", "dog")])
    memory.add_turn("x", "y")
    assert "Rex is a dog" in memory.load("rex")[0].text


def test_bad_extractor_output_is_a_clear_error_and_retried_later():
    outputs = [[("Ada", "", "Paris")], [("Ada", "lives in", "Paris")]]
    memory = KnowledgeGraphMemory(lambda text: outputs.pop(0), roles=["human"])
    memory.add_messages([])
    memory.add_turn("Ada lives in Paris.", "ok")
    with pytest.raises(ConfigError, match="non-empty string"):
        memory.load("Ada")
    assert "Ada lives in Paris" in memory.load("Ada")[0].text


def test_bad_arguments():
    with pytest.raises(ConfigError, match="extract must be"):
        KnowledgeGraphMemory("not callable")
    with pytest.raises(ConfigError, match="roles"):
        KnowledgeGraphMemory(extract, roles=["robot"])
    memory = KnowledgeGraphMemory(extract)
    memory.add_turn("Ada lives in Paris.", "ok")
    memory.clear()
    assert memory.entities == []
