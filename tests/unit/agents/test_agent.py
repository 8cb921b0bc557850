"""localchain.agents.create_agent on FakeChatModel: the loop, guards, approvals, streaming."""

from __future__ import annotations

import threading
import time

import pytest
from langchain_core.embeddings import Embeddings
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from localchain.agents import AgentMaxStepsError, ToolSelector, create_agent, requires_approval
from localchain.errors import ConfigError, LocalchainError
from localchain.models import FakeChatModel
from localchain.tools import calculator


def _call(name: str, call_id: str, **args) -> dict:
    return {"name": name, "args": args, "id": call_id}


def _calls(*calls: dict, tokens: tuple[int, int] = (0, 0)) -> AIMessage:
    usage = {"input_tokens": tokens[0], "output_tokens": tokens[1], "total_tokens": sum(tokens)}
    return AIMessage("", tool_calls=list(calls), usage_metadata=usage)


# -- the loop ------------------------------------------------------------------------------


def test_parallel_calls_run_concurrently_and_results_keep_call_order():
    running, peak, lock = [0], [0], threading.Lock()

    @tool
    def slow_echo(text: str, delay: float) -> str:
        """Echo text after a delay."""
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(delay)
        with lock:
            running[0] -= 1
        return text

    reply = _calls(
        _call("slow_echo", "a", text="first", delay=0.3),
        _call("slow_echo", "b", text="second", delay=0.05),
        tokens=(40, 12),
    )
    model = FakeChatModel(responses=[reply, "first, second"])
    result = create_agent(model, [slow_echo]).invoke("echo twice")
    tool_messages = [m for m in result.messages if isinstance(m, ToolMessage)]
    assert [m.content for m in tool_messages] == ["first", "second"]
    assert [m.tool_call_id for m in tool_messages] == ["a", "b"]
    assert peak[0] == 2  # both ran at the same time
    assert result.output == "first, second"
    assert result.stop_reason == "answer"
    assert [s["kind"] for s in result.steps] == ["model", "tools", "model"]
    assert result.steps[0]["input_tokens"] == 40 and result.steps[0]["output_tokens"] == 12
    assert result.total_tokens == 52
    assert result.steps[1]["seconds"] >= 0.3
    assert [c["name"] for c in result.tool_calls] == ["slow_echo", "slow_echo"]
    # The model got a short system prompt naming the tools, and tool_choice="auto".
    first = model.calls[0]
    assert isinstance(first.messages[0], SystemMessage)
    assert "slow_echo" in first.messages[0].content
    assert first.tools == ["slow_echo"]
    assert first.options["tool_choice"] == "auto"


def test_sequential_tools_and_parallel_option_are_passed_through():
    reply = _calls(
        _call("calculator", "a", expression="2+3"), _call("calculator", "b", expression="1/0")
    )
    model = FakeChatModel(responses=[reply, "5"])
    agent = create_agent(model, [calculator], concurrent_tools=False, parallel_tool_calls=False)
    result = agent.invoke({"input": "sums"})
    results = result.steps[1]["results"]
    assert [r["content"] for r in results][0] == "5"
    assert results[1]["status"] == "error"
    assert model.calls[0].options["parallel_tool_calls"] is False


class Answer(BaseModel):
    product: int
    explanation: str


def test_structured_final_answer():
    model = FakeChatModel(
        responses=[
            _calls(_call("calculator", "c1", expression="17*23")),
            "It is 391.",
            '{"product": 391, "explanation": "17 times 23"}',
        ]
    )
    result = create_agent(model, [calculator], response_format=Answer).invoke("17*23?")
    assert result.structured_response == Answer(product=391, explanation="17 times 23")
    assert result.output == "It is 391."
    assert result.steps[-1]["kind"] == "answer"
    assert result.steps[-1]["structured"] == {"product": 391, "explanation": "17 times 23"}
    # The structured call saw the tool result.
    assert any(isinstance(m, ToolMessage) and m.content == "391" for m in model.calls[-1].messages)


# -- preselection --------------------------------------------------------------------------


