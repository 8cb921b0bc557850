"""RouterChain: send each input to one of several chains, picked by a classifier or by embeddings.

Two ways to route:

- ``RouterChain.from_model``: a model call whose output is constrained (``with_structured_output``)
  to an enum of the route names, given each route's description.
- ``RouterChain.from_embeddings``: the route whose description embeds closest to the input.

Either falls back to a default route when the choice is unusable or not similar enough.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseLanguageModel
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from pydantic import BaseModel, Field, create_model

from localchain.chains.sequential import LCELChain
from localchain.errors import ConfigError
from localchain.models.embeddings import cosine

ROUTER_PROMPT = ChatPromptTemplate.from_messages(
    [
        (
            "system",
            "You route requests. Pick the one destination best suited to the input. "
            'Destinations:\n{destinations}\n\nReply with JSON: {{"destination": <name>}}.',
        ),
        ("human", "{input}"),
    ]
)
"""The classifier prompt; variables ``destinations`` (one "name: description" line each) and
``input``."""


@dataclass(frozen=True)
class Route:
    """A destination: its name, what it handles (shown to the classifier or embedded), its chain.

    Attributes:
        name: The route's name (what the classifier answers).
        description: What inputs it suits, e.g. "Questions about physics".
        runnable: The chain that handles the input; it receives the router's input unchanged.
    """

    name: str
    description: str
    runnable: Runnable[Any, Any]


def _as_routes(routes: Sequence[Route | Sequence[Any]] | Mapping[str, Any]) -> list[Route]:
    items: list[Any]
    if isinstance(routes, Mapping):
        items = [(name, *value) for name, value in routes.items()]
    else:
        items = list(routes)
    if not items:
        msg = "A router needs at least one route: [(name, description, runnable), ...]."
        raise ConfigError(msg)
    checked: list[Route] = []
    for index, item in enumerate(items):
        if not isinstance(item, Route):
            if not (isinstance(item, tuple | list) and len(item) == 3):
                msg = (
                    f"Route {index} is {item!r:.80}; give Route(name, description, runnable), "
                    "a (name, description, runnable) tuple, or {name: (description, runnable)}."
                )
                raise ConfigError(msg)
            item = Route(*item)
        if not isinstance(item.name, str) or not item.name.strip():
            msg = f"Route {index}: the name must be a non-empty string, got {item.name!r}."
            raise ConfigError(msg)
        if not isinstance(item.description, str) or not item.description.strip():
            msg = f"Route {item.name!r} needs a description saying which inputs it handles."
            raise ConfigError(msg)
        runnable = item.runnable
        if not isinstance(runnable, Runnable):
            if not callable(runnable):
                msg = f"Route {item.name!r}: {runnable!r:.80} is not a runnable."
                raise ConfigError(msg)
            runnable = RunnableLambda(runnable)
        checked.append(Route(item.name, item.description, runnable))
    names = [r.name for r in checked]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        msg = f"Route names must be unique; repeated: {duplicates}."
        raise ConfigError(msg)
    return checked


def _input_text(inputs: Any, input_key: str) -> str:
    if isinstance(inputs, str):
        return inputs
    if isinstance(inputs, Mapping) and input_key in inputs:
        return str(inputs[input_key])
    got = sorted(inputs) if isinstance(inputs, Mapping) else type(inputs).__name__
    msg = f"The router reads the text to route from key {input_key!r} (or a str); got {got}."
    raise ConfigError(msg)


class RouterChain(LCELChain):
    """Picks a route for each input, then runs that route's chain on the same input.

    Build it with ``from_model`` or ``from_embeddings``. ``route(input)`` returns just the name.

    Args:
        routes: The destinations.
        default: A runnable for inputs no route fits (classifier output unusable, or best
            similarity below ``threshold``). Without one, such inputs raise.
        input_key: For dict inputs, the key holding the text to route.
    """

    def __init__(
        self,
        routes: Sequence[Route | Sequence[Any]] | Mapping[str, Any],
        *,
        default: Runnable[Any, Any] | None = None,
        input_key: str = "input",
        name: str | None = None,
    ) -> None:
        self.routes = _as_routes(routes)
        self._by_name = {r.name: r.runnable for r in self.routes}
        if default is not None and not isinstance(default, Runnable):
            default = RunnableLambda(default) if callable(default) else default
            if not isinstance(default, Runnable):
                msg = f"default must be a runnable, got {type(default).__name__}."
                raise ConfigError(msg)
        self.default = default
        self.input_key = input_key
        self.name = name or "RouterChain"
        self._runnable = RunnableLambda(self._pick, afunc=self._apick, name="route")

    # -- choosing (subclasses) -----------------------------------------------------------

    def route(self, inputs: Any, config: RunnableConfig | None = None) -> str | None:
        """The chosen route's name, or None for the default route."""
        raise NotImplementedError

    async def aroute(self, inputs: Any, config: RunnableConfig | None = None) -> str | None:
        """Async ``route``."""
        raise NotImplementedError

    def _destination(self, name: str | None, why: str) -> Runnable[Any, Any]:
        if name is not None:
            return self._by_name[name]
        if self.default is None:
            msg = f"{why} and the router has no default route; pass default=<runnable>."
            raise OutputParserException(msg)
        return self.default

    # Returning a runnable from a RunnableLambda makes LCEL run it (streaming included).
    def _pick(self, inputs: Any, config: RunnableConfig) -> Runnable[Any, Any]:
        return self._destination(*self._route_with_reason(inputs, config))

    async def _apick(self, inputs: Any, config: RunnableConfig) -> Runnable[Any, Any]:
        return self._destination(*await self._aroute_with_reason(inputs, config))

    def _route_with_reason(self, inputs: Any, config: RunnableConfig) -> tuple[str | None, str]:
        raise NotImplementedError

    async def _aroute_with_reason(
        self, inputs: Any, config: RunnableConfig
    ) -> tuple[str | None, str]:
        raise NotImplementedError

    # -- constructors --------------------------------------------------------------------

    @classmethod
    def from_model(
        cls,
        model: BaseLanguageModel,
        routes: Sequence[Route | Sequence[Any]] | Mapping[str, Any],
        *,
        default: Runnable[Any, Any] | None = None,
        input_key: str = "input",
        prompt: ChatPromptTemplate | None = None,
    ) -> ModelRouterChain:
        """Route with a classifier call constrained to the route names.

        Args:
            model: A chat model supporting ``with_structured_output`` (``ChatLocal`` constrains
                decoding to the schema; ``FakeChatModel`` parses JSON replies).
            routes: ``[(name, description, runnable), ...]`` or ``{name: (description,
                runnable)}``.
            default: Used when the model's output does not parse or names no route.
            input_key: For dict inputs, the key holding the text to route.
            prompt: A classifier prompt with variables ``destinations`` and ``input``.
        """
        return ModelRouterChain(model, routes, default=default, input_key=input_key, prompt=prompt)

    @classmethod
    def from_embeddings(
        cls,
        embeddings: Embeddings,
        routes: Sequence[Route | Sequence[Any]] | Mapping[str, Any],
        *,
        default: Runnable[Any, Any] | None = None,
        threshold: float | None = None,
        input_key: str = "input",
    ) -> EmbeddingRouterChain:
        """Route to the description most similar (cosine) to the input.

        Args:
            embeddings: Any LangChain embeddings (``LocalEmbeddings`` for local ones).
            routes: As for ``from_model``.
            default: Used when the best similarity is below ``threshold``.
            threshold: The lowest cosine similarity accepted; needs ``default``.
            input_key: For dict inputs, the key holding the text to route.
        """
        return EmbeddingRouterChain(
            embeddings, routes, default=default, threshold=threshold, input_key=input_key
        )


