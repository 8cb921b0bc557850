"""Which offered tools a request is about: embedding similarity between request and tools.

A 135M model asked in ``tool_choice="auto"`` mode calls a tool far more often than it should:
shown a ``determine_body_mass_index`` tool and asked for a triangle's area, it calls the tool.
Whether a request concerns a tool is a question a sentence-embedding model answers well (the
request and the tool's name and description are both short texts), so ``ChatLocal`` can keep
only the tools whose similarity reaches a floor, and let the model answer in text when none
does (``ChatLocal.tool_relevance_floor``). The agent's tool preselection
(``localchain.agents.ToolSelector``) ranks tools with the same scorer.

The floor :data:`RELEVANCE_FLOOR` is calibrated on ``examples/tool_calls/make_data.py``'s
training split, never on an evaluation set: ``examples/tool_calls/calibrate_relevance.py``
scores every call and no-call request of that split and prints the floor that best separates
them (the highest balanced accuracy).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.messages import BaseMessage, HumanMessage

from localchain.errors import ConfigError
from localchain.models.embeddings import cosine

RELEVANCE_FLOOR = 0.33
"""The floor ``tool_relevance_floor="auto"`` uses, for ``all-MiniLM-L6-v2`` (the embedded
embedding model): the cosine similarity that best separated requests that need an offered tool
from those that need none on the generated training split (balanced accuracy 0.87: 93% of the
requests for a tool kept it, 82% of the no-tool requests, half of them beside a related tool,
kept none). Recompute it with ``examples/tool_calls/calibrate_relevance.py`` for another
embedding model."""


def tool_text(name: str, description: str | None) -> str:
    """The text a tool is embedded by: its name with words split, and its description."""
    words = name.replace("_", " ").replace("-", " ").replace(".", " ")
    return f"{words}: {description or ''}".strip()


def check_floor(floor: float | str | None) -> float | None:
    """The numeric floor for ``floor`` ("auto", a number in [-1, 1], or None).

    Raises:
        ConfigError: Anything else.
    """
    if floor is None:
        return None
    if floor == "auto":
        return RELEVANCE_FLOOR
    if isinstance(floor, bool) or not isinstance(floor, int | float) or not -1 <= floor <= 1:
        msg = (
            f"tool_relevance_floor must be 'auto', a cosine similarity between -1 and 1, or "
            f"None (offer every tool); got {floor!r}."
        )
        raise ConfigError(msg)
    return float(floor)


NOT_A_REQUEST = "localchain_not_a_request"
"""``additional_kwargs`` key marking a HumanMessage that a program wrote, not the user (an
agent's note sent back to the model): tools are not scored against it."""


def request_text(messages: Sequence[BaseMessage]) -> str | None:
    """The text of the latest user message: the request the tools are scored against.

    HumanMessages marked with ``additional_kwargs[NOT_A_REQUEST]`` (an agent's own notes to
    the model) are skipped.
    """
    for message in reversed(messages):
        if isinstance(message, HumanMessage) and not message.additional_kwargs.get(NOT_A_REQUEST):
            return str(message.text)
    return None


class ToolScorer:
    """Cosine similarity between a request and tools, embedding each tool's text once.

    Args:
        embeddings: Any langchain-core ``Embeddings``, a function that makes them, or None
            for ``LocalEmbeddings()`` (the embedded all-MiniLM-L6-v2); a function or None is
            resolved on the first score, so building a scorer loads nothing.

    Example:
        .. code-block:: python

            scorer = ToolScorer(LocalEmbeddings())
            scorer.scores("What is 17 times 23?", ["calculator: Evaluate arithmetic."])
    """

    def __init__(self, embeddings: Embeddings | Callable[[], Embeddings] | None = None) -> None:
        """Keep the embeddings (or how to make them); tool vectors are computed when first
        scored."""
        self._source = embeddings
        made = embeddings is not None and hasattr(embeddings, "embed_query")
        self._embeddings: Embeddings | None = embeddings if made else None  # type: ignore[assignment]
        self._vectors: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    @property
    def embeddings(self) -> Embeddings:
        """The embeddings scored with (made on first use when given as a function or None)."""
        with self._lock:
            if self._embeddings is None:
                if self._source is None:
                    from localchain.models.embeddings import LocalEmbeddings

                    self._embeddings = LocalEmbeddings()
                else:
                    self._embeddings = self._source()  # type: ignore[operator]
            return self._embeddings

    def _tool_vectors(self, texts: Sequence[str]) -> list[list[float]]:
        embeddings = self.embeddings
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
            if missing:
                vectors = embeddings.embed_documents(missing)
                self._vectors.update(zip(missing, vectors, strict=True))
            return [self._vectors[t] for t in texts]

    def scores(self, request: str, texts: Sequence[str]) -> list[float]:
        """Similarity of ``request`` to each of ``texts`` (tool texts, see ``tool_text``)."""
        if not texts:
            return []
        query = self.embeddings.embed_query(request)
        return [cosine(query, vector) for vector in self._tool_vectors(texts)]

    def relevant(
        self, request: str, tools: Sequence[dict[str, Any]], floor: float
    ) -> list[dict[str, Any]]:
        """The OpenAI-format ``tools`` whose similarity to ``request`` is at least ``floor``,
        in their given order."""
        texts = [tool_text(t["function"]["name"], t["function"].get("description")) for t in tools]
        return [
            tool
            for tool, score in zip(tools, self.scores(request, texts), strict=True)
            if score >= floor
        ]


__all__ = [
    "NOT_A_REQUEST",
    "RELEVANCE_FLOOR",
    "ToolScorer",
    "check_floor",
    "request_text",
    "tool_text",
]
