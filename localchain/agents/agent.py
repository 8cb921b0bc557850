"""``create_agent``: a tool-calling agent for small local models, built on LangGraph.

```python
from localchain import ChatLocal
from localchain.agents import create_agent
from localchain.tools import calculator

agent = create_agent(ChatLocal(), [calculator])
for event in agent.stream("What is 17 * 23?"):
    print(event)  # [step 1] model (0.41 s, 212 tokens): ... / tool_call / tool_result / answer
```

``LocalAgent`` wraps the compiled graph: ``invoke``/``ainvoke`` return an ``AgentResult`` (the
answer, the transcript with tokens and seconds per step), ``stream``/``astream`` yield an
``AgentEvent`` per step as it happens, ``astream_events`` is LangGraph's, ``resume`` answers an
approval request. With a checkpointer (a SQLite path, or any LangGraph saver) a conversation
persists across processes, saved after every step.
"""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from pydantic import BaseModel

from localchain.agents.graph import AgentGraph, AgentSettings
from localchain.agents.state import AgentEvent, AgentResult, AgentStep, final_text
from localchain.errors import AgentMaxStepsError, ConfigError
from localchain.tools import tools_by_name
from localchain.tools.calling import ToolLike

Checkpointer = BaseCheckpointSaver[Any] | str | Path | bool | None
"""A LangGraph saver, a SQLite file path, True (in memory) or None (no memory)."""

APPROVAL_METADATA_KEY = "requires_approval"
"""A tool with ``metadata={"requires_approval": True}`` pauses the run for a human."""


def requires_approval(tool: ToolLike) -> Any:
    """Mark a tool as needing a human's approval before each call; returns the tool."""
    from localchain.tools import as_tool

    marked = as_tool(tool)
    marked.metadata = {**(marked.metadata or {}), APPROVAL_METADATA_KEY: True}
    return marked


def _sqlite_saver(path: str | Path) -> BaseCheckpointSaver[Any]:
    from langgraph.checkpoint.sqlite import SqliteSaver

    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    # One connection shared by the graph's threads; SqliteSaver serialises access with a lock.
    conn = sqlite3.connect(str(target), check_same_thread=False)
    saver = SqliteSaver(conn)
    saver.setup()
    return saver


def _as_input(value: Any) -> Any:
    """A string, messages, ``{"messages": ...}``/``{"input": ...}``, a Command or None."""
    if value is None or isinstance(value, Command):
        return value
    if isinstance(value, str):
        return {"messages": [HumanMessage(value)]}
    if isinstance(value, BaseMessage):
        return {"messages": [value]}
    if isinstance(value, list):
        return {"messages": value}
    if isinstance(value, dict) and "messages" in value:
        return {"messages": value["messages"]}
    if isinstance(value, dict) and "input" in value:
        return {"messages": [HumanMessage(str(value["input"]))]}
    msg = (
        f"Cannot start an agent run from {value!r:.80}. Pass a string, a list of messages, "
        "{'messages': [...]} or {'input': '...'}."
    )
    raise ConfigError(msg)


def _events(node: str, update: dict[str, Any]) -> list[AgentEvent]:
    """The events one node's update stands for, in the order they happened."""
    events: list[AgentEvent] = []
    for step in update.get("steps") or []:
        kind, number = step.get("kind"), step.get("step", 0)
        if kind == "select":
            events.append(
                AgentEvent("tools_selected", number, seconds=step["seconds"], data=step["tools"])
            )
        elif kind == "model":
            tokens = step.get("input_tokens", 0) + step.get("output_tokens", 0)
            calls = step.get("tool_calls", [])
            events.append(
                AgentEvent(
                    "model", number, step.get("content", ""), seconds=step["seconds"], tokens=tokens
                )
            )
            if "messages" not in update:  # a repeated call, left out of the conversation
                continue
            events.extend(AgentEvent("tool_call", number, tool_call=c) for c in calls)
            if not calls and update.get("messages") and node == "model":
                last = update["messages"][-1]
                if not isinstance(last, HumanMessage):  # not a reply sent back as unreadable
                    events.append(AgentEvent("answer", number, step.get("content", "")))
        elif kind == "tools":
            share = step["seconds"] / max(1, len(step.get("results", [])))
            for result in step.get("results", []):
                call = {"name": result["name"], "args": result["args"], "id": result["id"]}
                events.append(
                    AgentEvent(
                        "tool_result",
                        number,
                        result["content"],
                        tool_call=call,
                        status=result.get("status"),
                        seconds=share,
                    )
                )
        elif kind == "answer":
            events.append(
                AgentEvent(
                    "answer", number, str(step.get("structured")), data=step.get("structured")
                )
            )
    reason = update.get("stop_reason") or update.get("pending_stop")
    if reason and update.get("stop_detail"):
        number = events[-1].step if events else 0
        events.append(AgentEvent("stop", number, update["stop_detail"], data=reason))
    return events


