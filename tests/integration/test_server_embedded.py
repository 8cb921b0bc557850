"""`localchain serve` on the embedded models (SmolLM2-135M-Instruct, all-MiniLM-L6-v2).

The official clients against a real server process: a right answer, embeddings that mean
something, a ChatOpenAI tool-calling loop with localchain's calculator, and a smaller load test
(the tiny-model one in test_server_load.py sends 200 requests).
"""

from __future__ import annotations

import asyncio
import json
import math

import httpx
import openai
import pytest
from langchain_core.messages import HumanMessage

from tests.unit.server.helpers import ServerProcess

pytestmark = pytest.mark.slow

MODEL = "smollm2-135m-instruct"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("db") / "c.sqlite3"
    env = {"LOCALCHAIN_BLOCK_NAMED_MODELS": "0"}
    with ServerProcess("--db", str(db), "--device", "cpu", env=env) as process:
        yield process


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)


def test_answers_and_embeddings(client):
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=24,
    )
    assert "Paris" in reply.choices[0].message.content
    data = client.embeddings.create(
        model="all-minilm-l6-v2", input=["a small cat", "a kitten", "a diesel truck"]
    ).data
    vectors = [d.embedding for d in data]
    assert len(vectors[0]) == 384

    def cosine(a, b):
        return sum(x * y for x, y in zip(a, b)) / math.sqrt(
            sum(x * x for x in a) * sum(y * y for y in b)
        )

    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2])


def test_chat_openai_tool_loop_with_the_calculator(server):
    from langchain_openai import ChatOpenAI

    from localchain.tools import calculator, run_tool_call

    model = ChatOpenAI(base_url=f"{server.url}/v1", api_key="unused", model=MODEL, max_tokens=60)
    history = [HumanMessage("What is 17 * 23? Use the calculator.")]
    first = model.bind_tools([calculator], tool_choice="required").invoke(history)
    assert first.tool_calls and first.tool_calls[0]["name"] == calculator.name
    result = run_tool_call([calculator], first.tool_calls[0])
    assert result.status != "error", result.content
    final = model.invoke([*history, first, result])
    assert isinstance(final.content, str) and final.content


def test_concurrent_requests_alone_and_in_a_busy_batch(server):
    url = f"{server.url}/v1/chat/completions"
    prompts = ["Name a color.", "What is 2+2?", "Say hello in French."]

    def body(prompt, **extra):
        return {"model": MODEL, "messages": [{"role": "user", "content": prompt}],
                "max_tokens": 12, "temperature": 0, **extra}  # fmt: skip

    async def run():
        async with httpx.AsyncClient(timeout=600) as http:
            alone = {}
            for prompt in prompts:
                reply = (await http.post(url, json=body(prompt))).json()
                alone[prompt] = reply["choices"][0]["message"]["content"]

            async def streamed(prompt):
                text = ""
                async with http.stream("POST", url, json=body(prompt, stream=True)) as response:
                    async for line in response.aiter_lines():
                        if line.startswith("data: {"):
                            chunk = json.loads(line[6:])
                            text += chunk["choices"][0]["delta"].get("content", "")
                return text

            async def leave(prompt):
                async with http.stream("POST", url, json=body(prompt, stream=True)) as response:
                    async for _ in response.aiter_lines():
                        return "left"
                return "left"

            jobs, want = [], []
            for i in range(16):
                prompt = prompts[i % 3]
                if i % 8 == 7:
                    jobs.append(http.post(url, json={**body(prompt), "logprobs": True}))
                    want.append("4xx")
                elif i == 10:
                    jobs.append(leave(prompt))
                    want.append("left")
                elif i % 2:
                    jobs.append(streamed(prompt))
                    want.append(alone[prompt])
                else:
                    jobs.append(http.post(url, json=body(prompt)))
                    want.append(alone[prompt])
            return await asyncio.gather(*jobs), want

    results, want = asyncio.run(run())
    for result, expected in zip(results, want, strict=True):
        if expected == "4xx":
            assert result.status_code == 400 and result.json()["error"]["param"] == "logprobs"
        elif expected != "left":
            text = result if isinstance(result, str) else result.json()["choices"][0]["message"]
            text = text if isinstance(text, str) else text["content"]
            assert text == expected
    health = httpx.get(f"{server.url}/health").json()
    assert health["status"] == "ok" and health["queue_depth"] == 0


def test_tool_adapter_and_relevance_floor_on_the_server(tmp_path):
    """`serve --tool-adapter auto --tool-relevance-floor auto`: a weather request is called
    with the shipped adapter, a question no tool serves gets a text answer."""
    from fastapi.testclient import TestClient

    from localchain.server import ServerConfig, create_app

    weather = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
    config = ServerConfig(
        device="cpu",
        db_path=tmp_path / "c.sqlite3",
        tool_adapter="auto",
        tool_relevance_floor="auto",
    )
    with TestClient(create_app(config), base_url="http://127.0.0.1:8000") as c:
        assert "tool-calls-smollm2" in [m["id"] for m in c.get("/v1/models").json()["data"]]

        def ask(question):
            body = {
                "model": MODEL,
                "messages": [{"role": "user", "content": question}],
                "tools": [weather],
                "max_tokens": 48,
            }
            return c.post("/v1/chat/completions", json=body).json()["choices"][0]["message"]

        call = ask("What's the weather in Paris?")["tool_calls"][0]["function"]
        assert (call["name"], json.loads(call["arguments"])) == ("get_weather", {"city": "Paris"})
        answer = ask("Who wrote Hamlet?")
        assert not answer.get("tool_calls") and "Shakespeare" in answer["content"]
