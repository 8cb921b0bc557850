"""Map-reduce summarisation with a word-counting token counter and a scripted model."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_core.exceptions import OutputParserException

from localchain.chains import MapReduceSummarizer
from localchain.errors import ConfigError, ContextLengthError
from localchain.models import FakeChatModel


def words(text):
    return len(text.split())


def _short(messages, options):
    """Summarise to the first three words of the text after the instruction line."""
    body = messages[-1].text.split("\n", 1)[-1].split()
    return " ".join(body[:3])


TEXT = "\n\n".join(f"paragraph {i} " + "word " * 20 for i in range(10))


def test_short_text_is_summarised_in_one_call():
    model = FakeChatModel(responses=["tiny summary"])
    summarize = MapReduceSummarizer(model, token_budget=100, token_counter=words)
    assert summarize.invoke("a short text") == "tiny summary"
    assert len(model.calls) == 1


def test_long_text_maps_chunks_then_reduces():
    model = FakeChatModel(fn=_short)
    summarize = MapReduceSummarizer(model, token_budget=50, token_counter=words, return_steps=True)
    out = summarize.invoke(TEXT)
    assert len(out["chunk_summaries"]) == 5  # two 22-word paragraphs per 50-word chunk
    assert out["chunk_summaries"][1] == "paragraph 2 word"
    assert out["rounds"] == 0
    assert out["summary"] == "paragraph 0 word"
    assert len(model.calls) == 6
    for call in model.calls:
        assert words(call.messages[-1].text) <= 50 + 10  # budget plus the instruction


def test_summaries_collapse_recursively_until_they_fit():
    model = FakeChatModel(fn=_short)
    summarize = MapReduceSummarizer(model, token_budget=16, token_counter=words, return_steps=True)
    text = " ".join(f"w{i}" for i in range(200))
    out = summarize.invoke({"text": text})
    assert out["rounds"] >= 1
    assert words(out["summary"]) <= 3


async def test_async_path_uses_abatch_and_documents():
    model = FakeChatModel(fn=_short)
    summarize = MapReduceSummarizer(model, token_budget=50, token_counter=words)
    docs = [Document(page_content=p) for p in TEXT.split("\n\n")]
    assert await summarize.ainvoke(docs) == "paragraph 0 word"
    assert len(model.calls) == 6
    assert await summarize.ainvoke({"documents": docs[:1]}) == "paragraph 0 word"


def test_errors_empty_huge_and_malformed():
    model = FakeChatModel(fn=_short)
    summarize = MapReduceSummarizer(model, token_budget=20, token_counter=len)
    for empty in ("", "   ", [], {"documents": [Document(page_content=" ")]}):
        with pytest.raises(ConfigError, match="Nothing to summarise"):
            summarize.invoke(empty)
    with pytest.raises(ContextLengthError, match="cannot be split"):
        summarize.invoke("x" * 500)  # one 500-character "token" run with no separators
    with pytest.raises(ConfigError, match="'text' or 'documents'"):
        summarize.invoke({"body": "x"})
    with pytest.raises(ConfigError, match="list of Documents"):
        summarize.invoke(["not a document"])
    blank = MapReduceSummarizer(
        FakeChatModel(fn=lambda m, o: "  "), token_budget=50, token_counter=words
    )
    with pytest.raises(OutputParserException, match="empty summary for chunk"):
        blank.invoke(TEXT)


def test_summaries_that_do_not_shrink_are_an_error():
    model = FakeChatModel(fn=lambda m, o: m[-1].text.split("\n", 1)[-1])  # echoes its input
    summarize = MapReduceSummarizer(model, token_budget=30, token_counter=words)
    with pytest.raises(ContextLengthError, match="do not fit"):
        summarize.invoke(TEXT)


def test_bad_arguments():
    model = FakeChatModel(responses=[])
    with pytest.raises(ConfigError, match="token_budget"):
        MapReduceSummarizer(model, token_budget=0)
    with pytest.raises(ConfigError, match="model must be"):
        MapReduceSummarizer("gpt")
    from langchain_core.prompts import PromptTemplate

    with pytest.raises(ConfigError, match="single variable 'text'"):
        MapReduceSummarizer(model, map_prompt=PromptTemplate.from_template("{doc}"))