class KeywordEmbeddings(Embeddings):
    """One dimension per keyword: texts sharing keywords are near."""

    WORDS = ("weather", "math", "sql", "file", "email", "calendar", "stock", "translate")

    def _vector(self, text: str) -> list[float]:
        lowered = text.lower()
        return [1.0 if w in lowered else 0.0 for w in self.WORDS] + [0.01]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


def _make_tool(word: str):
    def fn(query: str) -> str:
        return f"{word}: {query}"

    fn.__name__ = f"{word}_tool"
    fn.__doc__ = f"Answer {word} questions."
    return tool(fn)


def test_preselection_offers_the_nearest_tools():
    tools = [_make_tool(w) for w in KeywordEmbeddings.WORDS]
    model = FakeChatModel(responses=["sunny"])
    agent = create_agent(model, tools, tool_k=2, embeddings=KeywordEmbeddings())
    events = list(agent.stream("What is the weather? Also some math please."))
    assert model.calls[0].tools == ["weather_tool", "math_tool"]
    assert events[0].kind == "tools_selected"
    assert events[0].data == ["weather_tool", "math_tool"]
    assert "weather_tool" in str(events[0])
    # No preselection when every tool fits.
    model.reset()
    create_agent(model, tools[:2], tool_k=2, embeddings=KeywordEmbeddings()).invoke("x")
    assert model.calls[0].tools == ["weather_tool", "math_tool"]


def test_tool_selector_keeps_order_and_checks_k():
    tools = [_make_tool(w) for w in ("email", "weather", "stock")]
    selector = ToolSelector(tools, KeywordEmbeddings(), k=2)
    assert selector.select("stock price and an email") == ["email_tool", "stock_tool"]
    with pytest.raises(ConfigError, match="tool_k"):
        ToolSelector(tools, KeywordEmbeddings(), k=0)


# -- guards --------------------------------------------------------------------------------


def test_same_call_three_times_stops_with_a_reason():
    runs = []

    @tool
    def lookup(key: str) -> str:
        """Look a key up."""
        runs.append(key)
        return "not found"

    same = [_calls(_call("lookup", f"c{i}", key="x")) for i in range(5)]
    model = FakeChatModel(responses=same)
    events = list(create_agent(model, [lookup]).stream("find x"))
    assert runs == ["x", "x"]  # the third identical call is not run
    assert events[-1].kind == "stop"
    assert "same call 3 times in a row" in events[-1].content
    model.reset()
    result = create_agent(model, [lookup]).invoke("find x")
    assert result.stop_reason == "repeated_call"
    assert "lookup" in result.stop_detail
    assert result.output == ""


def test_first_tool_choice_applies_to_the_first_call_of_each_run():
    model = FakeChatModel(
        responses=[_calls(_call("calculator", "c1", expression="1+1")), "2", "hello"]
    )
    agent = create_agent(model, [calculator], first_tool_choice="any", checkpointer=True)
    first = agent.invoke("1+1?")
    agent.invoke("hi", thread_id=first.thread_id)
    assert [c.options["tool_choice"] for c in model.calls] == ["any", "auto", "any"]


@pytest.mark.parametrize(
    ("retry", "answer", "choices"),
    [
        # A call that fails is retried under the same choice ("any"), not answered from
        # nothing; once a tool has answered, the model may answer ("auto").
        ("1+1", "2", ["any", "any", "auto"]),
        # The retry budget still bounds it: a second error in a row means answer without tools.
        ("2+", "no idea", ["any", "any", None]),
    ],
)
def test_first_tool_choice_holds_until_a_tool_answers_without_error(retry, answer, choices):
    model = FakeChatModel(
        responses=[
            _calls(_call("calculator", "c1", expression="1+")),
            _calls(_call("calculator", "c2", expression=retry)),
            answer,
        ]
    )
    result = create_agent(model, [calculator], first_tool_choice="any").invoke("1+1?")
    assert [c.options.get("tool_choice") for c in model.calls] == choices
    assert result.output == answer


