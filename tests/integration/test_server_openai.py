"""`localchain serve` in a real process on a loopback port, driven by the official clients.

The tiny random model (with two LoRA adapters, served as models) keeps it fast: the `openai`
client for every endpoint and error, and langchain-openai's ChatOpenAI running a localchain
chain and a tool-calling loop against the server.
"""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from langchain_core.messages import HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool

from tests.unit.server.helpers import (
    ScriptedScheduler,
    ServerProcess,
    ServerThread,
    server_adapters,
    server_model_path,
)

__all__ = ["server_adapters", "server_model_path"]

MODEL = "tiny-chat"
CITY = {"type": "string", "enum": ["Paris", "Berlin"]}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city.",
        "parameters": {"type": "object", "properties": {"city": CITY}, "required": ["city"]},
    },
}


@pytest.fixture(scope="module")
def server(server_model_path, server_adapters, tmp_path_factory):
    db = tmp_path_factory.mktemp("db") / "conversations.sqlite3"
    args = [
        "--model", str(server_model_path), "--model-name", MODEL,
        "--adapter", f"alpha={server_adapters['alpha']}",
        "--adapter", f"beta={server_adapters['beta']}",
        "--embedding-model", str(server_model_path), "--db", str(db), "--device", "cpu",
    ]  # fmt: skip
    with ServerProcess(*args) as process:
        yield process
    # uvicorn re-raises SIGTERM after its graceful shutdown (exit status -15).
    assert process.process.returncode in (0, -15), process.log
    assert "Application shutdown complete" in process.log


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)


def test_plain_chat_and_adapters(client):
    def ask(model):
        reply = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "hello"}], max_tokens=8
        )
        return reply

    base = ask(MODEL)
    assert base.choices[0].message.role == "assistant" and base.usage.completion_tokens > 0
    assert base.usage.total_tokens == base.usage.prompt_tokens + base.usage.completion_tokens
    texts = {ask(m).choices[0].message.content for m in (MODEL, "alpha", "beta")}
    assert len(texts) == 3


def test_streamed_with_usage(client):
    plain = client.chat.completions.create(
        model="alpha", messages=[{"role": "user", "content": "hi"}], max_tokens=8
    )
    stream = client.chat.completions.create(
        model="alpha",
        messages=[{"role": "user", "content": "hi"}],
        max_tokens=8,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert chunks[-1].usage.completion_tokens == plain.usage.completion_tokens


def test_tools_and_response_format(client):
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[WEATHER],
        tool_choice="required",
        max_tokens=150,
    )
    call = reply.choices[0].message.tool_calls[0]
    assert reply.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments)["city"] in ("Paris", "Berlin")

    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Is it fine?"}],
        response_format={"type": "json_schema", "json_schema": {"name": "r", "schema": schema}},
        max_tokens=60,
    )
    assert isinstance(json.loads(reply.choices[0].message.content)["ok"], bool)


def test_completions_embeddings_and_models(client, server_model_path):
    completion = client.completions.create(model=MODEL, prompt="The capital of", max_tokens=4)
    assert completion.choices[0].text and completion.usage.completion_tokens <= 4
    model_ids = {m.id: m for m in client.models.list().data}
    assert {MODEL, "alpha", "beta", server_model_path.name} <= set(model_ids)
    assert model_ids["alpha"].model_extra["parent"] == MODEL
    vectors = client.embeddings.create(model=server_model_path.name, input=["a cat", "a dog"])
    assert len(vectors.data) == 2 and len(vectors.data[0].embedding) == 32


def test_errors_come_back_as_openai_exceptions(client):
    messages = [{"role": "user", "content": "hi"}]
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="gpt-4o", messages=messages)
    assert info.value.body["code"] == "model_not_found"
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=MODEL, messages=messages, logit_bias={"5": 10})
    assert info.value.body["param"] == "logit_bias"
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=MODEL, messages=[])
    assert info.value.status_code == 400
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODEL, messages=messages, temperature=5)
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x " * 1200}]
        )
    assert info.value.body["code"] == "context_length_exceeded"
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x" * 5_000_000}]
        )
    assert info.value.status_code == 413


def test_chat_openai_runs_a_localchain_chain_and_a_tool_loop(server):
    from langchain_openai import ChatOpenAI

    from localchain.chains.sequential import SequentialChain
    from localchain.tools import run_tool_call

    model = ChatOpenAI(
        base_url=f"{server.url}/v1", api_key="unused", model=MODEL, max_tokens=8, temperature=0
    )
    prompt = ChatPromptTemplate.from_messages([("user", "Say something about {topic}.")])
    chain = SequentialChain(
        [("reply", prompt | model | StrOutputParser())], input_variables=["topic"]
    )
    out = chain.invoke({"topic": "cats"})
    direct = httpx.post(
        f"{server.url}/v1/chat/completions",
        json={"model": MODEL, "max_tokens": 8, "temperature": 0,
              "messages": [{"role": "user", "content": "Say something about cats."}]},
    ).json()  # fmt: skip
    assert out["reply"] == direct["choices"][0]["message"]["content"]
    streamed = "".join(chunk.content for chunk in (prompt | model).stream({"topic": "cats"}))
    assert streamed == out["reply"]

    @tool
    def get_weather(city: str) -> str:
        """Weather in a city."""
        return f"Sunny in {city}."

    get_weather.args_schema.model_fields["city"].json_schema_extra = {"enum": ["Paris", "Berlin"]}
    tools_model = ChatOpenAI(
        base_url=f"{server.url}/v1", api_key="unused", model="alpha", max_tokens=150
    ).bind_tools([WEATHER], tool_choice="required")
    history = [HumanMessage("Weather in Paris?")]
    first = tools_model.invoke(history)
    assert first.tool_calls and first.tool_calls[0]["name"] == "get_weather"
    result = run_tool_call([get_weather], first.tool_calls[0])
    assert result.content.startswith("Sunny in ")
    final = model.invoke([*history, first, result])
    assert isinstance(final.content, str) and final.response_metadata["finish_reason"]


def test_queue_limit_and_api_key(server_model_path, tmp_path):
    from localchain.models import load_model
    from localchain.server import ServerConfig, create_app

    lm = load_model(str(server_model_path), device="cpu")
    config = ServerConfig(model="unused", model_name=MODEL, api_key="k3y", db_path=tmp_path / "db")
    full = ScriptedScheduler(max_queue=0)
    with ServerThread(create_app(config, loaded=lm, scheduler=full)) as server:
        url = f"{server.url}/v1"
        with pytest.raises(openai.AuthenticationError) as info:
            openai.OpenAI(base_url=url, api_key="wrong", max_retries=0).models.list()
        assert info.value.body["code"] == "invalid_api_key"
        client = openai.OpenAI(base_url=url, api_key="k3y", max_retries=0)
        assert client.models.list().data[0].id == MODEL
        with pytest.raises(openai.RateLimitError) as info:
            client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "hi"}]
            )
        assert int(info.value.response.headers["retry-after"]) >= 1
