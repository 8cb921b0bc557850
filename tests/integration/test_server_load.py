"""A bounded load test of `localchain serve` on the tiny model, and concurrency correctness.

200 concurrent requests (mixed adapters, a third streamed, a tenth malformed, a few clients
that leave early) against a real server process: every request is answered, the malformed ones
with a 4xx, the rest complete with the same text each gives alone, and afterwards the server is
healthy with no row left running.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from tests.unit.server.helpers import ServerProcess, server_adapters, server_model_path

__all__ = ["server_adapters", "server_model_path"]

pytestmark = pytest.mark.slow

MODEL = "tiny-chat"
MODELS = [MODEL, "alpha", "beta"]
PROMPTS = ["hello", "the cat sat", "What is the capital of France?"]
TOTAL = 200


@pytest.fixture(scope="module")
def server(server_model_path, server_adapters, tmp_path_factory):
    args = [
        "--model", str(server_model_path), "--model-name", MODEL,
        "--adapter", f"alpha={server_adapters['alpha']}",
        "--adapter", f"beta={server_adapters['beta']}",
        "--max-queue", "256", "--device", "cpu",
        "--db", str(tmp_path_factory.mktemp("db") / "c.sqlite3"),
    ]  # fmt: skip
    with ServerProcess(*args) as process:
        yield process


def _body(model, prompt, **extra):
    return {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": 6,
            "temperature": 0, **extra}  # fmt: skip


MALFORMED = [
    ("content", b"{this is not json"),
    ("json", {"model": "no-such-model", "messages": [{"role": "user", "content": "x"}]}),
    ("json", {"model": MODEL, "messages": []}),
    ("json", {**_body(MODEL, "x"), "logit_bias": {"3": 1}}),
    ("json", {**_body(MODEL, "x"), "temperature": -1}),
]


async def _stream_text(client, url, body):
    text = ""
    async with client.stream("POST", url, json={**body, "stream": True}) as response:
        assert response.status_code == 200
        lines = [line async for line in response.aiter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    for line in lines[:-1]:
        chunk = json.loads(line[6:])
        text += chunk["choices"][0]["delta"].get("content", "") if chunk["choices"] else ""
    return text


async def _leave_early(client, url, body):
    async with client.stream("POST", url, json={**body, "max_tokens": 400, "stream": True}) as r:
        async for _ in r.aiter_lines():
            break  # close the connection after the first line
    return "left"


def test_200_concurrent_requests(server):
    url = f"{server.url}/v1/chat/completions"

    async def run():
        limits = httpx.Limits(max_connections=TOTAL + 10, max_keepalive_connections=20)
        async with httpx.AsyncClient(timeout=600, limits=limits) as client:
            # Each request alone first: the reference text for every (model, prompt).
            reference = {}
            for model in MODELS:
                for prompt in PROMPTS:
                    reply = (await client.post(url, json=_body(model, prompt))).json()
                    reference[model, prompt] = reply["choices"][0]["message"]["content"]
            assert len(set(reference.values())) > len(PROMPTS)  # adapters change the output

            jobs, expected = [], []
            for i in range(TOTAL):
                model, prompt = MODELS[i % 3], PROMPTS[(i // 3) % 3]
                if i % 10 == 9:
                    kind, payload = MALFORMED[(i // 10) % len(MALFORMED)]
                    jobs.append(client.post(url, **{kind: payload}))
                    expected.append("4xx")
                elif i % 40 == 7:
                    jobs.append(_leave_early(client, url, _body(model, prompt)))
                    expected.append("left")
                elif i % 3 == 1:
                    jobs.append(_stream_text(client, url, _body(model, prompt)))
                    expected.append(reference[model, prompt])
                else:
                    jobs.append(client.post(url, json=_body(model, prompt)))
                    expected.append(reference[model, prompt])
            started = time.monotonic()
            results = await asyncio.gather(*jobs, return_exceptions=True)
            elapsed = time.monotonic() - started
            return results, expected, elapsed

    results, expected, elapsed = asyncio.run(run())
    counts = {"4xx": 0, "left": 0, "ok": 0}
    for result, want in zip(results, expected, strict=True):
        assert not isinstance(result, BaseException), repr(result)
        if want == "4xx":
            assert 400 <= result.status_code < 500, result.text
            assert set(result.json()["error"]) == {"message", "type", "param", "code"}
            counts["4xx"] += 1
        elif want == "left":
            counts["left"] += 1
        else:
            text = (
                result
                if isinstance(result, str)
                else result.json()["choices"][0]["message"]["content"]
            )
            assert text == want  # the same text alone and inside a busy server
            counts["ok"] += 1
    assert counts == {"4xx": 20, "left": 5, "ok": 175}, counts
    print(f"200 requests in {elapsed:.1f} s")

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        health = httpx.get(f"{server.url}/health").json()
        if health["running_rows"] == 0 and health["queue_depth"] == 0:
            break
        time.sleep(0.2)
    assert health == {**health, "status": "ok", "running_rows": 0, "queue_depth": 0}
    metrics = httpx.get(f"{server.url}/metrics").text
    assert "localchain_running_rows 0" in metrics and "localchain_queue_depth 0" in metrics
    after = httpx.post(f"{server.url}/v1/chat/completions", json=_body("beta", PROMPTS[0])).json()
    assert after["choices"][0]["finish_reason"] in ("stop", "length")
