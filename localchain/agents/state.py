"""What an agent run holds and returns: the graph state, transcript steps, results and events.

The graph state is plain data (messages and dicts), so any LangGraph checkpointer can save it
and a conversation can resume in another process. ``AgentResult`` and ``AgentEvent`` are what
``LocalAgent.invoke`` and ``LocalAgent.stream`` hand back to callers.
"""

from __future__ import annotations

import json
import operator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage
from langgraph.graph.message import add_messages

StopReason = Literal["answer", "max_steps", "repeated_call", "interrupted"]
"""Why a run ended: a final answer, the step budget, a repeated call, or an approval pending."""


class AgentStep(TypedDict, total=False):
    """One step of the transcript, as stored in the graph state (plain data).

    Keys by ``kind``: ``"select"`` has ``tools``; ``"model"`` has ``content``, ``tool_calls``,
    ``input_tokens``, ``output_tokens`` and ``note``; ``"tools"`` has ``results`` (``name``,
    ``id``, ``args``, ``content``, ``status``); ``"answer"`` has ``structured``. Every step has
    ``step`` (the model step it belongs to) and ``seconds``.
    """

    kind: Literal["select", "model", "tools", "answer"]
    step: int
    seconds: float
    content: str
    tool_calls: list[dict[str, Any]]
    input_tokens: int
    output_tokens: int
    results: list[dict[str, Any]]
    tools: list[str]
    structured: Any
    note: str


class AgentState(TypedDict, total=False):
    """The LangGraph state of a localchain agent (saved by the checkpointer after each step)."""

    messages: Annotated[list[AnyMessage], add_messages]
    """The conversation: user, model (with tool calls) and tool messages."""
    steps: Annotated[list[AgentStep], operator.add]
    """The transcript of every run on this thread, oldest first."""
    run_start: int
    """Where this run's steps begin in ``steps``."""
    run_steps: int
    """Model calls made in this run (compared with ``max_steps``)."""
    active_tools: list[str]
    """The tools offered this run (all of them, or the preselected few)."""
    routed_tools: list[str]
    """With ``first_tool_choice="route"``: the tools whose data the request names, offered
    until a tool has answered (empty: no tool's data named anything, all are offered)."""
    recent_calls: list[str]
    """Signatures of the latest model steps' tool calls (the loop guard's memory)."""
    error_streak: int
    """Tool steps (or unusable replies) in a row that had an error."""
    unusable_replies: int
    """Replies sent back this run (unparseable or cut off)."""
    answer_only: bool
    """The next model call gets no tools: it must answer with what it has."""
    stop_reason: str | None
    """Set when the run ended for a reason other than a plain answer."""
    stop_detail: str
    """A sentence saying why the run stopped."""
    pending_stop: str | None
    """A stop reason that takes effect after one last answer-only model call."""
    structured_response: Any
    """The final answer parsed into ``response_format``, as plain data (when one is given)."""


def call_signature(calls: list[dict[str, Any]]) -> str:
    """A stable text for a reply's calls: names and arguments, ids left out."""
    items = [{"name": c.get("name"), "args": c.get("args", {})} for c in calls]
    return json.dumps(items, sort_keys=True, default=str)


def describe_calls(calls: list[dict[str, Any]]) -> str:
    """``name({"arg": value}), ...`` for messages and printed steps."""
    return ", ".join(
        f"{c.get('name')}({json.dumps(c.get('args', {}), ensure_ascii=False, default=str)})"
        for c in calls
    )


@dataclass
class AgentResult:
    """What a run returns.

    Attributes:
        output: The final answer's text ("" when the run stopped without one).
        messages: The whole conversation on this thread, tool calls and results included.
        steps: This run's transcript (see ``AgentStep``), with tokens and seconds per step.
        stop_reason: "answer", "max_steps" (with ``on_max_steps="answer"``), "repeated_call"
            (with ``on_repeated_call="answer"`` the output is a best-effort answer) or
            "interrupted" (a tool call waits for approval: see ``interrupts``).
        stop_detail: A sentence saying why the run stopped, when it was not a plain answer.
        structured_response: The answer as a ``response_format`` instance, when one was given.
        interrupts: Pending approval requests (``{"tool_call": ..., "message": ...}``).
        thread_id: The conversation's id in the checkpointer (None without one).
    """

    output: str
    messages: list[BaseMessage]
    steps: list[AgentStep]
    stop_reason: str
    stop_detail: str = ""
    structured_response: Any = None
    interrupts: list[dict[str, Any]] = field(default_factory=list)
    thread_id: str | None = None

    @property
    def total_tokens(self) -> int:
        """Prompt plus generated tokens over this run's model calls."""
        return sum(s.get("input_tokens", 0) + s.get("output_tokens", 0) for s in self.steps)

    @property
    def seconds(self) -> float:
        """Wall-clock seconds spent in this run's steps."""
        return sum(s.get("seconds", 0.0) for s in self.steps)

    @property
    def tool_calls(self) -> list[dict[str, Any]]:
        """Every tool call the model made in this run, in order."""
        return [c for s in self.steps if s.get("kind") == "model" for c in s.get("tool_calls", [])]


EventKind = Literal[
    "tools_selected", "model", "tool_call", "tool_result", "answer", "approval", "stop"
]


@dataclass
class AgentEvent:
    """One thing that happened in a run, streamed as it happens.

    Attributes:
        kind: "tools_selected", "model" (a model call finished), "tool_call" (one call it
            made), "tool_result", "answer" (the final answer), "approval" (a call waits for a
            human) or "stop" (the run stopped early: ``content`` says why).
        step: The model step the event belongs to (0 before the first model call).
        content: Text: the model's reply, a tool result, the answer or the stop reason.
        tool_call: The call (``name``, ``args``, ``id``) for tool_call, tool_result, approval.
        status: "success" or "error" for tool_result.
        seconds: Seconds the step took (model and tool_result events).
        tokens: Prompt plus generated tokens (model events).
        data: Anything else (selected tool names, the structured answer, the interrupt).
    """

    kind: EventKind
    step: int = 0
    content: str = ""
    tool_call: dict[str, Any] | None = None
    status: str | None = None
    seconds: float | None = None
    tokens: int | None = None
    data: Any = None

    def __str__(self) -> str:
        """One readable line, as the agent scripts print it."""
        head = f"[step {self.step}] {self.kind}"
        if self.seconds is not None:
            extra = f", {self.tokens} tokens" if self.tokens is not None else ""
            head += f" ({self.seconds:.2f} s{extra})"
        if self.kind == "tools_selected":
            return f"{head}: {', '.join(self.data or [])}"
        if self.kind in ("tool_call", "approval") and self.tool_call is not None:
            return f"{head}: {describe_calls([self.tool_call])}"
        if self.kind == "tool_result" and self.tool_call is not None:
            flag = " [error]" if self.status == "error" else ""
            return f"{head}: {self.tool_call.get('name')}{flag} -> {self.content}"
        return f"{head}: {self.content}"


def final_text(messages: list[BaseMessage]) -> str:
    """The last model message's text when it is an answer (no tool calls), else ""."""
    for message in reversed(messages):
        if isinstance(message, AIMessage):
            return "" if message.tool_calls else message.text
    return ""


__all__ = [
    "AgentEvent",
    "AgentResult",
    "AgentState",
    "AgentStep",
    "EventKind",
    "StopReason",
    "call_signature",
    "describe_calls",
    "final_text",
]