class ModelRouterChain(RouterChain):
    """A ``RouterChain`` whose choice is a constrained classifier call (see ``from_model``)."""

    def __init__(
        self,
        model: BaseLanguageModel,
        routes: Sequence[Route | Sequence[Any]] | Mapping[str, Any],
        *,
        default: Runnable[Any, Any] | None = None,
        input_key: str = "input",
        prompt: ChatPromptTemplate | None = None,
    ) -> None:
        super().__init__(routes, default=default, input_key=input_key, name="ModelRouterChain")
        prompt = prompt if prompt is not None else ROUTER_PROMPT
        missing = {"destinations", "input"} - set(prompt.input_variables)
        if missing:
            msg = f"The router prompt lacks variables {sorted(missing)}."
            raise ConfigError(msg)
        names = enum.Enum("RouteName", {f"r{i}": r.name for i, r in enumerate(self.routes)})
        self.schema: type[BaseModel] = create_model(
            "RouteChoice",
            destination=(names, Field(description="The name of the chosen destination.")),
        )
        destinations = "\n".join(f"{r.name}: {r.description}" for r in self.routes)
        self._classify = prompt.partial(destinations=destinations) | model.with_structured_output(
            self.schema
        )

    def _choice(self, result: Any) -> str:
        value = result.get("destination") if isinstance(result, dict) else result.destination
        return value.value if isinstance(value, enum.Enum) else str(value)

    def _route_with_reason(self, inputs: Any, config: RunnableConfig) -> tuple[str | None, str]:
        text = _input_text(inputs, self.input_key)
        try:
            return self._choice(self._classify.invoke({"input": text}, config)), ""
        except (OutputParserException, ValueError) as err:
            return None, f"The classifier's output names no route ({err})"

    async def _aroute_with_reason(
        self, inputs: Any, config: RunnableConfig
    ) -> tuple[str | None, str]:
        text = _input_text(inputs, self.input_key)
        try:
            return self._choice(await self._classify.ainvoke({"input": text}, config)), ""
        except (OutputParserException, ValueError) as err:
            return None, f"The classifier's output names no route ({err})"

    def route(self, inputs: Any, config: RunnableConfig | None = None) -> str | None:
        """The route the classifier picks, or None when its output is unusable."""
        return self._route_with_reason(inputs, config or {})[0]

    async def aroute(self, inputs: Any, config: RunnableConfig | None = None) -> str | None:
        """Async ``route``."""
        return (await self._aroute_with_reason(inputs, config or {}))[0]