def test_a_rejected_call_counts_as_answered_for_first_tool_choice():
    model = FakeChatModel(
        responses=[_calls(_call("calculator", "c1", expression="1+1")), "I will not compute it."]
    )
    agent = create_agent(
        model, [calculator], first_tool_choice="any", interrupt_before=["calculator"]
    )
    paused = agent.invoke("1+1?")
    result = agent.resume({"action": "reject", "reason": "no"}, thread_id=paused.thread_id)
    assert [c.options["tool_choice"] for c in model.calls] == ["any", "auto"]
    assert result.output == "I will not compute it."


class AdapterAwareFake(FakeChatModel):
    """A fake with ChatLocal's hook for adapters (``adapter_for_tools``)."""

    def adapter_for_tools(self) -> str | None:
        return None


def test_step_adapter_is_named_on_the_steps_with_tools_only():
    replies = [_calls(_call("calculator", "c1", expression="6*7")), "42"]
    model = AdapterAwareFake(responses=replies)
    create_agent(model, [calculator], step_adapter="my-steps").invoke("6*7?")
    assert [c.options.get("adapter") for c in model.calls] == ["my-steps"] * 2
    # The answer-only call (here after a repeated call) runs without it.
    same = [_calls(_call("calculator", f"c{i}", expression="6*7")) for i in range(3)]
    model = AdapterAwareFake(responses=[*same, "42"])
    agent = create_agent(model, [calculator], step_adapter="my-steps", on_repeated_call="answer")
    agent.invoke("6*7?")
    assert [c.options.get("adapter") for c in model.calls] == ["my-steps"] * 3 + [None]
    # None (the default) leaves the choice to the model.
    model = AdapterAwareFake(responses=["hi"])
    create_agent(model, [calculator]).invoke("hi")
    assert "adapter" not in model.calls[0].options


def test_a_step_adapter_needs_a_model_that_serves_adapters():
    with pytest.raises(ConfigError, match="needs a localchain ChatLocal"):
        create_agent(FakeChatModel(responses=["x"]), [calculator], step_adapter="my-steps")


def test_repeated_call_can_end_with_a_best_effort_answer():
    same = [_calls(_call("calculator", f"c{i}", expression="6*7")) for i in range(3)]
    model = FakeChatModel(responses=[*same, "42"])
    agent = create_agent(model, [calculator], on_repeated_call="answer")
    events = list(agent.stream("6*7"))
    assert [e.kind for e in events][-4:] == ["model", "stop", "model", "answer"]
    assert model.calls[-1].tools == []
    model.reset()
    result = agent.invoke("6*7")
    assert result.output == "42"
    assert result.stop_reason == "repeated_call"
    assert len([m for m in result.messages if isinstance(m, ToolMessage)]) == 2
    with pytest.raises(ConfigError, match="on_repeated_call"):
        create_agent(model, [calculator], on_repeated_call="retry")


def test_different_arguments_are_not_a_loop():
    replies = [_calls(_call("calculator", f"c{i}", expression=f"{i}+1")) for i in range(3)]
    model = FakeChatModel(responses=[*replies, "done"])
    assert create_agent(model, [calculator]).invoke("count").output == "done"


def test_max_steps_raises_with_the_transcript():
    replies = [_calls(_call("calculator", f"c{i}", expression=f"{i}*2")) for i in range(3)]
    model = FakeChatModel(responses=replies)
    agent = create_agent(model, [calculator], max_steps=3)
    with pytest.raises(AgentMaxStepsError, match="max_steps") as info:
        agent.invoke("loop")
    assert isinstance(info.value, LocalchainError)
    assert info.value.max_steps == 3
    assert [s["kind"] for s in info.value.steps] == ["model", "tools"] * 3
    assert any(isinstance(m, ToolMessage) for m in info.value.messages)
    assert len(model.calls) == 3


def test_max_steps_best_effort_answer():
    replies = [_calls(_call("calculator", f"c{i}", expression=f"{i}*2")) for i in range(2)]
    model = FakeChatModel(responses=[*replies, "best guess: 2"])
    result = create_agent(model, [calculator], max_steps=2, on_max_steps="answer").invoke("go")
    assert result.output == "best guess: 2"
    assert result.stop_reason == "max_steps"
    assert model.calls[-1].tools == []  # the last call offers no tools
    assert "Answer the user's question now" in model.calls[-1].messages[-1].content


