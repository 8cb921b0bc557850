"""ChatLocal on the real embedded SmolLM2-135M-Instruct: answers, forced tool calls, schemas."""

from __future__ import annotations

import pytest
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from localchain.models.chat import ChatLocal

pytestmark = pytest.mark.slow


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"It is sunny in {city}."


class CityFacts(BaseModel):
    """Facts about a city."""

    city: str = Field(description="The city's name")
    country: str = Field(description="The country it is in")


@pytest.fixture(scope="module")
def smollm() -> ChatLocal:
    return ChatLocal(model="smollm2-135m-instruct", device="cpu", max_tokens=24)


def test_capital_of_france(smollm):
    reply = smollm.invoke("What is the capital of France?")
    assert "Paris" in reply.content
    assert reply.usage_metadata["output_tokens"] <= 24


def test_forced_tool_call_gets_city(smollm):
    reply = smollm.bind_tools([get_weather], tool_choice="any").invoke(
        "What's the weather in Paris?"
    )
    assert len(reply.tool_calls) == 1
    call = reply.tool_calls[0]
    assert call["name"] == "get_weather"
    assert "Paris" in call["args"]["city"]


def test_structured_output_pydantic(smollm):
    structured = smollm.with_structured_output(CityFacts)
    facts = structured.invoke("Paris is the capital of France. Give the city and its country.")
    assert isinstance(facts, CityFacts)
    assert "Paris" in facts.city
