"""The interface every conversation memory shares, and the turn-splitting they all use.

A memory is a *selection strategy* over a chat history: the history (any langchain-core
``BaseChatMessageHistory``: in memory by default, or ``SQLiteChatMessageHistory`` to persist it)
stores every message, and ``load(query)`` picks what goes into the next prompt: everything, the
last turns, what fits a token budget, a running summary, facts about entities, or recalled turns.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langchain_core.runnables.config import run_in_executor

from localchain.errors import ConfigError


class ListChatMessageHistory(BaseChatMessageHistory):
    """A chat history kept in a Python list (the default store of every memory)."""

    def __init__(self, messages: Sequence[BaseMessage] = ()) -> None:
        """Start with ``messages`` (copied)."""
        self.messages: list[BaseMessage] = list(messages)

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Append ``messages`` in order."""
        self.messages.extend(messages)

    def clear(self) -> None:
        """Forget every message."""
        self.messages = []


Turn = list[BaseMessage]
"""One exchange: a human message and what followed it (AI replies, tool messages)."""


def split_turns(messages: Sequence[BaseMessage]) -> tuple[list[BaseMessage], list[Turn]]:
    """Split a history into its leading system messages and its turns.

    A turn starts at each ``HumanMessage``; messages before the first one (other than leading
    system messages, say an AI greeting) form a turn of their own.

    Returns:
        ``(system_prefix, turns)``.
    """
    prefix: list[BaseMessage] = []
    index = 0
    while index < len(messages) and isinstance(messages[index], SystemMessage):
        prefix.append(messages[index])
        index += 1
    turns: list[Turn] = []
    for message in messages[index:]:
        if isinstance(message, HumanMessage) or not turns:
            turns.append([message])
        else:
            turns[-1].append(message)
    return prefix, turns


def format_turns(turns: Sequence[Turn]) -> str:
    """Render turns as ``Human: ...`` / ``AI: ...`` lines, for summaries and recall."""
    names = {"human": "Human", "ai": "AI", "system": "System", "tool": "Tool"}
    return "\n".join(
        f"{names.get(m.type, m.type.title())}: {m.text.strip()}" for turn in turns for m in turn
    )


def _as_message(value: str | BaseMessage, role: type[BaseMessage], what: str) -> BaseMessage:
    if isinstance(value, BaseMessage):
        return value
    if isinstance(value, str):
        return role(content=value)
    msg = f"{what} must be a str or a langchain message, got {type(value).__name__}: {value!r:.80}."
    raise ConfigError(msg)


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` if it is an int >= ``minimum``; raise ``ConfigError`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        msg = f"{name} must be an integer >= {minimum}, got {value!r}."
        raise ConfigError(msg)
    return value


def last_human_text(messages: Sequence[BaseMessage]) -> str | None:
    """The text of the latest human message, or None when there is none."""
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message.text
    return None


