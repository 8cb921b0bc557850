"""Memories that keep messages verbatim: all of them, the last k turns, or what fits a budget."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.language_models import BaseLanguageModel
from langchain_core.messages import BaseMessage

from localchain.errors import ConfigError, ContextLengthError
from localchain.memory.base import ConversationMemory, check_positive_int, split_turns

TokenCounter = Callable[[Sequence[BaseMessage]], int]
"""Counts the tokens of a message list, e.g. ``model.get_num_tokens_from_messages``."""


class BufferMemory(ConversationMemory):
    """Keeps the whole conversation: ``load`` returns every message."""

    def load(self, query: str | None = None) -> list[BaseMessage]:
        """Every stored message, oldest first (``query`` is ignored)."""
        return self.messages


class WindowMemory(ConversationMemory):
    """Keeps the last ``k`` turns (a turn is a human message and the replies that follow).

    Leading system messages are always kept.

    Args:
        k: How many recent turns to keep.
        history: Where messages are stored (default: in memory).

    Raises:
        ConfigError: ``k`` is not a positive integer.
    """

    def __init__(self, k: int = 5, *, history: BaseChatMessageHistory | None = None) -> None:
        super().__init__(history)
        self.k = check_positive_int(k, "k")

    def load(self, query: str | None = None) -> list[BaseMessage]:
        """The leading system messages and the last ``k`` turns (``query`` is ignored)."""
        prefix, turns = split_turns(self.messages)
        return prefix + [m for turn in turns[-self.k :] for m in turn]


class TokenBudgetMemory(ConversationMemory):
    """Keeps the most recent whole turns that fit a token budget, so the prompt fits the context.

    Example:
        .. code-block:: python

            # leave room for the new input and the reply in a 2048-token window
            memory = TokenBudgetMemory(model, budget=1200)

    Args:
        counter: A language model (its ``get_num_tokens_from_messages`` counts) or a function
            ``counter(messages) -> int``.
        budget: The most tokens the loaded messages may take.
        history: Where messages are stored (default: in memory).

    Raises:
        ConfigError: ``counter`` is neither, or ``budget`` is not a positive integer.
    """

    def __init__(
        self,
        counter: BaseLanguageModel | TokenCounter,
        budget: int,
        *,
        history: BaseChatMessageHistory | None = None,
    ) -> None:
        super().__init__(history)
        self.budget = check_positive_int(budget, "budget")
        if isinstance(counter, BaseLanguageModel):
            self._count: TokenCounter = lambda ms: counter.get_num_tokens_from_messages(list(ms))
        elif callable(counter):
            self._count = counter
        else:
            msg = (
                f"counter must be a language model or a function messages -> int, got "
                f"{type(counter).__name__}."
            )
            raise ConfigError(msg)

    def count(self, messages: Sequence[BaseMessage]) -> int:
        """Count the tokens of ``messages`` with the configured counter.

        Raises:
            ConfigError: The counter returned something other than a non-negative int.
        """
        if not messages:
            return 0
        tokens = self._count(messages)
        if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0:
            msg = f"The token counter returned {tokens!r}; it must return a non-negative int."
            raise ConfigError(msg)
        return tokens

    def load(self, query: str | None = None) -> list[BaseMessage]:
        """The leading system messages and the newest whole turns within ``budget`` tokens.

        Older turns are dropped whole; a turn that alone exceeds what is left ends the
        selection (so the result may be just the system messages).

        Raises:
            ContextLengthError: The leading system messages alone exceed the budget.
        """
        prefix, turns = split_turns(self.messages)
        used = self.count(prefix)
        if used > self.budget:
            msg = (
                f"The system messages alone take {used} tokens, over the memory budget of "
                f"{self.budget}; raise budget= or shorten the system prompt."
            )
            raise ContextLengthError(msg)
        kept: list[list[BaseMessage]] = []
        for turn in reversed(turns):
            cost = self.count(turn)
            if used + cost > self.budget:
                break
            used += cost
            kept.append(turn)
        return prefix + [m for turn in reversed(kept) for m in turn]


__all__ = ["BufferMemory", "TokenBudgetMemory", "TokenCounter", "WindowMemory"]