def test_the_answer_only_call_sees_results_as_text_not_json_calls():
    replies = [_calls(_call("calculator", f"c{i}", expression=f"{i + 6}*7")) for i in range(2)]
    model = FakeChatModel(responses=["Hello!", *replies, "It is 49."])
    agent = create_agent(model, [calculator], max_steps=2, on_max_steps="answer",
                         checkpointer=True)  # fmt: skip
    first = agent.invoke("hi")
    agent.invoke("what is 6*7 and 7*7?", thread_id=first.thread_id)
    last = model.calls[-1].messages
    # No call turns or tool messages for a small model to imitate: one digest line per result
    # of this turn, then the instruction; the earlier turn's question and answer stay.
    assert not any(isinstance(m, ToolMessage) for m in last)
    assert not any(isinstance(m, AIMessage) and m.tool_calls for m in last)
    assert [m.content for m in last[1:3]] == ["hi", "Hello!"]
    assert last[3].content == "what is 6*7 and 7*7?"
    digest = last[-1].content
    assert 'calculator({"expression": "6*7"}) -> 42' in digest
    assert 'calculator({"expression": "7*7"}) -> 49' in digest
    # The question again, right before the instruction (a small model otherwise echoes the
    # digest instead of answering).
    assert "\nThe user's question: what is 6*7 and 7*7?\n" in digest
    assert digest.endswith("Answer the user's question now, in plain text, from the tool "
                           "results above; do not call any tool.")  # fmt: skip


def test_an_answer_that_copies_the_restated_question_first_keeps_only_the_answer():
    replies = [_calls(_call("calculator", f"c{i}", expression="6*7")) for i in range(3)]
    echo = "The user's question: what is 6*7?\nThe answer: 42"
    model = FakeChatModel(responses=[*replies, echo])
    result = create_agent(model, [calculator], on_repeated_call="answer").invoke("what is 6*7?")
    assert result.output == "The answer: 42"
    assert result.messages[-1].content == "The answer: 42"


def test_tool_errors_go_back_once_then_the_model_must_answer():
    bad = [_calls(_call("calculator", f"c{i}", expresion="1+1")) for i in range(2)]
    model = FakeChatModel(responses=[*bad, "I could not compute it."])
    result = create_agent(model, [calculator]).invoke("1+1")
    first_error = result.steps[1]["results"][0]
    assert first_error["status"] == "error"
    assert "Invalid arguments for calculator" in first_error["content"]
    # The model saw the error and tried again (with tools), then had to answer without them.
    assert model.calls[1].tools == ["calculator"]
    assert any("Invalid arguments" in str(m.content) for m in model.calls[1].messages)
    assert model.calls[2].tools == []
    assert result.output == "I could not compute it."
    assert result.steps[3]["note"].startswith("tool errors again")


def test_a_fixed_call_after_an_error_resets_the_budget():
    model = FakeChatModel(
        responses=[
            _calls(_call("calculator", "c1", expresion="1+1")),
            _calls(_call("calculator", "c2", expression="1+1")),
            _calls(_call("calculator", "c3", expresion="2+2")),
            "2 and 4",
        ]
    )
    create_agent(model, [calculator]).invoke("sums")
    assert model.calls[3].tools == ["calculator"]  # one error after a success: still a retry


def test_unreadable_reply_goes_back_once():
    state = {"n": 0}

    def fn(messages, options):
        state["n"] += 1
        if state["n"] == 1:
            msg = "cut off"
            raise OutputParserException(msg, llm_output='{"name": "calc')
        return "fine"

    model = FakeChatModel(fn=fn)
    result = create_agent(model, [calculator]).invoke("hi")
    assert result.output == "fine"
    assert isinstance(model.calls[1].messages[-1], HumanMessage)
    assert "could not be read" in model.calls[1].messages[-1].content


