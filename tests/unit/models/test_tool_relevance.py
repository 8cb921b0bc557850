"""ChatLocal's relevance floor: in auto mode, only the tools a request is about are offered."""

from __future__ import annotations

import pytest
from langchain_core.embeddings import Embeddings
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from localchain.errors import ConfigError
from localchain.models import ChatLocal
from localchain.models.tool_relevance import (
    RELEVANCE_FLOOR,
    ToolScorer,
    check_floor,
    request_text,
    tool_text,
)

VOCABULARY = ["weather", "city", "rain", "stock", "price", "share", "area", "triangle"]


class KeywordEmbeddings(Embeddings):
    """Counts of a few words: similar texts share words. Records what it embedded."""

    def __init__(self) -> None:
        self.documents: list[str] = []

    def _vector(self, text: str) -> list[float]:
        words = text.lower().replace("?", " ").replace(":", " ").replace(".", " ").split()
        return [float(words.count(w)) for w in VOCABULARY]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents.extend(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


def _tool(name: str, description: str) -> dict:
    params = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": params},
    }


WEATHER = _tool("get_weather", "The weather in a city: sun, rain, wind.")
STOCK = _tool("stock_price", "The price of a stock share.")


def test_tool_text_splits_the_name_into_words():
    assert tool_text("get_weather.now-ish", "Weather.") == "get weather now ish: Weather."
    assert tool_text("f", None) == "f:"


def test_check_floor_accepts_auto_numbers_and_none_only():
    assert check_floor("auto") == RELEVANCE_FLOOR
    assert check_floor(0.5) == 0.5
    assert check_floor(None) is None
    for bad in ("high", 2, True, -1.5):
        with pytest.raises(ConfigError, match="tool_relevance_floor"):
            check_floor(bad)
    with pytest.raises(ConfigError, match="tool_relevance_floor must be 'auto'"):
        ChatLocal(tool_relevance_floor="always")


def test_request_text_is_the_latest_user_message():
    messages = [
        SystemMessage("be brief"),
        HumanMessage("weather in Paris?"),
        AIMessage("", tool_calls=[{"name": "get_weather", "args": {"q": "Paris"}, "id": "1"}]),
        ToolMessage("rain", tool_call_id="1"),
    ]
    assert request_text(messages) == "weather in Paris?"
    assert request_text([SystemMessage("x")]) is None


def test_scorer_embeds_each_tool_once_and_keeps_order():
    embeddings = KeywordEmbeddings()
    scorer = ToolScorer(embeddings)
    tools = [STOCK, WEATHER]
    assert scorer.relevant("Will it rain in this city?", tools, 0.3) == [WEATHER]
    assert scorer.relevant("stock price and weather?", tools, 0.3) == [STOCK, WEATHER]
    assert scorer.relevant("Hello there!", tools, 0.3) == []  # no shared word: similarity 0
    assert len(embeddings.documents) == 2  # tool texts embedded on first use only


def _prepared(chat, text, **kwargs):
    return chat._prepare([HumanMessage(text)], dict(kwargs))


def test_auto_mode_offers_only_relevant_tools(tiny_decoder_path):
    chat = ChatLocal(
        model=str(tiny_decoder_path),
        device="cpu",
        tool_relevance_floor=0.3,
        tool_embeddings=KeywordEmbeddings(),
    )
    tools = [WEATHER, STOCK]
    request = _prepared(chat, "Will it rain in the city?", tools=tools, tool_choice="auto")
    assert "get_weather" in request.prompt
    assert "stock_price" not in request.prompt  # dropped from the prompt and the grammar
    assert "stock_price" not in str(request.schema)
    # Nothing relevant: no tools, no grammar, a plain text reply.
    unrelated = _prepared(chat, "Tell me a joke.", tools=tools, tool_choice="auto")
    assert unrelated.schema is None
    assert "get_weather" not in unrelated.prompt
    # Forced calls are never filtered.
    forced = _prepared(chat, "Tell me a joke.", tools=tools, tool_choice="any")
    assert "get_weather" in forced.prompt
    assert "stock_price" in str(forced.schema)


def test_without_a_floor_every_tool_is_offered(tiny_decoder_path):
    embeddings = KeywordEmbeddings()
    chat = ChatLocal(model=str(tiny_decoder_path), device="cpu", tool_embeddings=embeddings)
    request = _prepared(chat, "Tell me a joke.", tools=[WEATHER, STOCK], tool_choice="auto")
    assert "get_weather" in request.prompt
    assert "stock_price" in request.prompt
    assert embeddings.documents == []  # nothing embedded when the floor is off


def test_an_irrelevant_request_gets_a_text_reply(tiny_decoder_path):
    chat = ChatLocal(
        model=str(tiny_decoder_path),
        device="cpu",
        max_tokens=6,
        tool_relevance_floor=0.3,
        tool_embeddings=KeywordEmbeddings(),
    )
    bound = chat.bind_tools([WEATHER, STOCK])
    reply = bound.invoke("Tell me a joke.")
    assert reply.tool_calls == []
    assert isinstance(reply.content, str)


def test_request_text_skips_an_agents_notes():
    from langchain_core.messages import AIMessage, HumanMessage

    from localchain.models.tool_relevance import NOT_A_REQUEST, request_text

    note = HumanMessage("Your last reply was cut off.", additional_kwargs={NOT_A_REQUEST: True})
    assert request_text([HumanMessage("weather in Paris?"), AIMessage("..."), note]) == (
        "weather in Paris?"
    )
    assert request_text([note]) is None


def test_one_scorer_serves_many_threads_at_once():
    from concurrent.futures import ThreadPoolExecutor

    embeddings = KeywordEmbeddings()
    scorer = ToolScorer(embeddings)
    requests = ["Will it rain in this city?", "stock price?", "Hello!", "share price, weather?"]
    alone = [ToolScorer(KeywordEmbeddings()).relevant(r, [STOCK, WEATHER], 0.3) for r in requests]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda r: scorer.relevant(r, [STOCK, WEATHER], 0.3), requests * 8))
    assert together == alone * 8
    assert sorted(embeddings.documents) == sorted(
        [
            tool_text("stock_price", "The price of a stock share."),
            tool_text("get_weather", "The weather in a city: sun, rain, wind."),
        ]
    )


def test_a_scorer_makes_its_embeddings_on_the_first_score_only_once():
    from concurrent.futures import ThreadPoolExecutor

    made: list[KeywordEmbeddings] = []

    def make() -> KeywordEmbeddings:
        made.append(KeywordEmbeddings())
        return made[-1]

    scorer = ToolScorer(make)
    assert made == []  # building a scorer loads nothing
    with ThreadPoolExecutor(max_workers=8) as pool:
        offered = list(pool.map(lambda r: scorer.relevant(r, [STOCK, WEATHER], 0.3), ["rain?"] * 8))
    assert len(made) == 1 and scorer.embeddings is made[0]
    assert offered == [ToolScorer(KeywordEmbeddings()).relevant("rain?", [STOCK, WEATHER], 0.3)] * 8
