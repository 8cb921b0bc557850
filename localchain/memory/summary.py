"""Running-summary memory: the model folds older turns into a summary; recent ones stay as is."""

from __future__ import annotations

import threading

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseLanguageModel
from langchain_core.messages import BaseMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import BasePromptTemplate, ChatPromptTemplate

from localchain.errors import ConfigError
from localchain.memory.base import (
    ConversationMemory,
    Turn,
    check_positive_int,
    format_turns,
    split_turns,
)

SUMMARY_PROMPT = ChatPromptTemplate.from_messages(
    [
        (
            "system",
            "You keep a running summary of a conversation. Extend the current summary with the "
            "new lines: keep names, facts, numbers and decisions; drop small talk. Reply with "
            "the new summary only, in a few sentences.",
        ),
        (
            "human",
            "Current summary:\n{summary}\n\nNew lines of conversation:\n{new_lines}\n\n"
            "New summary:",
        ),
    ]
)
"""The default summarisation prompt; variables ``summary`` and ``new_lines``."""


class SummaryMemory(ConversationMemory):
    """Keeps the last ``keep_last`` turns verbatim and a model-written summary of the rest.

    Summarisation is incremental and lazy: ``load`` folds only the turns that have left the
    window since the last call into the summary, with one model call. A failed or empty reply
    leaves the summary as it was, so the turns are summarised again on the next ``load``.

    Args:
        model: Any LangChain chat model or LLM.
        keep_last: How many recent turns stay verbatim.
        history: Where messages are stored (default: in memory).
        prompt: A summarisation prompt with variables ``summary`` and ``new_lines``.

    Raises:
        ConfigError: ``keep_last`` is negative or ``prompt`` lacks a variable.
    """

    def __init__(
        self,
        model: BaseLanguageModel,
        *,
        keep_last: int = 2,
        history: BaseChatMessageHistory | None = None,
        prompt: BasePromptTemplate | None = None,
    ) -> None:
        super().__init__(history)
        self.keep_last = check_positive_int(keep_last, "keep_last", minimum=0)
        prompt = prompt if prompt is not None else SUMMARY_PROMPT
        missing = {"summary", "new_lines"} - set(prompt.input_variables)
        if missing:
            msg = (
                f"The summary prompt lacks variables {sorted(missing)}; it needs '{{summary}}' "
                "and '{new_lines}'."
            )
            raise ConfigError(msg)
        self._chain = prompt | model | StrOutputParser()
        self._lock = threading.Lock()
        self.summary = ""
        """The running summary of the turns before the verbatim window ("" when none yet)."""
        self._summarised = 0

    def _reset(self) -> None:
        self.summary = ""
        self._summarised = 0

    def _split(self) -> tuple[list[BaseMessage], list[Turn], list[Turn], int]:
        prefix, turns = split_turns(self.messages)
        cut = max(0, len(turns) - self.keep_last)
        if self._summarised > cut:  # the history was shortened behind our back: start over
            self._reset()
        return prefix, turns[self._summarised : cut], turns[cut:], cut

    def _check(self, text: str) -> str:
        text = text.strip()
        if not text:
            msg = "The model returned an empty summary; the turns stay unsummarised for now."
            raise OutputParserException(msg, llm_output=text)
        return text

    def _result(self, prefix: list[BaseMessage], recent: list[Turn]) -> list[BaseMessage]:
        head = [SystemMessage(f"Summary of the earlier conversation: {self.summary}")]
        return prefix + (head if self.summary else []) + [m for turn in recent for m in turn]

    def load(self, query: str | None = None) -> list[BaseMessage]:
        """The system messages, the summary (as a system message) and the recent turns.

        Raises:
            OutputParserException: The model's summary was empty (nothing is lost).
        """
        with self._lock:
            prefix, pending, recent, cut = self._split()
            if pending:
                inputs = {"summary": self.summary or "(none)", "new_lines": format_turns(pending)}
                self.summary = self._check(self._chain.invoke(inputs))
                self._summarised = cut
            return self._result(prefix, recent)

    async def aload(self, query: str | None = None) -> list[BaseMessage]:
        """Async ``load``: the summarisation call uses the model's ``ainvoke``."""
        prefix, pending, recent, cut = self._split()
        if pending:
            inputs = {"summary": self.summary or "(none)", "new_lines": format_turns(pending)}
            summary = self._check(await self._chain.ainvoke(inputs))
            if self._summarised < cut:  # another call may have got there first
                self.summary, self._summarised = summary, cut
        return self._result(prefix, recent)


__all__ = ["SUMMARY_PROMPT", "SummaryMemory"]
