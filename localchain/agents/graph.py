"""The agent loop as a LangGraph ``StateGraph``: start -> model <-> tools, then respond.

Nodes:

- ``start``: resets the run's counters and preselects tools by embedding similarity;
- ``model``: one model call with the run's tools bound (or none, when it must answer), guarded
  by the step budget and the repeated-call check;
- ``tools``: asks for approval where a tool needs it (LangGraph ``interrupt``, before any tool
  runs, so a resumed node repeats nothing), then runs the calls, concurrently, and appends
  their results in call order; errors come back as error ``ToolMessage``s for the model;
- ``respond``: parses the final answer into ``response_format``.

Each node returns plain data, so a checkpointer saves every finished step.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.embeddings import Embeddings
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_core.runnables.config import ContextThreadPoolExecutor
from langchain_core.tools import BaseTool
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from localchain.agents.selection import ROUTE, ToolSelector, route_by_data
from localchain.agents.state import AgentState, AgentStep, call_signature, describe_calls
from localchain.errors import ConfigError
from localchain.models.tool_relevance import NOT_A_REQUEST, request_text
from localchain.tools import arun_tool_call, run_tool_call

REPEAT_LIMIT = 3
"""The same calls with the same arguments this many times in a row stop the run."""

ANSWER_NOW = (
    "Answer the user's question now, in plain text, from the tool results above; do not call "
    "any tool."
)
QUESTION_PREFIX = "The user's question: "
"""Restates the question at the end of the answer-only digest."""
FEEDBACK_PREFIX = "Your last reply "
"""How the agent's own notes to the model (a reply sent back) begin."""
RESULT_CHARS = 600
"""How much of each tool result the answer-only digest keeps."""


