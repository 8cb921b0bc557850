"""The OpenAI-compatible app on the tiny model: shapes, streaming, tools, errors, limits."""

from __future__ import annotations

import base64
import json
import struct

import pytest
from fastapi.testclient import TestClient
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings

from localchain.server import ServerConfig, create_app
from tests.unit.server.helpers import ScriptedScheduler

MODEL = "tiny-chat"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "enum": ["Paris", "Berlin"]}},
            "required": ["city"],
        },
    },
}


def _config(tmp_path, **overrides):
    fields = {
        "model": "unused",
        "model_name": MODEL,
        "db_path": tmp_path / "conversations.sqlite3",
        "device": "cpu",
        **overrides,
    }
    return ServerConfig(**fields)


@pytest.fixture(scope="module")
def lm(server_model_path, server_adapters):
    from localchain.models import load_model

    model = load_model(str(server_model_path), device="cpu")
    for name, path in server_adapters.items():
        if name not in model.adapters.names():
            model.adapters.add(name, path)
    return model


@pytest.fixture(scope="module")
def client(lm, tmp_path_factory):
    config = _config(tmp_path_factory.mktemp("app"), max_body_bytes=64 * 1024)
    app = create_app(config, loaded=lm, embeddings=DeterministicFakeEmbedding(size=8))
    with TestClient(app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def _chat(client, content="hello", **fields):
    body = {"model": MODEL, "messages": [{"role": "user", "content": content}], "max_tokens": 6}
    return client.post("/v1/chat/completions", json={**body, **fields})


def _error(response, status, *, param=None, code=None):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    if param is not None:
        assert error["param"] == param
    if code is not None:
        assert error["code"] == code
    return error


def _sse(response):
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [block for block in response.text.split("\n\n") if block]
    assert all(block.startswith("data: ") for block in events), events
    assert events[-1] == "data: [DONE]"
    return [json.loads(block[6:]) for block in events[:-1]]


# -- models and plain generation ------------------------------------------------------------


def test_models_lists_base_adapters_with_parent_and_embeddings(client):
    data = client.get("/v1/models").json()["data"]
    by_id = {card["id"]: card for card in data}
    assert by_id[MODEL]["parent"] is None
    assert by_id["alpha"]["parent"] == MODEL and by_id["beta"]["parent"] == MODEL
    assert by_id["all-minilm-l6-v2"]["kind"] == "embedding"
    assert client.get("/v1/models/alpha").json()["id"] == "alpha"
    _error(client.get("/v1/models/nope"), 404, code="model_not_found")


def test_chat_completion_shape_and_usage(client):
    body = _chat(client, max_tokens=5, temperature=0).json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant" and isinstance(
        choice["message"]["content"], str
    )
    assert choice["finish_reason"] in ("stop", "length")
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert 0 < usage["completion_tokens"] <= 5 and usage["prompt_tokens"] > 0


def test_greedy_is_repeatable_and_each_adapter_is_its_own_model(client):
    texts = {m: _chat(client, model=m, max_tokens=8).json()["choices"][0]["message"]["content"]
             for m in (MODEL, "alpha", "beta")}  # fmt: skip
    assert len(set(texts.values())) == 3
    again = _chat(client, model="alpha", max_tokens=8).json()["choices"][0]["message"]["content"]
    assert again == texts["alpha"]


def test_max_completion_tokens_and_stop(client):
    long = _chat(client, max_completion_tokens=12).json()
    text = long["choices"][0]["message"]["content"]
    assert long["usage"]["completion_tokens"] <= 12
    stop = text[3:5]
    if stop.strip():
        cut = _chat(client, max_completion_tokens=12, stop=[stop]).json()["choices"][0]
        assert stop not in cut["message"]["content"] and cut["finish_reason"] == "stop"


def test_sampling_with_a_seed_is_reproducible_and_n_gives_choices(client):
    fields = {"temperature": 1.0, "top_p": 0.9, "seed": 7, "max_tokens": 8}
    first = _chat(client, **fields).json()["choices"][0]["message"]["content"]
    assert _chat(client, **fields).json()["choices"][0]["message"]["content"] == first
    many = _chat(client, n=3, **fields).json()
    assert [c["index"] for c in many["choices"]] == [0, 1, 2]
    assert many["choices"][0]["message"]["content"] == first
    assert len({c["message"]["content"] for c in many["choices"]}) > 1


