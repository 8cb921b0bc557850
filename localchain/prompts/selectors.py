"""Example selectors for few-shot prompts: by semantic similarity, and by a length budget.

Both are langchain-core ``BaseExampleSelector``s. ``SimilarityExampleSelector`` keeps the example
vectors in memory and ranks by cosine similarity with any LangChain ``Embeddings`` (default:
localchain's ``LocalEmbeddings``), so it needs no vector store. ``LengthExampleSelector`` keeps
examples, in order, while the prompt fits a budget counted in characters, or in tokens when given
a token-counting ``length_function`` (e.g. ``model.get_num_tokens``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.example_selectors import BaseExampleSelector
from langchain_core.prompts import BasePromptTemplate
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from localchain.errors import ConfigError
from localchain.models.embeddings import cosine


def _example_text(example: dict[str, Any], prompt: BasePromptTemplate | None) -> str:
    if prompt is None:
        return "\n".join(str(v) for v in example.values())
    known = set(prompt.input_variables)
    return prompt.format(**{k: v for k, v in example.items() if k in known})


def _fit_budget(
    examples: Sequence[dict[str, Any]],
    budget: int,
    *,
    length_function: Callable[[str], int],
    example_prompt: BasePromptTemplate | None,
) -> list[dict[str, Any]]:
    """The leading examples whose rendered lengths sum to at most ``budget``."""
    chosen: list[dict[str, Any]] = []
    for example in examples:
        size = length_function(_example_text(example, example_prompt))
        if size > budget:
            break
        budget -= size
        chosen.append(example)
    return chosen


def _input_text(input_variables: dict[str, Any], keys: Sequence[str] | None) -> str:
    names = keys if keys is not None else sorted(input_variables)
    return " ".join(str(input_variables[k]) for k in names if k in input_variables)


class LengthExampleSelector(BaseExampleSelector, BaseModel):
    """Keep examples in order while the examples plus the input fit a length budget.

    Like langchain's ``LengthBasedExampleSelector``, but with any length function: ``len``
    (characters, the default), a word count, or a token count such as ``model.get_num_tokens``.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)
    examples: list[dict[str, Any]]
    """Candidate examples, in the order of preference."""
    max_length: int = Field(ge=0)
    """Budget for the input text plus the chosen examples, in ``length_function`` units."""
    example_prompt: BasePromptTemplate | None = None
    """Renders an example for measuring; default: its values joined by newlines."""
    length_function: Callable[[str], int] = len
    """Measures a text: characters by default; pass a tokenizer count for tokens."""
    input_keys: list[str] | None = None
    """Input variables counted against the budget; default: all of them."""
    k: int | None = Field(None, ge=1)
    """At most this many examples; default: as many as fit."""

    def add_example(self, example: dict[str, Any]) -> None:
        """Append an example to the candidates."""
        self.examples.append(example)

    def select_examples(self, input_variables: dict[str, Any]) -> list[dict[str, Any]]:
        """The leading examples that fit the budget left after the input."""
        budget = self.max_length - self.length_function(
            _input_text(input_variables, self.input_keys)
        )
        candidates = self.examples[: self.k] if self.k else self.examples
        return _fit_budget(
            candidates,
            budget,
            length_function=self.length_function,
            example_prompt=self.example_prompt,
        )


class SimilarityExampleSelector(BaseExampleSelector, BaseModel):
    """Pick the ``k`` examples most similar to the input, by cosine similarity of embeddings.

    Example vectors are computed once, on first use, with ``embed_documents``; the input with
    ``embed_query``. Ties keep the examples' original order. Results come most similar first.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)
    examples: list[dict[str, Any]]
    """Candidate examples."""
    embeddings: Embeddings | None = None
    """Any LangChain embeddings; default: ``localchain.models.LocalEmbeddings()``."""
    k: int = Field(4, ge=1)
    """How many examples to pick."""
    input_keys: list[str] | None = None
    """Keys embedded, on both the input and the examples; default: the input's keys that the
    examples also have."""
    max_length: int | None = Field(None, ge=0)
    """Optional budget (as in ``LengthExampleSelector``) applied to the picked examples."""
    length_function: Callable[[str], int] = len
    """Measures a text for ``max_length``."""
    example_prompt: BasePromptTemplate | None = None
    """Renders an example for measuring against ``max_length``."""
    _vectors: list[list[float]] | None = PrivateAttr(None)

    def _get_embeddings(self) -> Embeddings:
        if self.embeddings is None:
            # Imported here: it is cheap, but keeps ``import localchain.prompts`` minimal.
            from localchain.models.embeddings import LocalEmbeddings

            self.embeddings = LocalEmbeddings()
        return self.embeddings

    def _keys(self, input_variables: dict[str, Any]) -> list[str]:
        if self.input_keys is not None:
            return self.input_keys
        shared = {key for example in self.examples for key in example}
        keys = sorted(key for key in input_variables if key in shared)
        if not keys:
            msg = (
                f"SimilarityExampleSelector cannot tell which keys to compare: the input has "
                f"{sorted(input_variables)}, the examples {sorted(shared)}. Pass input_keys."
            )
            raise ConfigError(msg)
        return keys

    def add_example(self, example: dict[str, Any]) -> None:
        """Add an example; vectors are recomputed on next use."""
        self.examples.append(example)
        self._vectors = None

    def select_examples(self, input_variables: dict[str, Any]) -> list[dict[str, Any]]:
        """The ``k`` most similar examples, most similar first (then trimmed to the budget)."""
        if not self.examples:
            return []
        keys = self._keys(input_variables)
        embeddings = self._get_embeddings()
        if self._vectors is None:
            texts = [" ".join(str(ex.get(key, "")) for key in keys) for ex in self.examples]
            self._vectors = embeddings.embed_documents(texts)
        query = embeddings.embed_query(_input_text(input_variables, keys))
        scores = [cosine(query, vector) for vector in self._vectors]
        order = sorted(range(len(scores)), key=lambda i: -scores[i])[: self.k]
        picked = [self.examples[i] for i in order]
        if self.max_length is None:
            return picked
        budget = self.max_length - self.length_function(_input_text(input_variables, keys))
        return _fit_budget(
            picked,
            budget,
            length_function=self.length_function,
            example_prompt=self.example_prompt,
        )