def answer_from_results(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """The history for a call that must answer without tools: tool turns become a digest.

    The calls and results of the current turn (after the last human message) are written out
    as plain lines (``calculator({"expression": "17*23"}) -> 391``) in one human message that
    repeats the user's question and ends with :data:`ANSWER_NOW`, instead of the JSON call
    turns a small model would otherwise imitate (answering with another call written as
    text); a small model asked again right before it answers states the result more often
    than one that reads the instruction alone. Earlier turns keep their questions and
    answers; their tool turns are left out.
    """

    def feedback(message: BaseMessage) -> bool:
        return isinstance(message, HumanMessage) and message.text.startswith(FEEDBACK_PREFIX)

    asked = [i for i, m in enumerate(messages) if isinstance(m, HumanMessage) and not feedback(m)]
    last_human = asked[-1] if asked else -1
    kept: list[BaseMessage] = []
    calls: dict[str, str] = {}
    lines: list[str] = []
    for i, message in enumerate(messages):
        if isinstance(message, AIMessage) and message.tool_calls:
            for call in message.tool_calls:
                args = json.dumps(call["args"], ensure_ascii=False)
                calls[call.get("id") or ""] = f"{call['name']}({args})"
            if message.text.strip() and i > last_human:
                lines.append(f"Note: {message.text.strip()}")
        elif isinstance(message, ToolMessage):
            if i > last_human:
                name = calls.get(message.tool_call_id, message.name or "tool")
                result = message.text if hasattr(message, "text") else str(message.content)
                status = " (error)" if getattr(message, "status", "") == "error" else ""
                lines.append(f"{name}{status} -> {result[:RESULT_CHARS]}")
        elif not feedback(message):
            kept.append(message)
    digest = "Tool results:\n" + "\n".join(lines) + "\n\n" if lines else ""
    if digest and last_human >= 0:
        # Asked again right before the answer: a small model otherwise echoes the digest.
        digest += f"{QUESTION_PREFIX}{messages[last_human].text}\n"
    return [*kept, _note(digest + ANSWER_NOW)]


REJECTED = "localchain_rejected"
"""Marks the error ``ToolMessage`` that stands for a call a human rejected."""


def _latest_request(messages: Sequence[BaseMessage]) -> int:
    """The index of the user's latest request (the agent's own notes skipped), or -1."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, HumanMessage) and not message.additional_kwargs.get(NOT_A_REQUEST):
            return index
    return -1


def focus_text(messages: Sequence[BaseMessage]) -> str:
    """What the tools are focused on (``focus_arguments``): the user's latest request and the
    tool results that followed it (an entity a result names can be looked up next)."""
    start = _latest_request(messages)
    parts = [messages[start].text] if start >= 0 else []
    parts += [
        m.text for m in messages[start + 1 :] if isinstance(m, ToolMessage) and m.status != "error"
    ]
    return "\n".join(parts)


def _focused(tool: BaseTool, focus: str) -> BaseTool:
    """``tool.focused(focus)`` for tools that have it (localchain's built-in ones), else
    the tool as it is."""
    focused = getattr(tool, "focused", None)
    return focused(focus) if callable(focused) else tool


def without_restated_question(text: str) -> str:
    """An answer without the leading copy of the restated question that a small model writes
    first (``The user's question: ...`` then ``The answer: 5``); the text as it was when
    nothing else is left."""
    lines = text.split("\n")
    while lines and (lines[0].startswith(QUESTION_PREFIX) or not lines[0].strip()):
        lines.pop(0)
    return "\n".join(lines).strip() or text


def tool_answered(messages: Sequence[BaseMessage]) -> bool:
    """Whether a tool has answered the latest request: a result that is not an error, or a
    human's rejection (the model should then answer or try another way, not be made to call)."""
    return any(
        isinstance(m, ToolMessage) and (m.status != "error" or m.additional_kwargs.get(REJECTED))
        for m in messages[_latest_request(messages) + 1 :]
    )


def _note(text: str) -> HumanMessage:
    """A message from the agent to the model, marked so that it is not taken for the user's
    request (``ChatLocal``'s relevance floor scores tools against the user's words)."""
    return HumanMessage(text, additional_kwargs={NOT_A_REQUEST: True})


@dataclass
class AgentSettings:
    """Everything the graph's nodes need (see ``create_agent`` for each field)."""

    model: BaseChatModel
    tools: list[BaseTool]
    system_prompt: str | None = None
    max_steps: int = 10
    on_max_steps: Literal["raise", "answer"] = "raise"
    on_repeated_call: Literal["stop", "answer"] = "stop"
    response_format: type | None = None
    approval: set[str] = field(default_factory=set)
    tool_choice: str | None = "auto"
    first_tool_choice: str | None = None
    parallel_tool_calls: bool | None = None
    concurrent_tools: bool = True
    tool_timeout_s: float | None = None
    max_tool_retries: int = 1
    tool_k: int | None = 5
    embeddings: Embeddings | Callable[[], Embeddings] | None = None
    step_adapter: str | None = None
    focus_arguments: bool = True

    def __post_init__(self) -> None:
        """Check the knobs and prepare the tool preselection."""
        if self.max_steps < 1:
            msg = f"max_steps must be at least 1, got {self.max_steps}."
            raise ConfigError(msg)
        if self.max_tool_retries < 0:
            msg = f"max_tool_retries must be 0 or more, got {self.max_tool_retries}."
            raise ConfigError(msg)
        if self.on_repeated_call not in ("stop", "answer"):
            msg = f"on_repeated_call must be 'stop' or 'answer', got {self.on_repeated_call!r}."
            raise ConfigError(msg)
        if self.on_max_steps not in ("raise", "answer"):
            msg = f"on_max_steps must be 'raise' or 'answer', got {self.on_max_steps!r}."
            raise ConfigError(msg)
        names = [t.name for t in self.tools]
        unknown = sorted(self.approval - set(names))
        if unknown:
            msg = f"Approval asked for unknown tools {unknown}; the agent's tools are {names}."
            raise ConfigError(msg)
        self.by_name = {t.name: t for t in self.tools}
        self._selector: ToolSelector | None = None
        if self.step_adapter is not None and not hasattr(self.model, "adapter_for_tools"):
            msg = (
                f"step_adapter={self.step_adapter!r} needs a localchain ChatLocal model (it names "
                f"a LoRA adapter), got {type(self.model).__name__}; leave step_adapter=None."
            )
            raise ConfigError(msg)

    def selector(self) -> ToolSelector | None:
        """The preselector, built on first need (None when every tool fits in ``tool_k``)."""
        if self.tool_k is None or len(self.tools) <= self.tool_k:
            return None
        if self._selector is None:
            self._selector = ToolSelector(self.tools, self.embeddings, k=self.tool_k)
        return self._selector


def default_system_prompt(tool_names: Sequence[str]) -> str:
    """A short prompt a small model can follow: what to do, and which tools exist."""
    if not tool_names:
        return "You are a helpful assistant. Answer the user's question."
    return (
        "You are a helpful assistant. Answer the user's question. When a tool helps, call it "
        f"(tools: {', '.join(tool_names)}); when a tool result is given, answer from it."
    )


def _usage(message: AIMessage) -> tuple[int, int]:
    usage = message.usage_metadata
    if usage is None:
        return 0, 0
    return int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))


class AgentGraph:
    """Builds the nodes and the ``StateGraph`` from ``AgentSettings``."""

    def __init__(self, settings: AgentSettings) -> None:
        """Keep the settings; ``build`` makes the graph."""
        self.s = settings

    # -- start ---------------------------------------------------------------------------

    def start(self, state: AgentState) -> dict[str, Any]:
        """Reset the run's counters; preselect tools for the latest request."""
        update: dict[str, Any] = {
            "run_start": len(state.get("steps", [])),
            "run_steps": 0,
            "recent_calls": [],
            "error_streak": 0,
            "unusable_replies": 0,
            "answer_only": False,
            "stop_reason": None,
            "stop_detail": "",
            "pending_stop": None,
            "structured_response": None,
            "active_tools": [t.name for t in self.s.tools],
        }
        # The user's latest request (the agent's own notes to the model are skipped).
        request = request_text(state.get("messages", [])) or ""
        began = time.perf_counter()
        selector = self.s.selector()
        if selector is not None:
            update["active_tools"] = selector.select(request)
        if self.s.first_tool_choice == ROUTE:
            update["routed_tools"] = route_by_data(request, self.s.tools)
        if selector is not None or self.s.first_tool_choice == ROUTE:
            step = AgentStep(
                kind="select",
                step=0,
                tools=update.get("routed_tools") or update["active_tools"],
                seconds=time.perf_counter() - began,
            )
            update["steps"] = [step]
        return update

    # -- model ---------------------------------------------------------------------------

    def _request(self, state: AgentState) -> tuple[list[BaseMessage], Any, bool, dict[str, Any]]:
        """The messages and runnable for the next model call, and whether it must answer."""
        run_steps = state.get("run_steps", 0)
        out_of_steps = run_steps >= self.s.max_steps
        answer_only = bool(state.get("answer_only")) or out_of_steps or not self.s.tools
        names = state.get("active_tools") or [t.name for t in self.s.tools]
        prompt = self.s.system_prompt or default_system_prompt([] if answer_only else names)
        history: list[BaseMessage] = list(state.get("messages", []))
        if answer_only and self.s.tools:
            history = answer_from_results(history)
        messages: list[BaseMessage] = [SystemMessage(prompt), *history]
        if answer_only:
            runnable: Any = self.s.model
        else:
            # Until a tool has answered this request (replies sent back and calls that ended
            # in an error do not count: the retry is held to the same choice).
            first = self.s.first_tool_choice is not None and not tool_answered(history)
            choice = self.s.first_tool_choice if first else self.s.tool_choice
            if choice == ROUTE:
                names = state.get("routed_tools") or names
                choice = "any"
            options: dict[str, Any] = {"tool_choice": choice}
            if self.s.parallel_tool_calls is not None:
                options["parallel_tool_calls"] = self.s.parallel_tool_calls
            if self.s.step_adapter is not None:
                options["adapter"] = self.s.step_adapter
            offered = [self.s.by_name[n] for n in names]
            if self.s.focus_arguments:
                focus = focus_text(history)
                offered = [_focused(t, focus) for t in offered]
            runnable = self.s.model.bind_tools(offered, **options)
        return messages, runnable, answer_only, {"out_of_steps": out_of_steps}

    def _after_model(
        self, state: AgentState, reply: Any, seconds: float, answer_only: bool, out_of_steps: bool
    ) -> dict[str, Any]:
        step_no = state.get("run_steps", 0) + 1
        if not isinstance(reply, AIMessage):
            reply = AIMessage(content=str(getattr(reply, "content", reply)))
        if answer_only and (reply.tool_calls or reply.text.startswith(QUESTION_PREFIX)):
            # A model that ignores "no tools" gets its text kept; an echo of the question goes.
            content = reply.content
            if isinstance(content, str):
                content = without_restated_question(content)
            reply = AIMessage(content=content, id=reply.id, usage_metadata=reply.usage_metadata)
        input_tokens, output_tokens = _usage(reply)
        calls = [
            {"name": c["name"], "args": c["args"], "id": c.get("id")} for c in reply.tool_calls
        ]
        step = AgentStep(
            kind="model",
            step=step_no,
            seconds=seconds,
            content=reply.text,
            tool_calls=calls,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
        )
        update: dict[str, Any] = {"run_steps": step_no, "steps": [step]}
        if state.get("pending_stop"):
            update["stop_reason"] = state.get("pending_stop")
            update["pending_stop"] = None
        if out_of_steps:
            step["note"] = f"step budget of {self.s.max_steps} spent: best-effort answer"
            update["stop_reason"] = "max_steps"
            update["stop_detail"] = (
                f"The agent used its {self.s.max_steps} steps; this is a best-effort answer."
            )
        if calls:
            signature = call_signature(calls)
            recent = [*state.get("recent_calls", []), signature][-REPEAT_LIMIT:]
            update["recent_calls"] = recent
            if len(recent) == REPEAT_LIMIT and len(set(recent)) == 1:
                detail = (
                    f"The model made the same call {REPEAT_LIMIT} times in a row "
                    f"({describe_calls(calls)}); it was not run again."
                )
                step["note"] = detail
                update["stop_detail"] = detail
                if self.s.on_repeated_call == "answer":
                    # One more call, without tools, for a best-effort answer from the results.
                    update["answer_only"] = True
                    update["pending_stop"] = "repeated_call"
                else:
                    update["stop_reason"] = "repeated_call"
                return update  # the repeated reply is left out of the conversation
        update["messages"] = [reply]
        return update

    def _out_of_steps(self, state: AgentState) -> dict[str, Any] | None:
        if state.get("run_steps", 0) >= self.s.max_steps and self.s.on_max_steps == "raise":
            detail = f"The agent used its {self.s.max_steps} steps without a final answer."
            return {"stop_reason": "max_steps", "stop_detail": detail}
        return None

    def _send_back(
        self, state: AgentState, text: str, reason: str, seconds: float, usage: tuple[int, int]
    ) -> dict[str, Any]:
        """Tell the model its reply could not be used, so that it tries again (bounded).

        The unusable reply itself stays out of the conversation (a small model would copy
        it); the transcript keeps it.
        """
        step_no = state.get("run_steps", 0) + 1
        feedback = f"{FEEDBACK_PREFIX}{reason}. Reply again: a short tool call or a short answer."
        step = AgentStep(
            kind="model",
            step=step_no,
            seconds=seconds,
            content=text,
            input_tokens=usage[0],
            output_tokens=usage[1],
            note=feedback,
        )
        return {
            "messages": [_note(feedback)],
            "run_steps": step_no,
            "unusable_replies": state.get("unusable_replies", 0) + 1,
            "error_streak": state.get("error_streak", 0) + 1,
            "steps": [step],
        }

    def _can_retry(self, state: AgentState) -> bool:
        return state.get("error_streak", 0) < self.s.max_tool_retries

    def _unusable(self, reply: Any, answer_only: bool) -> str | None:
        """Why a reply cannot be used (a broken or cut-off call), or None when it can."""
        if answer_only or not isinstance(reply, AIMessage) or reply.tool_calls:
            return None
        if reply.invalid_tool_calls:
            return "had a tool call that could not be parsed"
        if (reply.response_metadata or {}).get("finish_reason") == "length":
            return "was cut off at the token limit"
        return None

    def _finish_model(
        self, state: AgentState, reply: Any, began: float, answer_only: bool, out_of_steps: bool
    ) -> dict[str, Any]:
        seconds = time.perf_counter() - began
        reason = self._unusable(reply, answer_only)
        if reason is not None and self._can_retry(state):
            return self._send_back(state, reply.text, reason, seconds, _usage(reply))
        return self._after_model(state, reply, seconds, answer_only, out_of_steps)

    def _unreadable(
        self, state: AgentState, err: OutputParserException, began: float
    ) -> dict[str, Any]:
        reason = f"could not be read ({err})"
        seconds = time.perf_counter() - began
        update = self._send_back(state, str(err.llm_output or ""), reason, seconds, (0, 0))
        if not self._can_retry(state):
            # Unreadable again: the next call answers without tools (it cannot fail to parse).
            update["answer_only"] = True
            update["steps"][0]["note"] = (
                "the reply could not be read again: the model must answer without tools"
            )
        return update

    def call_model(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """Sync model node."""
        stop = self._out_of_steps(state)
        if stop is not None:
            return stop
        messages, runnable, answer_only, info = self._request(state)
        began = time.perf_counter()
        try:
            reply = runnable.invoke(messages, config)
        except OutputParserException as err:
            return self._unreadable(state, err, began)
        return self._finish_model(state, reply, began, answer_only, info["out_of_steps"])

    async def acall_model(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """Async model node."""
        stop = self._out_of_steps(state)
        if stop is not None:
            return stop
        messages, runnable, answer_only, info = self._request(state)
        began = time.perf_counter()
        try:
            reply = await runnable.ainvoke(messages, config)
        except OutputParserException as err:
            return self._unreadable(state, err, began)
        return self._finish_model(state, reply, began, answer_only, info["out_of_steps"])

    # -- tools ---------------------------------------------------------------------------

    def _approve(
        self, reply: AIMessage
    ) -> tuple[list[dict[str, Any]], dict[str, ToolMessage], bool]:
        """Ask for approval where needed; (calls to run, rejections by id, edited?).

        Every ``interrupt`` happens here, before any tool runs: when the run resumes, LangGraph
        replays this node from its start and each ``interrupt`` returns its stored answer.
        """
        calls: list[dict[str, Any]] = []
        rejected: dict[str, ToolMessage] = {}
        edited = False
        for call in reply.tool_calls:
            item = {"name": call["name"], "args": call["args"], "id": call.get("id")}
            if call["name"] in self.s.approval:
                request = {
                    "tool_call": item,
                    "message": (
                        f"The agent wants to run {describe_calls([item])}. Resume with "
                        "'approve', {'action': 'edit', 'args': {...}} or "
                        "{'action': 'reject', 'reason': '...'}."
                    ),
                }
                action, value = parse_decision(interrupt(request))
                if action == "reject":
                    reason = f": {value}" if value else "."
                    text = (
                        f"The user rejected this call to {call['name']}{reason} Do not call it "
                        "again with these arguments; answer the user or try another way."
                    )
                    rejected[str(item["id"])] = ToolMessage(
                        text,
                        tool_call_id=str(item["id"]),
                        name=call["name"],
                        status="error",
                        additional_kwargs={REJECTED: True},
                    )
                elif action == "edit":
                    item = {**item, "args": value}
                    edited = True
            calls.append(item)
        return calls, rejected, edited

    def _after_tools(
        self,
        state: AgentState,
        reply: AIMessage,
        calls: list[dict[str, Any]],
        results: list[ToolMessage],
        edited: bool,
        seconds: float,
        rejected: set[str],
    ) -> dict[str, Any]:
        records = [
            {
                "name": c["name"],
                "id": c["id"],
                "args": c["args"],
                "content": r.text,
                "status": r.status,
            }
            for c, r in zip(calls, results, strict=True)
        ]
        errors = any(r.status == "error" and r.tool_call_id not in rejected for r in results)
        streak = state.get("error_streak", 0) + 1 if errors else 0
        step = AgentStep(
            kind="tools", step=state.get("run_steps", 0), seconds=seconds, results=records
        )
        update: dict[str, Any] = {"steps": [step], "error_streak": streak}
        messages: list[BaseMessage] = []
        if edited:  # the conversation shows the calls that actually ran
            messages.append(
                reply.model_copy(
                    update={
                        "tool_calls": [
                            {
                                "name": c["name"],
                                "args": c["args"],
                                "id": c["id"],
                                "type": "tool_call",
                            }
                            for c in calls
                        ]
                    }
                )
            )
        messages.extend(results)
        update["messages"] = messages
        if streak > self.s.max_tool_retries:
            step["note"] = "tool errors again: the model must answer without tools"
            update["answer_only"] = True
        return update

    def _last_reply(self, state: AgentState) -> AIMessage:
        for message in reversed(state.get("messages", [])):
            if isinstance(message, AIMessage):
                return message
        msg = "The tools node ran without a model reply to take calls from."
        raise ConfigError(msg)

    def run_tools(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """Sync tools node: approvals first, then the calls (concurrently by default)."""
        reply = self._last_reply(state)
        calls, rejected, edited = self._approve(reply)
        began = time.perf_counter()
        to_run = [c for c in calls if str(c["id"]) not in rejected]

        def run(call: dict[str, Any]) -> ToolMessage:
            return run_tool_call(
                self.s.by_name, call, timeout_s=self.s.tool_timeout_s, config=config
            )

        if self.s.concurrent_tools and len(to_run) > 1:
            with ContextThreadPoolExecutor(max_workers=len(to_run)) as pool:
                done = list(pool.map(run, to_run))
        else:
            done = [run(c) for c in to_run]
        by_id = dict(zip([str(c["id"]) for c in to_run], done, strict=True))
        results = [rejected.get(str(c["id"])) or by_id[str(c["id"])] for c in calls]
        seconds = time.perf_counter() - began
        return self._after_tools(state, reply, calls, results, edited, seconds, set(rejected))

    async def arun_tools(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """Async tools node: approvals first, then the calls (concurrently by default)."""
        reply = self._last_reply(state)
        calls, rejected, edited = self._approve(reply)
        began = time.perf_counter()
        to_run = [c for c in calls if str(c["id"]) not in rejected]

        async def run(call: dict[str, Any]) -> ToolMessage:
            return await arun_tool_call(
                self.s.by_name, call, timeout_s=self.s.tool_timeout_s, config=config
            )

        if self.s.concurrent_tools:
            done = list(await asyncio.gather(*(run(c) for c in to_run)))
        else:
            done = [await run(c) for c in to_run]
        by_id = dict(zip([str(c["id"]) for c in to_run], done, strict=True))
        results = [rejected.get(str(c["id"])) or by_id[str(c["id"])] for c in calls]
        seconds = time.perf_counter() - began
        return self._after_tools(state, reply, calls, results, edited, seconds, set(rejected))

    # -- respond -------------------------------------------------------------------------

    def _structured_request(self, state: AgentState) -> tuple[list[BaseMessage], Any]:
        schema = self.s.response_format
        if schema is None:  # pragma: no cover - the respond node exists only with a schema
            msg = "The respond node needs response_format."
            raise ConfigError(msg)
        name = getattr(schema, "__name__", "the schema")
        messages: list[BaseMessage] = [
            SystemMessage(f"Give the final answer as JSON matching {name}."),
            *state.get("messages", []),
            _note(f"Now give the final answer as JSON matching {name}."),
        ]
        runnable = self.s.model.with_structured_output(schema, include_raw=True)
        return messages, runnable

    def _after_structured(self, state: AgentState, out: Any, seconds: float) -> dict[str, Any]:
        if out.get("parsing_error") is not None:
            raise out["parsing_error"]
        parsed = out["parsed"]
        raw = out.get("raw")
        input_tokens, output_tokens = _usage(raw) if isinstance(raw, AIMessage) else (0, 0)
        dumped = parsed.model_dump() if hasattr(parsed, "model_dump") else parsed
        step = AgentStep(
            kind="answer",
            step=state.get("run_steps", 0),
            seconds=seconds,
            structured=dumped,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
        )
        # Stored as plain data, so any checkpointer can save it; LocalAgent rebuilds the class.
        return {"structured_response": dumped, "steps": [step]}

    def respond(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """Sync structured-answer node."""
        messages, runnable = self._structured_request(state)
        began = time.perf_counter()
        out = runnable.invoke(messages, config)
        return self._after_structured(state, out, time.perf_counter() - began)

    async def arespond(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """Async structured-answer node."""
        messages, runnable = self._structured_request(state)
        began = time.perf_counter()
        out = await runnable.ainvoke(messages, config)
        return self._after_structured(state, out, time.perf_counter() - began)

    # -- edges ---------------------------------------------------------------------------

    def route_model(self, state: AgentState) -> str:
        """After a model step: tools, the structured answer, or the end."""
        if state.get("stop_reason"):
            return END
        messages = state.get("messages", [])
        last = messages[-1] if messages else None
        if isinstance(last, HumanMessage | ToolMessage):
            return "model"  # an unusable reply sent back, or a repeated call left out: go again
        if isinstance(last, AIMessage) and last.tool_calls:
            return "tools"
        if self.s.response_format is not None:
            return "respond"
        return END

    def build(self) -> StateGraph[AgentState, Any, AgentState, AgentState]:
        """The uncompiled graph (compile it with a checkpointer)."""
        graph = StateGraph(AgentState)
        graph.add_node("start", self.start)
        graph.add_node("model", RunnableLambda(self.call_model, afunc=self.acall_model))
        graph.add_node("tools", RunnableLambda(self.run_tools, afunc=self.arun_tools))
        graph.add_edge(START, "start")
        graph.add_edge("start", "model")
        targets = ["tools", "model", END]
        if self.s.response_format is not None:
            graph.add_node("respond", RunnableLambda(self.respond, afunc=self.arespond))
            graph.add_edge("respond", END)
            targets.append("respond")
        graph.add_conditional_edges("model", self.route_model, targets)
        graph.add_edge("tools", "model")
        return graph


def parse_decision(decision: Any) -> tuple[Literal["approve", "edit", "reject"], Any]:
    """Read a human's answer to an approval request.

    Accepts ``"approve"``/``True``, ``"reject"``/``False``, ``{"action": "approve"}``,
    ``{"action": "edit", "args": {...}}`` and ``{"action": "reject", "reason": "..."}``.

    Raises:
        ConfigError: Anything else (the message lists the accepted forms).
    """
    if decision is True or decision == "approve":
        return "approve", None
    if decision is False or decision == "reject":
        return "reject", None
    if isinstance(decision, dict):
        action = decision.get("action", decision.get("type"))
        if action == "approve":
            return "approve", None
        if action == "reject":
            return "reject", decision.get("reason") or decision.get("message")
        if action == "edit" and isinstance(decision.get("args"), dict):
            return "edit", decision["args"]
    msg = (
        f"Unknown approval decision {decision!r}. Resume with 'approve', 'reject', "
        "{'action': 'edit', 'args': {...}} or {'action': 'reject', 'reason': '...'}."
    )
    raise ConfigError(msg)


__all__ = ["REPEAT_LIMIT", "AgentGraph", "AgentSettings", "default_system_prompt", "parse_decision"]
