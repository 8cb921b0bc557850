"""Tool preselection: offer a small model only the few tools most relevant to the request.

A 135M model's attention and context do not stretch over dozens of tool schemas; the agent
embeds each tool's name and description once, embeds the user's request, and offers the ``k``
nearest tools (cosine similarity), keeping their original order.

Routing by data (``first_tool_choice="route"``) looks past the descriptions: a request that
names ``Nordlys Labs`` goes to the tool whose data holds those words (the knowledge graph),
one that names ``Alice Moreau`` and ``orders`` to the database; see :func:`route_by_data`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from langchain_core.embeddings import Embeddings
from langchain_core.tools import BaseTool

from localchain.errors import ConfigError
from localchain.models.tool_relevance import ToolScorer
from localchain.models.tool_relevance import tool_text as name_and_description
from localchain.tools._words import STOPWORDS, content_words


def tool_text(tool: BaseTool) -> str:
    """The text a tool is embedded by: its name (words split) and description."""
    return name_and_description(tool.name, tool.description)


class ToolSelector:
    """Pick the ``k`` tools whose descriptions are nearest to a request.

    Args:
        tools: The tools to choose from.
        embeddings: Any langchain-core ``Embeddings``, a function that makes them, or None for
            ``LocalEmbeddings()``; a function or None is resolved on the first ``select``.
        k: How many tools to offer.

    Raises:
        ConfigError: ``k`` is below 1.

    Example:
        .. code-block:: python

            selector = ToolSelector(tools, LocalEmbeddings(), k=3)
            selector.select("What is 17 times 23?")  # ["calculator", ...]
    """

    def __init__(
        self,
        tools: Sequence[BaseTool],
        embeddings: Embeddings | Callable[[], Embeddings] | None,
        *,
        k: int,
    ) -> None:
        """Keep the tools; their embeddings are computed on the first ``select``."""
        if k < 1:
            msg = f"tool_k must be at least 1, got {k}. Use tool_k=None to offer every tool."
            raise ConfigError(msg)
        self.tools = list(tools)
        self.k = k
        self._scorer = ToolScorer(embeddings)

    def scores(self, request: str) -> dict[str, float]:
        """Cosine similarity of each tool (by name) to ``request``."""
        texts = [tool_text(t) for t in self.tools]
        scores = self._scorer.scores(request, texts)
        return {t.name: score for t, score in zip(self.tools, scores, strict=True)}

    def select(self, request: str) -> list[str]:
        """The names of the ``k`` nearest tools, in the order the tools were given."""
        if len(self.tools) <= self.k:
            return [t.name for t in self.tools]
        scores = self.scores(request)
        ranked = sorted(self.tools, key=lambda t: -scores[t.name])[: self.k]
        chosen = {t.name for t in ranked}
        return [t.name for t in self.tools if t.name in chosen]


ROUTE = "route"
"""``first_tool_choice`` value: the first calls go to the tools :func:`route_by_data` picks."""


def route_by_data(request: str, tools: Sequence[BaseTool]) -> list[str]:
    """The tools whose data shares the most words with ``request`` (ties kept, in order).

    Each tool that has data of its own says what it holds through ``known_text(request)``
    (localchain's built-in tools: a graph's entities and relations, a database's names and
    text values, a folder's files, the passages a search finds); the request's content words
    (:func:`content_words`) are counted in it. [] when no tool's data shares a word: the
    caller then offers every tool.
    """
    asked = content_words(request)
    scores: dict[str, int] = {}
    for tool in tools:
        known = getattr(tool, "known_text", None)
        text = known(request) if callable(known) and asked else None
        if text:
            scores[tool.name] = len(asked & content_words(text))
    best = max(scores.values(), default=0)
    return [t.name for t in tools if best and scores.get(t.name) == best]


__all__ = ["ROUTE", "STOPWORDS", "ToolSelector", "content_words", "route_by_data", "tool_text"]