class ConversationMemory(ABC):
    """Stores a conversation and selects the messages that go into the next prompt.

    Example:
        .. code-block:: python

            memory = WindowMemory(k=3)
            chain = memory.wrap(prompt | model)  # prompt has a MessagesPlaceholder("history")
            chain.invoke({"input": "Hi, I am Ada."})  # loads history, runs, saves the turn

    Args:
        history: Where messages are stored. Default: a new in-memory history; pass a
            ``SQLiteChatMessageHistory`` to keep them across runs.
    """

    def __init__(self, history: BaseChatMessageHistory | None = None) -> None:
        if history is not None and not isinstance(history, BaseChatMessageHistory):
            msg = (
                f"history must be a BaseChatMessageHistory, got {type(history).__name__}; "
                "pass e.g. SQLiteChatMessageHistory(session_id, path) or leave it out."
            )
            raise ConfigError(msg)
        self.history = history if history is not None else ListChatMessageHistory()

    # -- storing ------------------------------------------------------------------------

    @property
    def messages(self) -> list[BaseMessage]:
        """Every stored message, oldest first."""
        return list(self.history.messages)

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Append messages to the history.

        Raises:
            ConfigError: An item is not a langchain message.
        """
        if isinstance(messages, BaseMessage | str):
            msg = "add_messages takes a list of messages; use add_turn(human, ai) for text."
            raise ConfigError(msg)
        messages = list(messages)
        bad = [m for m in messages if not isinstance(m, BaseMessage)]
        if bad:
            msg = f"add_messages needs langchain messages, got {bad[0]!r:.80}."
            raise ConfigError(msg)
        self.history.add_messages(messages)

    def add_turn(self, human: str | BaseMessage, ai: str | BaseMessage) -> None:
        """Append one exchange: the user's input and the model's reply."""
        self.add_messages(
            [_as_message(human, HumanMessage, "human"), _as_message(ai, AIMessage, "ai")]
        )

    def clear(self) -> None:
        """Forget everything: the stored messages and any derived state."""
        self.history.clear()
        self._reset()

    def _reset(self) -> None:  # noqa: B027 - optional hook
        """Drop derived state (summaries, facts, indexes); subclasses override."""

    # -- loading ------------------------------------------------------------------------

    @abstractmethod
    def load(self, query: str | None = None) -> list[BaseMessage]:
        """Select the messages for the next prompt.

        Args:
            query: The new user input; memories that recall by relevance use it (default: the
                latest human message).

        Returns:
            Messages to place before the new input, oldest first.
        """

    async def aload(self, query: str | None = None) -> list[BaseMessage]:
        """Async ``load``; runs in a thread unless a subclass has a native version."""
        return await run_in_executor(None, self.load, query)

    # -- LCEL ---------------------------------------------------------------------------

    def as_runnable(
        self, *, input_key: str = "input", history_key: str = "history"
    ) -> Runnable[dict[str, Any], dict[str, Any]]:
        """A runnable that adds ``history_key`` (the loaded messages) to a dict input.

        Use it in front of a prompt with ``MessagesPlaceholder(history_key)``; save turns with
        ``add_turn`` (or use ``wrap``, which does both).
        """

        def assign(inputs: dict[str, Any]) -> dict[str, Any]:
            return {**inputs, history_key: self.load(_input_text(inputs, input_key))}

        async def aassign(inputs: dict[str, Any]) -> dict[str, Any]:
            return {**inputs, history_key: await self.aload(_input_text(inputs, input_key))}

        return RunnableLambda(assign, afunc=aassign, name=f"{type(self).__name__}.load")

    def wrap(
        self,
        chain: Runnable[Any, Any],
        *,
        input_key: str = "input",
        history_key: str = "history",
        output_key: str | None = None,
    ) -> Runnable[dict[str, Any], Any]:
        """Wrap a chain so that each call loads the memory first and saves the turn after.

        Args:
            chain: Takes a dict with ``input_key`` and ``history_key`` (a message list).
            input_key: The input key holding the user's text.
            history_key: The key the loaded messages are passed under.
            output_key: For chains that return a dict, the key holding the reply text.

        Returns:
            A runnable (invoke, batch, ainvoke) returning the chain's output unchanged.
        """

        def run(inputs: dict[str, Any], config: RunnableConfig) -> Any:
            text = _input_text(inputs, input_key)
            output = chain.invoke({**inputs, history_key: self.load(text)}, config)
            self.add_turn(text, _output_text(output, output_key))
            return output

        async def arun(inputs: dict[str, Any], config: RunnableConfig) -> Any:
            text = _input_text(inputs, input_key)
            history = await self.aload(text)
            output = await chain.ainvoke({**inputs, history_key: history}, config)
            self.add_turn(text, _output_text(output, output_key))
            return output

        return RunnableLambda(run, afunc=arun, name=f"{type(self).__name__}.wrap")


def _input_text(inputs: Any, input_key: str) -> str:
    if not isinstance(inputs, dict) or input_key not in inputs:
        keys = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
        msg = f"Memory expects a dict input with key {input_key!r}, got {keys}; pass input_key=."
        raise ConfigError(msg)
    value = inputs[input_key]
    return value.text if isinstance(value, BaseMessage) else str(value)


def _output_text(output: Any, output_key: str | None) -> str | BaseMessage:
    if output_key is not None:
        if not isinstance(output, dict) or output_key not in output:
            msg = f"The chain's output has no key {output_key!r}: {output!r:.120}."
            raise ConfigError(msg)
        output = output[output_key]
    if isinstance(output, BaseMessage | str):
        return output
    msg = (
        f"Cannot save a {type(output).__name__} as the AI's reply; make the chain return a "
        "message or str, or pass output_key= for a dict output."
    )
    raise ConfigError(msg)


__all__ = [
    "ConversationMemory",
    "Turn",
    "check_positive_int",
    "format_turns",
    "last_human_text",
    "split_turns",
]
