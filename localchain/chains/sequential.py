"""SequentialChain: run steps in order, each step's output becoming a named input of the next.

A thin layer over LCEL (``RunnablePassthrough.assign`` per step) that checks the wiring when the
chain is built: every variable a step needs must be a chain input or an earlier step's output.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.prompts import BasePromptTemplate
from langchain_core.runnables import (
    Runnable,
    RunnableConfig,
    RunnableLambda,
    RunnablePassthrough,
)

from localchain.errors import ConfigError


class LCELChain(Runnable[Any, Any]):
    """Base for localchain's chains: a named Runnable delegating to an LCEL pipeline.

    Subclasses set ``self._runnable``; invoke, batch, stream and their async forms delegate to it,
    so the chain composes with ``|`` like any runnable.
    """

    _runnable: Runnable[Any, Any]

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:  # noqa: A002
        """Run the chain on one input."""
        return self._runnable.invoke(input, self._config(config), **kwargs)

    async def ainvoke(
        self,
        input: Any,  # noqa: A002
        config: RunnableConfig | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run the chain on one input, asynchronously."""
        return await self._runnable.ainvoke(input, self._config(config), **kwargs)

    def batch(
        self,
        inputs: list[Any],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Run the chain on many inputs (in parallel threads, like any runnable)."""
        return self._runnable.batch(inputs, config, return_exceptions=return_exceptions, **kwargs)

    async def abatch(
        self,
        inputs: list[Any],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Run the chain on many inputs concurrently."""
        return await self._runnable.abatch(
            inputs, config, return_exceptions=return_exceptions, **kwargs
        )

    def stream(
        self,
        input: Any,  # noqa: A002
        config: RunnableConfig | None = None,
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Stream the chain's output (chunks where the last step streams)."""
        yield from self._runnable.stream(input, self._config(config), **kwargs)

    async def astream(
        self,
        input: Any,  # noqa: A002
        config: RunnableConfig | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Stream the chain's output asynchronously."""
        async for chunk in self._runnable.astream(input, self._config(config), **kwargs):
            yield chunk

    def _config(self, config: RunnableConfig | None) -> RunnableConfig:
        config = dict(config or {})  # type: ignore[assignment]
        config.setdefault("run_name", self.get_name())
        return config  # type: ignore[return-value]


@dataclass(frozen=True)
class Step:
    """One step of a ``SequentialChain``.

    Attributes:
        output_key: The name the step's output is stored under.
        runnable: Receives a dict of its inputs; a prompt, ``prompt | model | parser``, a
            function wrapped in ``RunnableLambda``, or any runnable.
        inputs: The variables the step reads. Default: read from the runnable (a prompt's
            variables, or the required fields of its input schema); a step whose inputs cannot
            be read receives every variable available so far.
    """

    output_key: str
    runnable: Runnable[Any, Any]
    inputs: tuple[str, ...] | None = None


def step_inputs(runnable: Runnable[Any, Any]) -> list[str] | None:
    """The variables a runnable needs, when its prompt or input schema says; None otherwise."""
    if isinstance(runnable, BasePromptTemplate):
        return list(runnable.input_variables)
    try:
        schema = runnable.get_input_jsonschema()
    except Exception:  # noqa: BLE001 - some runnables cannot describe their input
        return None
    if schema.get("type") != "object" or "properties" not in schema:
        return None
    return list(schema.get("required", []))


def _as_step(item: Step | Sequence[Any], index: int) -> Step:
    if isinstance(item, Step):
        step = item
    elif isinstance(item, tuple | list) and len(item) in (2, 3):
        inputs = tuple(item[2]) if len(item) == 3 and item[2] is not None else None
        step = Step(item[0], item[1], inputs)
    else:
        msg = (
            f"Step {index} is {item!r:.80}; give Step(output_key, runnable, inputs) or a tuple "
            "(output_key, runnable) / (output_key, runnable, inputs)."
        )
        raise ConfigError(msg)
    if not isinstance(step.output_key, str) or not step.output_key:
        msg = f"Step {index}: output_key must be a non-empty string, got {step.output_key!r}."
        raise ConfigError(msg)
    runnable = step.runnable
    if not isinstance(runnable, Runnable):
        if not callable(runnable):
            msg = f"Step {index} ({step.output_key!r}): {runnable!r:.80} is not a runnable."
            raise ConfigError(msg)
        runnable = RunnableLambda(runnable)
    return Step(step.output_key, runnable, step.inputs)


class SequentialChain(LCELChain):
    """Runs steps in order; each output is added to the variables under its ``output_key``.

    Example:
        .. code-block:: python

            chain = SequentialChain(
                [
                    ("summary", summarize_prompt | model | StrOutputParser()),
                    ("title", title_prompt | model | StrOutputParser()),  # uses {summary}
                ],
                input_variables=["text"],
            )
            chain.invoke({"text": article})  # {"summary": ..., "title": ...}

    Args:
        steps: ``Step`` objects or ``(output_key, runnable[, inputs])`` tuples.
        input_variables: The variables callers pass in.
        output_variables: Which variables to return (default: every step's output).

    Raises:
        ConfigError: At build time: no steps, a step needs a variable that no input or earlier
            step provides (named in the message), an output key is reused, or an output
            variable is unknown. At run time: an input variable is missing.
    """

    def __init__(
        self,
        steps: Sequence[Step | Sequence[Any]],
        *,
        input_variables: Sequence[str],
        output_variables: Sequence[str] | None = None,
        name: str | None = None,
    ) -> None:
        if not steps:
            msg = "SequentialChain needs at least one step."
            raise ConfigError(msg)
        if isinstance(input_variables, str):
            msg = f"input_variables must be a list of names, got the string {input_variables!r}."
            raise ConfigError(msg)
        self.input_variables = list(input_variables)
        self.steps = [_as_step(item, i) for i, item in enumerate(steps)]
        available = list(self.input_variables)
        pipeline: Runnable[Any, Any] = RunnableLambda(self._check_inputs, name="check_inputs")
        for index, step in enumerate(self.steps):
            if step.output_key in available:
                msg = (
                    f"Step {index} writes {step.output_key!r}, which is already an input or an "
                    "earlier step's output; give it another output_key."
                )
                raise ConfigError(msg)
            needed = list(step.inputs) if step.inputs is not None else step_inputs(step.runnable)
            if needed is not None:
                missing = [v for v in needed if v not in available]
                if missing:
                    msg = (
                        f"Step {index} ({step.output_key!r}) needs variables {missing} that "
                        f"nothing provides; available at that point: {available}. Add them "
                        "to input_variables or produce them in an earlier step."
                    )
                    raise ConfigError(msg)
            pipeline = pipeline | RunnablePassthrough.assign(
                **{step.output_key: _select(needed) | step.runnable}
            )
            available.append(step.output_key)
        outputs = [s.output_key for s in self.steps]
        self.output_variables = list(output_variables) if output_variables else outputs
        unknown = [v for v in self.output_variables if v not in available]
        if unknown:
            msg = f"output_variables {unknown} are not produced; available: {available}."
            raise ConfigError(msg)
        keep = self.output_variables
        self._runnable = pipeline | RunnableLambda(lambda d: {k: d[k] for k in keep})
        self.name = name or "SequentialChain"

    def _check_inputs(self, inputs: Any) -> dict[str, Any]:
        if not isinstance(inputs, Mapping):
            if len(self.input_variables) == 1:
                return {self.input_variables[0]: inputs}
            msg = (
                f"SequentialChain takes a dict with keys {self.input_variables}, got "
                f"{type(inputs).__name__}."
            )
            raise ConfigError(msg)
        missing = [v for v in self.input_variables if v not in inputs]
        if missing:
            msg = (
                f"SequentialChain input is missing variables {missing}; "
                f"got {sorted(inputs)}, needs {self.input_variables}."
            )
            raise ConfigError(msg)
        return dict(inputs)


def _select(keys: list[str] | None) -> Runnable[Any, Any]:
    if keys is None:
        return RunnablePassthrough()
    return RunnableLambda(lambda d: {k: d[k] for k in keys}, name="select_inputs")


__all__ = ["LCELChain", "SequentialChain", "Step", "step_inputs"]