class LocalAgent:
    """A LangGraph tool-calling agent with the guards a small model needs.

    Build it with :func:`create_agent`. ``graph`` is the compiled LangGraph graph, for
    anything this class does not wrap (``get_state``, ``get_state_history``, drawing).
    """

    def __init__(self, settings: AgentSettings, checkpointer: Checkpointer = None) -> None:
        """Compile the graph; see :func:`create_agent` for the arguments."""
        self.settings = settings
        self._sqlite_path: Path | None = None
        saver: BaseCheckpointSaver[Any] | None
        if isinstance(checkpointer, (str, Path)):
            self._sqlite_path = Path(checkpointer)
            saver = _sqlite_saver(checkpointer)
        elif checkpointer is True or (checkpointer is None and settings.approval):
            saver = InMemorySaver()  # approvals pause the run: LangGraph needs somewhere to wait
        elif checkpointer is None or checkpointer is False:
            saver = None
        elif isinstance(checkpointer, BaseCheckpointSaver):
            saver = checkpointer
        else:
            msg = (
                f"Unsupported checkpointer {checkpointer!r:.80}: pass a SQLite file path, a "
                "LangGraph checkpoint saver, True (in memory) or None."
            )
            raise ConfigError(msg)
        self.checkpointer = saver
        self._builder = AgentGraph(settings)
        self.graph: CompiledStateGraph[Any, Any, Any, Any] = self._builder.build().compile(
            checkpointer=saver
        )

    # -- config --------------------------------------------------------------------------

    def _config(
        self, config: RunnableConfig | None, thread_id: str | None
    ) -> tuple[RunnableConfig, str | None]:
        cfg: RunnableConfig = dict(config or {})  # type: ignore[assignment]
        configurable = dict(cfg.get("configurable") or {})
        if thread_id is not None:
            configurable["thread_id"] = thread_id
        if self.checkpointer is not None and "thread_id" not in configurable:
            configurable["thread_id"] = uuid.uuid4().hex
        cfg["configurable"] = configurable
        # Each model step and each tool step is one super-step: allow the budget and some room.
        cfg.setdefault("recursion_limit", 4 * self.settings.max_steps + 10)
        return cfg, configurable.get("thread_id")

    def _stream_kwargs(self) -> dict[str, Any]:
        # "sync": each finished step is on disk before the next starts (kill -9 loses nothing).
        return {"durability": "sync"} if self.checkpointer is not None else {}

    # -- results -------------------------------------------------------------------------

    def _result(
        self, values: dict[str, Any], interrupts: list[dict[str, Any]], thread_id: str | None
    ) -> AgentResult:
        steps: list[AgentStep] = list(values.get("steps", []))[values.get("run_start", 0) :]
        messages = list(values.get("messages", []))
        reason = values.get("stop_reason") or ("interrupted" if interrupts else "answer")
        detail = values.get("stop_detail", "")
        if reason == "max_steps" and self.settings.on_max_steps == "raise":
            msg = (
                f"{detail} Raise max_steps (now {self.settings.max_steps}), give the model fewer "
                "or clearer tools, or pass on_max_steps='answer' for a best-effort answer. The "
                "transcript is on this error's .steps."
            )
            raise AgentMaxStepsError(
                msg, steps=list(steps), messages=messages, max_steps=self.settings.max_steps
            )
        output = "" if reason == "interrupted" else final_text(messages)
        structured = values.get("structured_response")
        schema = self.settings.response_format
        if structured is not None and isinstance(schema, type) and issubclass(schema, BaseModel):
            structured = schema.model_validate(structured)
        return AgentResult(
            output=output,
            messages=messages,
            steps=steps,
            stop_reason=reason,
            stop_detail=detail,
            structured_response=structured,
            interrupts=interrupts,
            thread_id=thread_id,
        )

    @staticmethod
    def _interrupts(chunk: Any) -> list[dict[str, Any]]:
        return [getattr(i, "value", i) for i in chunk]

    # -- sync ----------------------------------------------------------------------------

    def _run(
        self, value: Any, config: RunnableConfig | None, thread_id: str | None
    ) -> Iterator[AgentEvent | AgentResult]:
        cfg, tid = self._config(config, thread_id)
        values: dict[str, Any] = {}
        interrupts: list[dict[str, Any]] = []
        for mode, chunk in self.graph.stream(
            _as_input(value), cfg, stream_mode=["updates", "values"], **self._stream_kwargs()
        ):
            if mode == "values":
                values = chunk
                continue
            for node, update in chunk.items():
                if node == "__interrupt__":
                    found = self._interrupts(update)
                    interrupts.extend(found)
                    yield from (
                        AgentEvent("approval", tool_call=i.get("tool_call"), content=i["message"])
                        for i in found
                    )
                elif isinstance(update, dict):
                    yield from _events(node, update)
        yield self._result(values, interrupts, tid)

    def invoke(
        self,
        value: Any,
        config: RunnableConfig | None = None,
        *,
        thread_id: str | None = None,
        on_event: Callable[[AgentEvent], Any] | None = None,
    ) -> AgentResult:
        """Run until the answer, an approval request or a stop; return the result.

        Args:
            value: The user's message (a string), messages, ``{"messages": [...]}``,
                ``{"input": "..."}``; or None to continue a run that stopped midway (after a
                crash, from the checkpointer).
            config: LangChain/LangGraph config (callbacks, tags, ``configurable``).
            thread_id: The conversation to continue (needs a checkpointer); a new one when
                omitted.
            on_event: Called with each ``AgentEvent`` as it happens (e.g. ``print``).

        Raises:
            AgentMaxStepsError: ``max_steps`` model calls without a final answer (unless
                ``on_max_steps="answer"``); the transcript is on the error.
        """
        result: AgentResult | None = None
        for item in self._run(value, config, thread_id):
            if isinstance(item, AgentResult):
                result = item
            elif on_event is not None:
                on_event(item)
        if result is None:  # pragma: no cover - _run always ends with a result
            msg = "The agent run produced no result."
            raise RuntimeError(msg)
        return result

    def stream(
        self,
        value: Any,
        config: RunnableConfig | None = None,
        *,
        thread_id: str | None = None,
    ) -> Iterator[AgentEvent]:
        """Yield an ``AgentEvent`` for each step as it finishes (arguments as ``invoke``).

        Raises:
            AgentMaxStepsError: As ``invoke``, after the last event.
        """
        for item in self._run(value, config, thread_id):
            if isinstance(item, AgentEvent):
                yield item

    def resume(
        self,
        decision: Any,
        *,
        thread_id: str,
        config: RunnableConfig | None = None,
        on_event: Callable[[AgentEvent], Any] | None = None,
    ) -> AgentResult:
        """Answer a pending approval request and continue the run.

        Args:
            decision: "approve", "reject", ``{"action": "edit", "args": {...}}`` or
                ``{"action": "reject", "reason": "..."}``.
            thread_id: The paused run's ``AgentResult.thread_id``.
            config: As for ``invoke``.
            on_event: As for ``invoke``.
        """
        return self.invoke(Command(resume=decision), config, thread_id=thread_id, on_event=on_event)

    def get_messages(self, thread_id: str) -> list[BaseMessage]:
        """The saved conversation of a thread (needs a checkpointer)."""
        if self.checkpointer is None:
            msg = "This agent has no checkpointer; pass checkpointer='chat.sqlite' to keep threads."
            raise ConfigError(msg)
        state = self.graph.get_state({"configurable": {"thread_id": thread_id}})
        return list(state.values.get("messages", []))

    # -- async ---------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _async_graph(self) -> AsyncIterator[CompiledStateGraph[Any, Any, Any, Any]]:
        """The graph to run async: SQLite paths get an async saver on the same file."""
        if self._sqlite_path is None:
            yield self.graph
            return
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        async with AsyncSqliteSaver.from_conn_string(str(self._sqlite_path)) as saver:
            yield self._builder.build().compile(checkpointer=saver)

    async def _arun(
        self, value: Any, config: RunnableConfig | None, thread_id: str | None
    ) -> AsyncIterator[AgentEvent | AgentResult]:
        cfg, tid = self._config(config, thread_id)
        values: dict[str, Any] = {}
        interrupts: list[dict[str, Any]] = []
        async with self._async_graph() as graph:
            async for mode, chunk in graph.astream(
                _as_input(value), cfg, stream_mode=["updates", "values"], **self._stream_kwargs()
            ):
                if mode == "values":
                    values = chunk
                    continue
                for node, update in chunk.items():
                    if node == "__interrupt__":
                        found = self._interrupts(update)
                        interrupts.extend(found)
                        for i in found:
                            yield AgentEvent(
                                "approval", tool_call=i.get("tool_call"), content=i["message"]
                            )
                    elif isinstance(update, dict):
                        for event in _events(node, update):
                            yield event
        yield self._result(values, interrupts, tid)

    async def ainvoke(
        self,
        value: Any,
        config: RunnableConfig | None = None,
        *,
        thread_id: str | None = None,
        on_event: Callable[[AgentEvent], Any] | None = None,
    ) -> AgentResult:
        """Async ``invoke``: tools run concurrently on the event loop."""
        result: AgentResult | None = None
        async for item in self._arun(value, config, thread_id):
            if isinstance(item, AgentResult):
                result = item
            elif on_event is not None:
                on_event(item)
        if result is None:  # pragma: no cover
            msg = "The agent run produced no result."
            raise RuntimeError(msg)
        return result

    async def astream(
        self,
        value: Any,
        config: RunnableConfig | None = None,
        *,
        thread_id: str | None = None,
    ) -> AsyncIterator[AgentEvent]:
        """Async ``stream``."""
        async for item in self._arun(value, config, thread_id):
            if isinstance(item, AgentEvent):
                yield item

    async def aresume(
        self, decision: Any, *, thread_id: str, config: RunnableConfig | None = None
    ) -> AgentResult:
        """Async ``resume``."""
        return await self.ainvoke(Command(resume=decision), config, thread_id=thread_id)

    async def astream_events(
        self,
        value: Any,
        config: RunnableConfig | None = None,
        *,
        thread_id: str | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """LangChain's event stream (``version="v2"``) of the run: model tokens, tool runs."""
        cfg, _ = self._config(config, thread_id)
        kwargs.setdefault("version", "v2")
        async with self._async_graph() as graph:
            async for event in graph.astream_events(_as_input(value), cfg, **kwargs):
                yield event


def create_agent(
    model: BaseChatModel,
    tools: Sequence[ToolLike],
    *,
    system_prompt: str | None = None,
    max_steps: int = 10,
    on_max_steps: Literal["raise", "answer"] = "raise",
    on_repeated_call: Literal["stop", "answer"] = "stop",
    response_format: type | None = None,
    checkpointer: Checkpointer = None,
    interrupt_before: Sequence[str] | Literal["tools"] | None = None,
    tool_choice: str | None = "auto",
    first_tool_choice: str | None = None,
    parallel_tool_calls: bool | None = None,
    concurrent_tools: bool = True,
    tool_timeout_s: float | None = None,
    max_tool_retries: int = 1,
    tool_k: int | None = 5,
    embeddings: Embeddings | None = None,
    step_adapter: str | None = None,
    focus_arguments: bool = True,
) -> LocalAgent:
    """Build a tool-calling agent on LangGraph, with the guards a small model needs.

    Each step the model calls one or more tools (several calls in one reply run concurrently;
    results come back in call order) or answers.

    Args:
        model: Any chat model with ``bind_tools`` (``ChatLocal``, ``FakeChatModel``, ...).
        tools: LangChain tools or plain functions with docstrings.
        system_prompt: Replaces the default short prompt that lists the tools.
        max_steps: Model calls per run before it stops.
        on_max_steps: "raise" (``AgentMaxStepsError`` with the transcript) or "answer" (one
            more call without tools for a best-effort answer, ``stop_reason="max_steps"``).
        on_repeated_call: When the model makes the same calls with the same arguments three
            times in a row (the third is never run): "stop" (no answer) or "answer" (one more
            call without tools for a best-effort answer). ``stop_reason="repeated_call"``
            either way, ``stop_detail`` names the call.
        response_format: A pydantic class: the final answer is also parsed into it
            (``AgentResult.structured_response``).
        checkpointer: A SQLite file path (conversations persist across processes), any
            LangGraph checkpoint saver, True (in memory) or None. Steps are saved as they end.
        interrupt_before: Names of tools that need a human's approval before each call, or
            "tools" for all of them. Tools marked with :func:`requires_approval` need it too.
            The run pauses (``stop_reason="interrupted"``); continue it with ``resume``.
        tool_choice: "auto" (the default: call a tool or answer), "any", or a tool's name.
        first_tool_choice: The ``tool_choice`` of each run's model calls until a tool has
            answered without an error, when set: "any" makes a small model (which in "auto"
            mode tends to answer from memory) consult a tool before it answers, and retry a
            call that failed (at most ``max_tool_retries`` times) rather than answer from
            nothing. A call a human rejected counts as answered. "route" does the same with
            the first calls offered only the tools whose data holds the most of the request's
            words (``localchain.agents.route_by_data``: a question naming a graph entity goes
            to the knowledge graph, one naming a customer and ``orders`` to the database);
            when no tool's data names anything, every tool is offered.
        parallel_tool_calls: Passed to ``bind_tools`` when set (``ChatLocal`` allows several
            calls per reply by default).
        concurrent_tools: Run several calls of one reply at the same time.
        tool_timeout_s: Seconds a tool may run before its call comes back as an error.
        max_tool_retries: Tool steps in a row with an error that the model may retry; after
            that it must answer without tools.
        tool_k: With more tools than this, offer only the ``tool_k`` most relevant to the
            request (embedding similarity); None offers all.
        embeddings: For the preselection; ``LocalEmbeddings()`` when needed and not given.
        step_adapter: A LoRA adapter (a name or directory) for the steps that have tools
            bound (``ChatLocal`` only; the answers without tools never use it), e.g. one
            trained with ``make agent-steps-adapter`` on multi-step runs over the built-in
            tools; None (the default): the model's own choice (``ChatLocal(tool_adapter=...)``).
        focus_arguments: Offer localchain's built-in tools focused on the request and the
            results so far (``BuiltinTool.focused``): ``read_file``'s files, the graph's
            entities and relations, a search's words narrowed to those the request names
            (all of them where it names none). Other tools are offered as they are; what a
            tool accepts never changes.

    Raises:
        ConfigError: A bad setting (unknown tool for approval, ``max_steps`` < 1, ...).
    """
    registry = tools_by_name(tools)
    if interrupt_before == "tools":
        approval = set(registry)
    else:
        approval = set(interrupt_before or [])
    approval |= {
        name for name, t in registry.items() if (t.metadata or {}).get(APPROVAL_METADATA_KEY)
    }
    settings = AgentSettings(
        model=model,
        tools=list(registry.values()),
        system_prompt=system_prompt,
        max_steps=max_steps,
        on_max_steps=on_max_steps,
        on_repeated_call=on_repeated_call,
        response_format=response_format,
        approval=approval,
        tool_choice=tool_choice,
        first_tool_choice=first_tool_choice,
        parallel_tool_calls=parallel_tool_calls,
        concurrent_tools=concurrent_tools,
        tool_timeout_s=tool_timeout_s,
        max_tool_retries=max_tool_retries,
        tool_k=tool_k,
        embeddings=embeddings,
        step_adapter=step_adapter,
        focus_arguments=focus_arguments,
    )
    return LocalAgent(settings, checkpointer)


__all__ = [
    "APPROVAL_METADATA_KEY",
    "Checkpointer",
    "LocalAgent",
    "create_agent",
    "requires_approval",
]