def test_unreadable_twice_then_the_model_answers_without_tools():
    def fn(messages, options):
        if "Answer the user's question now" not in str(messages[-1].content):
            msg = "cut off"
            raise OutputParserException(msg, llm_output='{"name": "calc')
        return "I could not work it out."

    model = FakeChatModel(fn=fn)
    result = create_agent(model, [calculator]).invoke("hi")
    assert result.output == "I could not work it out."
    assert [call.tools for call in model.calls] == [["calculator"], ["calculator"], []]
    assert "must answer without tools" in result.steps[1]["note"]


def test_cut_off_reply_goes_back_once_keeping_the_first_tool_choice():
    cut = AIMessage(
        '[{"name": "calculator", "arguments": {"expression": "1+',
        response_metadata={"finish_reason": "length"},
    )
    model = FakeChatModel(responses=[cut, _calls(_call("calculator", "c1", expression="1+1")), "2"])
    events = []
    result = create_agent(model, [calculator], first_tool_choice="any").invoke(
        "1+1", on_event=events.append
    )
    assert result.output == "2"
    assert [c.options["tool_choice"] for c in model.calls] == ["any", "any", "auto"]
    feedback = model.calls[1].messages[-1]
    assert isinstance(feedback, HumanMessage) and "cut off at the token limit" in feedback.content
    assert not any(m.content == cut.content for m in model.calls[1].messages)  # left out
    assert result.steps[0]["note"] == feedback.content
    assert [e.kind for e in events][:2] == ["model", "model"]  # no "answer" for the cut reply
    # A second cut-off in a row is kept as the reply (the retry budget is spent).
    model = FakeChatModel(responses=[cut, cut])
    assert create_agent(model, [calculator]).invoke("1+1").output == cut.content


def test_bad_settings_are_config_errors():
    model = FakeChatModel(responses=["x"])
    with pytest.raises(ConfigError, match="max_steps"):
        create_agent(model, [calculator], max_steps=0)
    with pytest.raises(ConfigError, match="unknown tools"):
        create_agent(model, [calculator], interrupt_before=["rm_rf"])
    with pytest.raises(ConfigError, match="Cannot start an agent run"):
        create_agent(model, [calculator]).invoke(42)


# -- human approval ------------------------------------------------------------------------


@tool
def send_email(to: str, body: str) -> str:
    """Send an email."""
    return f"sent to {to}"


def _email_model(final: str) -> FakeChatModel:
    call = _call("send_email", "e1", to="bob@example.com", body="hi")
    return FakeChatModel(
        responses=[_calls(call, _call("calculator", "k1", expression="1+1")), final]
    )


def test_approval_pauses_then_approve_runs_the_call():
    model = _email_model("Sent.")
    agent = create_agent(model, [send_email, calculator], interrupt_before=["send_email"])
    paused = agent.invoke("email bob")
    assert paused.stop_reason == "interrupted"
    assert paused.interrupts[0]["tool_call"]["name"] == "send_email"
    assert "approve" in paused.interrupts[0]["message"]
    assert not any(isinstance(m, ToolMessage) for m in paused.messages)  # nothing ran yet
    done = agent.resume("approve", thread_id=paused.thread_id)
    results = [m.content for m in done.messages if isinstance(m, ToolMessage)]
    assert results == ["sent to bob@example.com", "2"]
    assert done.output == "Sent."


def test_approval_edit_changes_the_arguments():
    model = _email_model("Sent to carol.")
    agent = create_agent(model, [requires_approval(send_email), calculator])
    paused = agent.invoke("email bob")
    edited = {"action": "edit", "args": {"to": "carol@example.com", "body": "hi"}}
    done = agent.resume(edited, thread_id=paused.thread_id)
    assert [s["kind"] for s in done.steps] == ["model", "tools", "model"]  # the whole run
    assert done.steps[1]["results"][0]["content"] == "sent to carol@example.com"
    ai = next(m for m in done.messages if isinstance(m, AIMessage) and m.tool_calls)
    assert ai.tool_calls[0]["args"]["to"] == "carol@example.com"  # the history shows what ran