class EmbeddingRouterChain(RouterChain):
    """A ``RouterChain`` choosing by embedding similarity (see ``from_embeddings``)."""

    def __init__(
        self,
        embeddings: Embeddings,
        routes: Sequence[Route | Sequence[Any]] | Mapping[str, Any],
        *,
        default: Runnable[Any, Any] | None = None,
        threshold: float | None = None,
        input_key: str = "input",
    ) -> None:
        super().__init__(routes, default=default, input_key=input_key, name="EmbeddingRouterChain")
        if not isinstance(embeddings, Embeddings):
            msg = f"embeddings must be LangChain Embeddings, got {type(embeddings).__name__}."
            raise ConfigError(msg)
        if threshold is not None and default is None:
            msg = "threshold needs a default route for inputs below it; pass default=<runnable>."
            raise ConfigError(msg)
        self.embeddings = embeddings
        self.threshold = threshold
        self._vectors: list[list[float]] | None = None  # embedded on first use

    def _best(self, routes: list[list[float]], query: list[float]) -> tuple[str | None, str]:
        scores = [cosine(query, v) for v in routes]
        best = max(range(len(scores)), key=scores.__getitem__)
        if self.threshold is not None and scores[best] < self.threshold:
            return None, f"The best similarity {scores[best]:.3f} is below {self.threshold}"
        return self.routes[best].name, ""

    def _route_with_reason(self, inputs: Any, config: RunnableConfig) -> tuple[str | None, str]:
        text = _input_text(inputs, self.input_key)
        if self._vectors is None:
            self._vectors = self.embeddings.embed_documents([r.description for r in self.routes])
        return self._best(self._vectors, self.embeddings.embed_query(text))

    async def _aroute_with_reason(
        self, inputs: Any, config: RunnableConfig
    ) -> tuple[str | None, str]:
        text = _input_text(inputs, self.input_key)
        if self._vectors is None:
            descriptions = [r.description for r in self.routes]
            self._vectors = await self.embeddings.aembed_documents(descriptions)
        return self._best(self._vectors, await self.embeddings.aembed_query(text))

    def route(self, inputs: Any, config: RunnableConfig | None = None) -> str | None:
        """The most similar route, or None when below ``threshold``."""
        return self._route_with_reason(inputs, config or {})[0]

    async def aroute(self, inputs: Any, config: RunnableConfig | None = None) -> str | None:
        """Async ``route``."""
        return (await self._aroute_with_reason(inputs, config or {}))[0]


__all__ = ["ROUTER_PROMPT", "EmbeddingRouterChain", "ModelRouterChain", "Route", "RouterChain"]