# -- streaming ------------------------------------------------------------------------------


def test_stream_chunks_end_with_done_and_usage_when_asked(client):
    plain = _chat(client, max_tokens=6).json()["choices"][0]["message"]["content"]
    chunks = _sse(_chat(client, max_tokens=6, stream=True))
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(c["object"] == "chat.completion.chunk" and "usage" not in c for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == plain
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")

    with_usage = _sse(
        _chat(client, max_tokens=6, stream=True, stream_options={"include_usage": True})
    )
    assert with_usage[-1]["choices"] == [] and with_usage[-1]["usage"]["completion_tokens"] > 0
    assert all(c["usage"] is None for c in with_usage[:-1])


# -- tools and response_format --------------------------------------------------------------


def test_forced_tool_call_is_parsed_into_tool_calls(client):
    body = _chat(client, "weather in Paris?", tools=[WEATHER], tool_choice="required",
                 max_tokens=150).json()  # fmt: skip
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls", choice
    call = choice["message"]["tool_calls"][0]
    assert call["type"] == "function" and call["id"].startswith("call_")
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"])["city"] in ("Paris", "Berlin")
    assert choice["message"]["content"] is None


def test_streamed_tool_call_deltas_are_keyed_by_index(client):
    chunks = _sse(
        _chat(client, "weather?", tools=[WEATHER], tool_choice={"type": "function",
              "function": {"name": "get_weather"}}, max_tokens=150, stream=True)
    )  # fmt: skip
    deltas = [d for c in chunks for d in c["choices"][0]["delta"].get("tool_calls", [])]
    assert deltas and deltas[0]["index"] == 0 and deltas[0]["function"]["name"] == "get_weather"
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_tool_history_with_tool_results_is_accepted(client):
    messages = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function",
         "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]  # fmt: skip
    response = client.post(
        "/v1/chat/completions",
        json={"model": MODEL, "messages": messages, "tools": [WEATHER], "max_tokens": 150},
    )
    assert response.status_code == 200, response.text


def test_response_format_json_schema_and_json_object(client):
    schema = {"type": "object", "properties": {"answer": {"type": "boolean"}},
              "required": ["answer"], "additionalProperties": False}  # fmt: skip
    fmt = {"type": "json_schema", "json_schema": {"name": "a", "schema": schema}}
    body = _chat(client, "2+2?", response_format=fmt, max_tokens=60).json()
    assert isinstance(json.loads(body["choices"][0]["message"]["content"])["answer"], bool)
    body = _chat(client, "hi", response_format={"type": "json_object"}, max_tokens=30).json()
    text = body["choices"][0]["message"]["content"]
    if body["choices"][0]["finish_reason"] == "stop":
        assert isinstance(json.loads(text), dict)
    else:
        assert text.startswith("{")


# -- errors ---------------------------------------------------------------------------------


def test_bad_bodies_are_400_openai_errors_never_422(client):
    url = "/v1/chat/completions"
    headers = {"content-type": "application/json"}
    _error(client.post(url, content=b"{not json", headers=headers), 400, code="invalid_json")
    _error(client.post(url, content=b"[1, 2]", headers=headers), 400, code="invalid_json")
    _error(client.post(url, content=b"\xff\xfe", headers=headers), 400)
    _error(client.post(url, json={"model": MODEL}), 400, param="messages")
    _error(client.post(url, json={"model": MODEL, "messages": []}), 400, param="messages")
    _error(_chat(client, temperature=3), 400, param="temperature")
    _error(_chat(client, max_tokens=0), 400, param="max_tokens")
    _error(_chat(client, n=17), 400, param="n")
    _error(_chat(client, stop=["a"] * 17), 400, param="stop")
    bad_role = {"model": MODEL, "messages": [{"role": "robot", "content": "x"}]}
    _error(client.post(url, json=bad_role), 400)
    no_id = {"model": MODEL, "messages": [{"role": "tool", "content": "x"}]}
    _error(client.post(url, json=no_id), 400, param="messages.0.tool_call_id")
    _error(_chat(client, tool_choice="required"), 400, param="tool_choice")
    _error(_chat(client, "x " * 1200), 400, code="context_length_exceeded")
    nested = b'{"model": "x", "messages": ' + b"[" * 30000 + b"]" * 30000 + b"}"
    _error(client.post(url, content=nested, headers=headers), 400)


def test_unknown_model_is_404(client):
    error = _error(_chat(client, model="gpt-4"), 404, param="model", code="model_not_found")
    assert MODEL in error["message"]


def test_unsupported_parameters_are_named_harmless_ones_accepted(client):
    for name, value in [("logit_bias", {"1": 5}), ("logprobs", True), ("presence_penalty", 0.5),
                        ("frequency_penalty", 1.0), ("top_logprobs", 2)]:  # fmt: skip
        error = _error(_chat(client, **{name: value}), 400, param=name)
        assert name in error["message"]
    _error(_chat(client, foo=1), 400, param="foo")
    ok = _chat(client, user="u1", metadata={"k": "v"}, store=False, logprobs=False,
               presence_penalty=0, logit_bias={})  # fmt: skip
    assert ok.status_code == 200, ok.text


def test_text_completions_with_several_prompts_and_n(client):
    body = client.post(
        "/v1/completions",
        json={"model": MODEL, "prompt": ["hello", "the cat"], "n": 2, "max_tokens": 4},  # fmt: skip
    ).json()
    assert body["object"] == "text_completion" and len(body["choices"]) == 4
    assert body["choices"][0]["text"] == body["choices"][1]["text"]  # greedy: same per prompt
    chunks = _sse(
        client.post(
            "/v1/completions",
            json={"model": MODEL, "prompt": "hello", "stream": True, "max_tokens": 4},
        )  # fmt: skip
    )
    assert "".join(c["choices"][0]["text"] for c in chunks) == body["choices"][0]["text"]
    _error(client.post("/v1/completions", json={"model": MODEL, "prompt": [1, 2]}), 400)
    _error(client.post("/v1/completions", json={"model": MODEL, "prompt": "x", "suffix": "y"}),
           400, param="suffix")  # fmt: skip


def test_embeddings_float_and_base64(client):
    url = "/v1/embeddings"
    floats = client.post(url, json={"model": "all-minilm-l6-v2", "input": ["a b", "c"]}).json()
    assert [d["index"] for d in floats["data"]] == [0, 1] and floats["usage"]["prompt_tokens"] == 3
    packed = client.post(
        url, json={"model": "all-minilm-l6-v2", "input": "a b", "encoding_format": "base64"}
    ).json()["data"][0]["embedding"]
    raw = base64.b64decode(packed)
    decoded = struct.unpack(f"<{len(raw) // 4}f", raw)
    assert decoded == pytest.approx(floats["data"][0]["embedding"], rel=1e-6)
    _error(client.post(url, json={"model": "nope", "input": "x"}), 404, code="model_not_found")
    _error(client.post(url, json={"model": "all-minilm-l6-v2", "input": [[1, 2]]}), 400)
    _error(client.post(url, json={"model": "all-minilm-l6-v2", "input": "x", "dimensions": 3}),
           400, param="dimensions")  # fmt: skip


def test_metrics_report_queue_rows_tokens_and_latency(client):
    _chat(client, max_tokens=3, stream=True)
    text = client.get("/metrics").text
    names = [
        "localchain_queue_depth 0",
        "localchain_running_rows 0",
        "localchain_tokens_generated_total",
        "localchain_time_to_first_token_seconds_count",
        "localchain_time_per_output_token_seconds_bucket",
        'localchain_requests_total{endpoint="chat",status="200"}',
    ]
    for name in names:
        assert name in text
    ttft = [line for line in text.splitlines() if line.startswith("localchain_time_to_first_t")]
    assert int(ttft[-1].split()[-1]) > 0
    assert client.get("/health").json()["status"] == "ok"


def test_body_size_limit(client):
    big = {"model": MODEL, "messages": [{"role": "user", "content": "x" * 70000}]}
    _error(client.post("/v1/chat/completions", json=big), 413, code="body_too_large")

    def chunks():
        for _ in range(70):
            yield b"x" * 1024

    _error(client.post("/v1/chat/completions", content=chunks()), 413)


def test_host_and_origin_checks_when_bound_to_loopback(client):
    _error(client.get("/v1/models", headers={"host": "evil.example"}), 421)
    _error(client.get("/v1/models", headers={"origin": "http://evil.example"}), 403)
    same = client.get("/v1/models", headers={"origin": "http://127.0.0.1:8000"})
    assert same.status_code == 200
    assert client.get("/v1/models", headers={"host": "localhost:8000"}).status_code == 200


def test_web_page_and_conversations(client):
    page = client.get("/")
    assert page.status_code == 200 and "localchain" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "renderMarkdown" in client.get("/static/markdown.js").text
    created = client.post("/app/conversations", json={"title": "First", "model": MODEL}).json()
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    client.patch(f"/app/conversations/{created['id']}", json={"messages": messages})
    renamed = client.patch(f"/app/conversations/{created['id']}", json={"title": "Renamed"})
    assert renamed.json()["title"] == "Renamed"
    listed = client.get("/app/conversations").json()["data"]
    assert listed[0]["id"] == created["id"] and "messages" not in listed[0]
    assert client.get(f"/app/conversations/{created['id']}").json()["messages"] == messages
    assert client.delete(f"/app/conversations/{created['id']}").json()["deleted"] is True
    _error(client.get(f"/app/conversations/{created['id']}"), 404)
    _error(client.patch("/app/conversations/x", json={"title": 5}), 400, param="title")


# -- apps with other settings ---------------------------------------------------------------


def test_api_key(lm, tmp_path):
    app = create_app(_config(tmp_path, api_key="s3cret"), loaded=lm, scheduler=ScriptedScheduler())
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        _error(c.get("/v1/models"), 401, code="invalid_api_key")
        _error(c.get("/v1/models", headers={"authorization": "Bearer wrong"}), 401)
        _error(c.get("/app/conversations"), 401)
        assert c.get("/v1/models", headers={"authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/health").status_code == 200 and c.get("/").status_code == 200


def test_full_queue_is_429_with_retry_after(lm, tmp_path):
    app = create_app(_config(tmp_path), loaded=lm, scheduler=ScriptedScheduler(max_queue=0))
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        response = _chat(c)
        _error(response, 429, code="queue_full")
        assert int(response.headers["retry-after"]) >= 1


def test_request_timeout_is_504_and_cancels_the_row(lm, tmp_path):
    scheduler = ScriptedScheduler(reply=lambda p, a: "x" * 60, delay=0.05)
    app = create_app(_config(tmp_path, request_timeout=0.3), loaded=lm, scheduler=scheduler)
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        _error(_chat(c), 504, code="timeout")
        assert scheduler.submissions[-1].handle.cancelled.is_set()
        chunks = _chat(c, stream=True).text
        assert '"code": "timeout"' in chunks and chunks.endswith("data: [DONE]\n\n")


def test_adapter_loading_is_off_unless_allowed(lm, tmp_path, server_adapters):
    app = create_app(_config(tmp_path), loaded=lm, scheduler=ScriptedScheduler())
    body = {"lora_name": "gamma", "lora_path": str(server_adapters["alpha"])}
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        _error(c.post("/v1/load_lora_adapter", json=body), 403)
        _error(c.post("/v1/unload_lora_adapter", json={"lora_name": "alpha"}), 403)


def test_load_and_unload_adapters_while_serving(server_model_path, server_adapters, tmp_path):
    from localchain.models import load_model
    from tests.unit.server.helpers import copy_model

    own = load_model(str(copy_model(server_model_path, tmp_path / "own")), device="cpu")
    config = _config(tmp_path, allow_adapter_loading=True)
    app = create_app(config, loaded=own)
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        body = {"lora_name": "gamma", "lora_path": str(server_adapters["beta"])}
        loaded = c.post("/v1/load_lora_adapter", json=body)
        assert loaded.status_code == 200 and "gamma" in loaded.text
        assert "gamma" in [m["id"] for m in c.get("/v1/models").json()["data"]]
        assert _chat(c, model="gamma").status_code == 200
        _error(c.post("/v1/load_lora_adapter", json=body), 400, code="adapter_error")
        missing = {"lora_name": "delta", "lora_path": str(tmp_path / "none")}
        _error(c.post("/v1/load_lora_adapter", json=missing), 400)
        assert c.post("/v1/unload_lora_adapter", json={"lora_name": "gamma"}).status_code == 200
        _error(_chat(c, model="gamma"), 404)
        _error(c.post("/v1/unload_lora_adapter", json={"lora_name": "gamma"}), 404)


def test_streamed_choices_are_keyed_by_index(client):
    chunks = _sse(
        _chat(
            client,
            n=2,
            temperature=1.0,
            seed=3,
            max_tokens=5,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    whole = _chat(client, n=2, temperature=1.0, seed=3, max_tokens=5).json()
    for index in (0, 1):
        text = "".join(
            c["choices"][0]["delta"].get("content", "")
            for c in chunks
            if c["choices"] and c["choices"][0]["index"] == index
        )
        assert text == whole["choices"][index]["message"]["content"]
    assert chunks[-1]["usage"] == whole["usage"]


def test_parallel_tool_calls_follows_the_request():
    from types import SimpleNamespace

    from localchain.server.protocol import ChatCompletionRequest
    from localchain.server.serving_chat import prepare_chat

    # A stand-in state: prepare_chat reads only the tokenizer and the model kind.
    state = SimpleNamespace(lm=SimpleNamespace(tokenizer=None, kind="seq2seq"))
    base = {"model": MODEL, "messages": [{"role": "user", "content": "weather?"}]}
    body = ChatCompletionRequest(**base, tools=[WEATHER], tool_choice="required")
    prompt, schema, _ = prepare_chat(state, body)
    # OpenAI's default: several calls may share one reply (a list of calls is allowed).
    assert any(shape.get("type") == "array" for shape in schema["anyOf"])
    assert "several tools at once" in prompt
    one = ChatCompletionRequest(
        **base, tools=[WEATHER], tool_choice="required", parallel_tool_calls=False
    )
    prompt, schema, _ = prepare_chat(state, one)
    assert "anyOf" not in schema and schema["properties"]["name"]["enum"] == ["get_weather"]
    assert "several tools at once" not in prompt


class _KeywordEmbeddings(Embeddings):
    """Texts about the weather point one way, everything else the other."""

    def _vector(self, text: str) -> list[float]:
        return [1.0, 0.0] if "weather" in text.lower() else [0.0, 1.0]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


def _ask(c, content, **fields):
    body = {"model": MODEL, "messages": [{"role": "user", "content": content}], "max_tokens": 6}
    response = c.post("/v1/chat/completions", json={**body, **fields})
    assert response.status_code == 200, response.text


def test_requests_that_offer_tools_run_on_the_tool_adapter(lm, tmp_path):
    scheduler = ScriptedScheduler()
    app = create_app(_config(tmp_path, tool_adapter="alpha"), loaded=lm, scheduler=scheduler)
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        _ask(c, "weather in Paris?", tools=[WEATHER])
        _ask(c, "hello")
        _ask(c, "weather in Paris?", tools=[WEATHER], tool_choice="none")
        _ask(c, "weather in Paris?", tools=[WEATHER], model="beta")
        _ask(c, "weather in Paris?", tools=[WEATHER], stream=True)
    assert [s.adapter for s in scheduler.submissions] == ["alpha", None, None, "beta", "alpha"]


def test_the_relevance_floor_offers_only_the_tools_a_request_is_about(lm, tmp_path):
    scheduler = ScriptedScheduler()
    config = _config(tmp_path, tool_adapter="alpha", tool_relevance_floor=0.5)
    app = create_app(config, loaded=lm, scheduler=scheduler, embeddings=_KeywordEmbeddings())
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        _ask(c, "What's the weather in Paris?", tools=[WEATHER])
        _ask(c, "Who wrote Hamlet?", tools=[WEATHER])
        _ask(c, "Who wrote Hamlet?", tools=[WEATHER], tool_choice="required")  # never filtered
    about, unrelated, forced = scheduler.submissions
    assert about.schema is not None and "get_weather" in about.prompt
    assert about.adapter == "alpha"
    # No tool reaches the floor: a plain reply, on the base, without the tools in the prompt.
    assert unrelated.schema is None and "get_weather" not in unrelated.prompt
    assert unrelated.adapter is None
    assert forced.schema is not None and forced.adapter == "alpha"


def test_tool_settings_are_checked(lm, tmp_path, server_adapters):
    import pydantic

    from localchain.errors import AdapterError
    from localchain.server.app import _attach_tool_adapter

    with pytest.raises(pydantic.ValidationError, match="between -1 and 1"):
        ServerConfig(tool_relevance_floor=2)
    assert ServerConfig(tool_relevance_floor="auto").tool_relevance_floor == "auto"
    # "auto" on a model the shipped adapter was not trained on: tools run on the base.
    assert _attach_tool_adapter(lm, "auto") is None
    assert _attach_tool_adapter(lm, str(server_adapters["beta"])) == "beta"  # already attached
    with pytest.raises(AdapterError, match="No adapter 'nowhere'"):
        _attach_tool_adapter(lm, "nowhere")