def test_approval_reject_tells_the_model():
    model = _email_model("I did not send it.")
    agent = create_agent(model, [send_email, calculator], interrupt_before="tools")
    paused = agent.invoke("email bob")
    assert len(paused.interrupts) == 1  # the first of two approvals
    paused = agent.resume({"action": "reject", "reason": "not now"}, thread_id=paused.thread_id)
    assert paused.interrupts[0]["tool_call"]["name"] == "calculator"
    done = agent.resume(True, thread_id=paused.thread_id)
    rejected, computed = [m for m in done.messages if isinstance(m, ToolMessage)]
    assert (
        rejected.status == "error"
        and "rejected" in rejected.content
        and "not now" in rejected.content
    )
    assert computed.content == "2"
    assert done.output == "I did not send it."
    agent2 = create_agent(_email_model("x"), [send_email], interrupt_before=["send_email"])
    thread = agent2.invoke("email bob").thread_id
    with pytest.raises(ConfigError, match="Unknown approval decision"):
        agent2.resume("maybe", thread_id=thread)


# -- streaming -----------------------------------------------------------------------------


def test_stream_yields_each_step_as_it_happens():
    seen_before_second_call = []
    model_holder = {}

    def fn(messages, options):
        if len(model_holder["model"].calls) == 1:
            return _calls(_call("calculator", "c1", expression="6*7"), tokens=(30, 9))
        seen_before_second_call.append(len(events))
        return "42"

    events: list = []
    model = FakeChatModel(fn=fn)
    model_holder["model"] = model
    for event in create_agent(model, [calculator]).stream("6*7?"):
        events.append(event)
    kinds = [e.kind for e in events]
    assert kinds == ["model", "tool_call", "tool_result", "model", "answer"]
    assert seen_before_second_call == [3]  # the tool result was out before the next model call
    assert events[0].tokens == 39 and events[0].seconds is not None
    assert events[2].content == "42" and events[2].status == "success"
    assert str(events[1]) == '[step 1] tool_call: calculator({"expression": "6*7"})'
    assert str(events[-1]) == "[step 2] answer: 42"


async def test_async_stream_invoke_and_events():
    def model():
        return FakeChatModel(
            responses=[
                _calls(
                    _call("calculator", "a", expression="1+1"),
                    _call("calculator", "b", expression="2+2"),
                ),
                "2 and 4",
            ]
        )

    kinds = [e.kind async for e in create_agent(model(), [calculator]).astream("sums")]
    assert kinds == [
        "model",
        "tool_call",
        "tool_call",
        "tool_result",
        "tool_result",
        "model",
        "answer",
    ]
    result = await create_agent(model(), [calculator]).ainvoke("sums")
    assert [m.content for m in result.messages if isinstance(m, ToolMessage)] == ["2", "4"]
    names = set()
    async for event in create_agent(model(), [calculator]).astream_events("sums"):
        names.add(event["event"])
    assert {"on_chat_model_start", "on_chat_model_end", "on_tool_start", "on_tool_end"} <= names


def test_a_reply_sent_back_keeps_the_tools_picked_for_the_request():
    from localchain.models.tool_relevance import NOT_A_REQUEST

    tools = [_make_tool(w) for w in KeywordEmbeddings.WORDS]
    cut = AIMessage(
        '[{"name": "stock_tool", "arguments": {"query": "AC',
        response_metadata={"finish_reason": "length"},
    )
    model = FakeChatModel(responses=[cut, "sunny"])
    agent = create_agent(model, tools, tool_k=2, embeddings=KeywordEmbeddings())
    assert agent.invoke("The stock price of ACME, translated to French?").output == "sunny"
    # The agent's note to the model is not the request: preselection (and ChatLocal's relevance
    # floor) still score the tools against the user's words.
    note = model.calls[1].messages[-1]
    assert isinstance(note, HumanMessage) and note.additional_kwargs[NOT_A_REQUEST]
    assert model.calls[1].tools == model.calls[0].tools == ["stock_tool", "translate_tool"]


def test_an_answer_that_is_only_the_echo_is_kept_as_it_was():
    from localchain.agents.graph import without_restated_question

    assert without_restated_question("The user's question: x?") == "The user's question: x?"
    assert without_restated_question("\nThe user's question: x?\n\nIt is 3.") == "It is 3."
