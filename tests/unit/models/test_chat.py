"""ChatLocal on tiny random checkpoints: generation paths, stops, usage, limits, tools, schemas."""

from __future__ import annotations

import pytest
from langchain_core.exceptions import ContextOverflowError
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from pydantic import BaseModel, Field

from localchain.errors import ConfigError, ContextLengthError
from localchain.models.chat import ChatLocal

QUESTION = "What is the capital of France?"
PROMPTS = [QUESTION, "hello world", "Summarize: the cat sat on the mat and slept all day."]


class Weather(BaseModel):
    """Get the weather in a city."""

    city: str = Field(max_length=6, description="The city")


class Capital(BaseModel):
    country: str = Field(max_length=6)
    population: int = Field(ge=0, le=99)


@pytest.fixture(scope="module")
def chat(tiny_decoder_path) -> ChatLocal:
    return ChatLocal(model=str(tiny_decoder_path), device="cpu", max_tokens=10)


@pytest.fixture(scope="module")
def t5_chat(tiny_t5_path) -> ChatLocal:
    return ChatLocal(model=str(tiny_t5_path), device="cpu", max_tokens=8)


def _join(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    return full


def _stop_from(text: str) -> str:
    """A stop string taken from what the model actually writes, past its first character."""
    for i in range(1, len(text)):
        if text[i].isascii() and text[i].isprintable() and text[i] != " ":
            return text[i]
    pytest.skip(f"no printable character to stop on in {text!r}")


def test_model_path_is_checkpoint_dir(chat, tiny_decoder_path):
    assert chat.model_path.resolve() == tiny_decoder_path.resolve()


def test_invoke_usage_and_metadata(chat):
    reply = chat.invoke(QUESTION)
    assert isinstance(reply, AIMessage)
    assert isinstance(reply.content, str) and reply.content
    engine = chat._get_engine()
    prompt = engine.format_chat([{"role": "user", "content": QUESTION}])
    usage = reply.usage_metadata
    assert usage["input_tokens"] == engine.count_tokens(prompt)
    assert 1 <= usage["output_tokens"] <= 10
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert reply.response_metadata["model_name"] == chat.model
    assert reply.response_metadata["finish_reason"] in ("stop", "length")
    assert reply.id and reply.id.startswith("lc_run-")


def test_batch_equals_individual_invokes(chat):
    batched = chat.batch(PROMPTS)
    single = [chat.invoke(p) for p in PROMPTS]
    assert [m.content for m in batched] == [m.content for m in single]
    assert [m.usage_metadata for m in batched] == [m.usage_metadata for m in single]
    assert len({m.id for m in batched}) == len(PROMPTS)


def test_stream_matches_invoke(chat):
    chunks = list(chat.stream(QUESTION))
    full = _join(chunks)
    assert full.content == chat.invoke(QUESTION).content
    assert chunks[-1].chunk_position == "last"
    assert [c.usage_metadata is not None for c in chunks].count(True) == 1
    assert (
        full.usage_metadata["output_tokens"]
        == chat.invoke(QUESTION).usage_metadata["output_tokens"]
    )
    assert full.response_metadata["finish_reason"] in ("stop", "length")


async def test_async_paths_match_sync(chat):
    expected = chat.invoke(QUESTION).content
    assert (await chat.ainvoke(QUESTION)).content == expected
    chunks = [c async for c in chat.astream(QUESTION)]
    assert _join(chunks).content == expected
    assert [m.content for m in await chat.abatch(PROMPTS)] == [
        m.content for m in chat.batch(PROMPTS)
    ]


def test_stop_trimmed_and_consistent(chat):
    full = chat.invoke(QUESTION).content
    stop = _stop_from(full)
    cut = chat.invoke(QUESTION, stop=[stop])
    assert stop not in cut.content
    assert full.startswith(cut.content)
    assert cut.response_metadata["finish_reason"] == "stop"
    batched = chat.batch([QUESTION, "hello world"], stop=[stop])
    streamed = _join(list(chat.stream(QUESTION, stop=[stop])))
    assert batched[0].content == cut.content == streamed.content
    configured = ChatLocal(model=chat.model, device="cpu", max_tokens=10, stop=[stop])
    assert configured.invoke(QUESTION).content == cut.content


def test_seed_reproducible_with_sampling(chat):
    def sample(seed: int) -> str:
        model = ChatLocal(model=chat.model, device="cpu", max_tokens=10, temperature=1.0)
        return model.invoke(QUESTION, seed=seed).content

    assert sample(7) == sample(7)
    assert len({sample(s) for s in (1, 2, 3)}) > 1


def test_prompt_too_long(chat):
    long_prompt = "hello world " * 200
    with pytest.raises(ContextLengthError, match="truncation='left'") as info:
        chat.invoke(long_prompt)
    assert isinstance(info.value, ContextOverflowError)
    truncated = ChatLocal(model=chat.model, device="cpu", max_tokens=10, truncation="left")
    reply = truncated.invoke(long_prompt)
    assert reply.usage_metadata["input_tokens"] + reply.usage_metadata["output_tokens"] <= 128


def test_invalid_options_raise(chat):
    with pytest.raises(ConfigError, match="Unknown generation option"):
        chat.invoke(QUESTION, frobnicate=1)
    with pytest.raises(ConfigError, match="Per-call model"):
        chat.invoke(QUESTION, model="other-model")
    with pytest.raises(ConfigError, match="no messages"):
        chat.invoke([])
    with pytest.raises(ConfigError, match="Unknown tool_choice"):
        chat.bind_tools([Weather], tool_choice="nope")
    with pytest.raises(ValueError, match="device"):
        ChatLocal(model=chat.model, device="tpu")


def test_ls_params_report_overrides(chat):
    params = chat._get_ls_params(stop=["x"], model="m", max_tokens=3, temperature=0.5)
    assert params["ls_model_name"] == "m"
    assert params["ls_max_tokens"] == 3
    assert params["ls_temperature"] == 0.5
    assert params["ls_stop"] == ["x"]


@pytest.mark.parametrize("tool_choice", ["any", "Weather"])
def test_forced_tool_call_is_valid(tiny_decoder_path, tool_choice):
    # The tool prompt does not fit a 128-token window: keep its newest tokens.
    chat = ChatLocal(model=str(tiny_decoder_path), device="cpu", max_tokens=64, truncation="left")
    reply = chat.bind_tools([Weather], tool_choice=tool_choice).invoke(QUESTION)
    assert len(reply.tool_calls) == 1
    call = reply.tool_calls[0]
    assert call["name"] == "Weather"
    assert Weather.model_validate(call["args"])
    assert call["id"].startswith("call_")
    streamed = _join(list(chat.bind_tools([Weather], tool_choice=tool_choice).stream(QUESTION)))
    assert streamed.tool_calls[0]["args"] == call["args"]


def _spy_prompts(monkeypatch, chat) -> list[str]:
    """Record every prompt string ChatLocal hands its engine (what the model will read)."""
    engine = chat._get_engine()
    prompts: list[str] = []
    real_generate, real_stream = engine.generate, engine.stream

    def generate(batch, *args, **kwargs):
        prompts.extend(batch)
        return real_generate(batch, *args, **kwargs)

    def stream(prompt, *args, **kwargs):
        prompts.append(prompt)
        return real_stream(prompt, *args, **kwargs)

    monkeypatch.setattr(engine, "generate", generate)
    monkeypatch.setattr(engine, "stream", stream)
    return prompts


def test_parallel_tool_calls_option(tiny_decoder_path):
    """By default a reply may hold a list of calls; parallel_tool_calls=False keeps one."""
    chat = ChatLocal(model=str(tiny_decoder_path), device="cpu", max_tokens=64, truncation="left")
    prompts = []
    original = chat._get_engine().format_chat

    def spy(rendered, *args, **kwargs):
        prompts.append(rendered[0]["content"])
        return original(rendered, *args, **kwargs)

    engine = chat._get_engine()
    engine.format_chat = spy
    try:
        single = chat.bind_tools([Weather], tool_choice="any", parallel_tool_calls=False)
        reply = single.invoke(QUESTION)
        assert len(reply.tool_calls) == 1
        Weather.model_validate(reply.tool_calls[0]["args"])
        chat.bind_tools([Weather], tool_choice="any").invoke(QUESTION)
    finally:
        del engine.format_chat
    assert "several tools at once" not in prompts[0]
    assert "several tools at once" in prompts[1]


def test_tool_message_history(tiny_decoder_path, monkeypatch):
    chat = ChatLocal(model=str(tiny_decoder_path), device="cpu", max_tokens=8)
    prompts = _spy_prompts(monkeypatch, chat)
    history = [
        HumanMessage("weather in Paris?"),
        AIMessage("", tool_calls=[{"name": "Weather", "args": {"city": "Paris"}, "id": "c1"}]),
        ToolMessage("sunny", tool_call_id="c1"),
    ]
    reply = chat.bind_tools([Weather], tool_choice="none").invoke(history)
    assert isinstance(reply, AIMessage) and not reply.tool_calls
    [prompt] = prompts
    parts = [
        "weather in Paris?",
        '{"name": "Weather", "arguments": {"city": "Paris"}}',
        "Tool result (Weather, c1): sunny",
    ]
    for part in parts:
        assert part in prompt
    assert sorted(parts, key=prompt.index) == parts  # in the order they happened
    assert prompt.endswith("<|im_start|>assistant\n")
    # The whole prompt fits (no truncation set), so the model reads the tool result.
    assert reply.usage_metadata["input_tokens"] == chat.get_num_tokens(prompt)


def test_structured_output_pydantic(tiny_decoder_path):
    chat = ChatLocal(model=str(tiny_decoder_path), device="cpu", max_tokens=64, truncation="left")
    result = chat.with_structured_output(Capital).invoke(QUESTION)
    assert isinstance(result, Capital)
    as_dict = chat.with_structured_output(Capital.model_json_schema()).invoke(QUESTION)
    assert as_dict == result.model_dump()
    raw = chat.with_structured_output(Capital, include_raw=True).invoke(QUESTION)
    assert raw["parsed"] == result and raw["parsing_error"] is None
    assert isinstance(raw["raw"], AIMessage)


def test_t5_through_chat(t5_chat, tiny_t5_path):
    assert t5_chat.model_path.resolve() == tiny_t5_path.resolve()
    reply = t5_chat.invoke(QUESTION)
    assert isinstance(reply.content, str)
    assert reply.usage_metadata["output_tokens"] >= 1
    streamed = _join(list(t5_chat.stream(QUESTION)))
    assert streamed.content == reply.content
    assert [m.content for m in t5_chat.batch(PROMPTS)] == [
        t5_chat.invoke(p).content for p in PROMPTS
    ]


def test_structured_output_pydantic_v1(tiny_decoder_path):
    from pydantic.v1 import BaseModel as BaseModelV1
    from pydantic.v1 import Field as FieldV1

    class Joke(BaseModelV1):
        """A joke."""

        setup: str = FieldV1(max_length=4)
        punchline: str = FieldV1(max_length=4)

    chat = ChatLocal(model=str(tiny_decoder_path), device="cpu", max_tokens=64, truncation="left")
    assert isinstance(chat.with_structured_output(Joke).invoke(QUESTION), Joke)


def test_token_counting_uses_the_model_tokenizer_offline(tiny_decoder_path):
    from langchain_core.messages import HumanMessage

    from localchain import ChatLocal

    chat = ChatLocal(model=str(tiny_decoder_path), device="cpu")
    ids = chat.get_token_ids("hello world")
    assert ids and chat.get_num_tokens("hello world") == len(ids)
    assert chat.get_num_tokens_from_messages([HumanMessage("hello world")]) >= len(ids)


def _canned(monkeypatch, chat, text, finish_reason):
    """Make the engine return ``text`` for every prompt (the reply a model would write)."""
    from localchain.models.decoding import Completion

    engine = chat._get_engine()

    def generate(batch, *args, **kwargs):
        return [Completion(text, 5, 7, finish_reason) for _ in batch]

    monkeypatch.setattr(engine, "generate", generate)


def test_a_cut_off_text_answer_is_text_and_a_cut_off_call_raises(tiny_decoder_path, monkeypatch):
    from langchain_core.exceptions import OutputParserException

    chat = ChatLocal(model=str(tiny_decoder_path), device="cpu", max_tokens=7)
    bound = chat.bind_tools([Weather], tool_choice="auto")
    _canned(monkeypatch, chat, '{"response": "It is \\"sunny\\" in Par', "length")
    reply = bound.invoke(QUESTION)
    assert reply.content == 'It is "sunny" in Par' and reply.tool_calls == []
    assert reply.response_metadata["finish_reason"] == "length"  # as plain chat says it
    _canned(monkeypatch, chat, '{"name": "Weather", "arguments": {"city": "Par', "length")
    with pytest.raises(OutputParserException, match="cut off by the token limit"):
        bound.invoke(QUESTION)
    # with_structured_output stays strict: a cut-off object is an error, never partial text.
    _canned(monkeypatch, chat, '{"response": "It is', "length")
    schema = {"title": "R", "type": "object", "properties": {"response": {"type": "string"}}}
    with pytest.raises(OutputParserException):
        chat.with_structured_output(schema).invoke("x")


def test_cut_off_response_decodes_what_was_written():
    from localchain.models.tool_calling import cut_off_response

    assert cut_off_response('{"response": "The NASDAQ st') == "The NASDAQ st"
    assert cut_off_response('{"response": "a \\"q\\" b\\') == 'a "q" b'  # half an escape
    assert cut_off_response('{"response": "caf\\u00') == "caf"
    assert cut_off_response('{"response": "line\\nnext') == "line\nnext"
    assert cut_off_response('{"response": "done"') == "done"  # the closing brace was missing
    assert cut_off_response('{"name": "x", "arguments": {') is None
    assert cut_off_response("plain text") is None


def test_a_cut_off_list_keeps_its_complete_calls(tiny_decoder_path, monkeypatch):
    """As an OpenAI reply cut off mid-call: the finished calls, and the rest as invalid."""
    from langchain_core.exceptions import OutputParserException

    chat = ChatLocal(model=str(tiny_decoder_path), device="cpu", max_tokens=7)
    bound = chat.bind_tools([Weather, Capital])
    paris = '{"name": "Weather", "arguments": {"city": "Paris"}}'
    rome = '{"name": "Weather", "arguments": {"city": "Rome"}}'
    _canned(monkeypatch, chat, f'[{paris}, {rome}, {paris}, {{"name": "Wea', "length")
    reply = bound.invoke(QUESTION)
    assert [c["args"] for c in reply.tool_calls] == [{"city": "Paris"}, {"city": "Rome"}]
    assert reply.invalid_tool_calls[0]["args"] == '{"name": "Wea'  # the repeat is made once
    assert "cut off by the token limit" in reply.invalid_tool_calls[0]["error"]
    # A finished item that breaks its schema is not a call: the reply stays an error.
    too_long = '{"name": "Weather", "arguments": {"city": "Amsterdam"}}'  # max_length=6
    _canned(monkeypatch, chat, f'[{too_long}, {{"n', "length")
    with pytest.raises(OutputParserException, match="cut off"):
        bound.invoke(QUESTION)
