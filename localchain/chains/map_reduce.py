"""Map-reduce summarisation for documents longer than the model's context.

The text is split into chunks of at most ``token_budget`` tokens; each chunk is summarised (the
map step, one ``batch``/``abatch`` call); the summaries are joined and, while they still exceed
the budget, grouped and summarised again (the collapse step) until one final summary fits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.documents import Document
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseLanguageModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import BasePromptTemplate
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langchain_text_splitters import RecursiveCharacterTextSplitter

from localchain.chains.sequential import LCELChain
from localchain.errors import ConfigError, ContextLengthError
from localchain.prompts import get_prompt

TextCounter = Callable[[str], int]
"""Counts a text's tokens, e.g. ``model.get_num_tokens``."""


def _check_prompt(prompt: BasePromptTemplate, what: str) -> BasePromptTemplate:
    if set(prompt.input_variables) != {"text"}:
        msg = (
            f"The {what} prompt must have the single variable 'text', has {prompt.input_variables}."
        )
        raise ConfigError(msg)
    return prompt


class MapReduceSummarizer(LCELChain):
    """Summarises text of any length within a model's context (map, then collapse, then reduce).

    Example:
        .. code-block:: python

            summarize = MapReduceSummarizer(model, token_budget=1500)
            summarize.invoke(long_text)           # -> str
            await summarize.ainvoke(documents)   # list[Document] works too

    Input: a str, a list of ``Document`` (joined), or a dict with key ``text`` or ``documents``.

    Args:
        model: Any LangChain chat model or LLM.
        token_budget: The most tokens of text given to one model call (leave room in the
            context for the prompt and the reply).
        token_counter: ``counter(text) -> int``; default: ``model.get_num_tokens``.
        map_prompt: Prompt for each chunk, variable ``text`` (default: the "summarize" task).
        reduce_prompt: Prompt for combining summaries, variable ``text`` (default: as map).
        max_rounds: The most collapse rounds before giving up.
        max_concurrency: Passed to ``batch``/``abatch`` for the map and collapse steps.
        return_steps: Return ``{"summary", "chunk_summaries", "rounds"}`` instead of a str.

    Raises:
        ConfigError: At build time for bad arguments; at run time for empty input.
        ContextLengthError: A piece of text cannot be split below the budget, or summaries stop
            shrinking within ``max_rounds``.
        OutputParserException: The model returned an empty summary for some chunk.
    """

    def __init__(
        self,
        model: BaseLanguageModel,
        *,
        token_budget: int = 1024,
        token_counter: TextCounter | None = None,
        map_prompt: BasePromptTemplate | None = None,
        reduce_prompt: BasePromptTemplate | None = None,
        max_rounds: int = 4,
        max_concurrency: int | None = None,
        return_steps: bool = False,
    ) -> None:
        for value, name, low in ((token_budget, "token_budget", 16), (max_rounds, "max_rounds", 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                msg = f"{name} must be an integer >= {low}, got {value!r}."
                raise ConfigError(msg)
        if not isinstance(model, BaseLanguageModel):
            msg = f"model must be a LangChain chat model or LLM, got {type(model).__name__}."
            raise ConfigError(msg)
        if token_counter is not None and not callable(token_counter):
            msg = f"token_counter must be a function text -> int, got {token_counter!r}."
            raise ConfigError(msg)
        self.token_budget = token_budget
        self.count: TextCounter = token_counter or model.get_num_tokens
        map_prompt = _check_prompt(map_prompt or get_prompt("summarize", model=model), "map")
        reduce_prompt = _check_prompt(reduce_prompt or map_prompt, "reduce")
        self._map = map_prompt | model | StrOutputParser()
        self._reduce = reduce_prompt | model | StrOutputParser()
        self.max_rounds = max_rounds
        self.max_concurrency = max_concurrency
        self.return_steps = return_steps
        self._splitter = RecursiveCharacterTextSplitter(
            # no "" separator: never cut inside a word; an unsplittable piece is reported
            chunk_size=token_budget,
            chunk_overlap=0,
            length_function=self.count,
            separators=["\n\n", "\n", ". ", " "],
        )
        self.name = "MapReduceSummarizer"
        self._runnable = RunnableLambda(self._run, afunc=self._arun, name="map_reduce")

    # -- pieces --------------------------------------------------------------------------

    def split(self, text: str) -> list[str]:
        """Split text into chunks within the token budget.

        Raises:
            ContextLengthError: A piece (say, one enormous word) cannot be split small enough.
        """
        chunks = [c for c in self._splitter.split_text(text) if c.strip()]
        for index, chunk in enumerate(chunks):
            tokens = self.count(chunk)
            if tokens > self.token_budget:
                msg = (
                    f"Chunk {index} has {tokens} tokens and cannot be split below the "
                    f"token_budget of {self.token_budget} (it has no spaces or newlines: "
                    f"{chunk[:40]!r}...). Clean the text or raise token_budget."
                )
                raise ContextLengthError(msg)
        return chunks

    def _groups(self, summaries: list[str]) -> list[str]:
        """Pack summaries, in order, into texts within the budget."""
        groups: list[str] = []
        for summary in summaries:
            if groups and self.count(groups[-1] + "\n\n" + summary) <= self.token_budget:
                groups[-1] += "\n\n" + summary
            else:
                groups.append(summary)
        return groups

    def _config(self, config: RunnableConfig | None) -> RunnableConfig:
        config = super()._config(config)
        if self.max_concurrency is not None:
            config["max_concurrency"] = self.max_concurrency
        return config

    @staticmethod
    def _text(inputs: Any) -> str:
        if isinstance(inputs, dict):
            if "text" in inputs:
                inputs = inputs["text"]
            elif "documents" in inputs:
                inputs = inputs["documents"]
            else:
                keys = sorted(inputs)
                msg = f"Pass a str, documents, or a dict with 'text' or 'documents'; got {keys}."
                raise ConfigError(msg)
        if isinstance(inputs, Sequence) and not isinstance(inputs, str):
            bad = [d for d in inputs if not isinstance(d, Document)]
            if bad:
                msg = f"Expected a list of Documents, found {bad[0]!r:.80}."
                raise ConfigError(msg)
            inputs = "\n\n".join(d.page_content for d in inputs)
        if not isinstance(inputs, str):
            msg = f"Cannot summarise a {type(inputs).__name__}; pass a str or documents."
            raise ConfigError(msg)
        if not inputs.strip():
            msg = "Nothing to summarise: the text or documents are empty."
            raise ConfigError(msg)
        return inputs

    @staticmethod
    def _checked(outputs: list[str], what: str) -> list[str]:
        for index, output in enumerate(outputs):
            if not output.strip():
                msg = f"The model returned an empty summary for {what} {index}."
                raise OutputParserException(msg, llm_output=output)
        return [o.strip() for o in outputs]

    def _progress(self, rounds: int, before: int, after: int) -> None:
        if after >= before or rounds > self.max_rounds:
            msg = (
                f"The summaries do not fit the token_budget of {self.token_budget} after "
                f"{rounds} rounds ({before} -> {after} tokens). Raise token_budget or "
                "max_rounds, or use a prompt that asks for shorter summaries."
            )
            raise ContextLengthError(msg)

    def _output(self, summary: str, chunk_summaries: list[str], rounds: int) -> Any:
        if self.return_steps:
            return {"summary": summary, "chunk_summaries": chunk_summaries, "rounds": rounds}
        return summary

    # -- the loop, sync and async ---------------------------------------------------------

    def _run(self, inputs: Any, config: RunnableConfig) -> Any:
        chunks = self.split(self._text(inputs))
        if len(chunks) == 1:
            return self._output(
                self._checked([self._map.invoke({"text": chunks[0]}, config)], "chunk")[0], [], 0
            )
        batch = [{"text": c} for c in chunks]
        summaries = self._checked(self._map.batch(batch, config), "chunk")
        first, rounds = summaries, 0
        while self.count(joined := "\n\n".join(summaries)) > self.token_budget:
            rounds += 1
            groups = self._groups(summaries)
            summaries = self._checked(
                self._reduce.batch([{"text": g} for g in groups], config), "group"
            )
            self._progress(rounds, self.count(joined), self.count("\n\n".join(summaries)))
        final = self._checked([self._reduce.invoke({"text": joined}, config)], "final text")
        return self._output(final[0], first, rounds)

    async def _arun(self, inputs: Any, config: RunnableConfig) -> Any:
        chunks = self.split(self._text(inputs))
        if len(chunks) == 1:
            out = await self._map.ainvoke({"text": chunks[0]}, config)
            return self._output(self._checked([out], "chunk")[0], [], 0)
        batch = [{"text": c} for c in chunks]
        summaries = self._checked(await self._map.abatch(batch, config), "chunk")
        first, rounds = summaries, 0
        while self.count(joined := "\n\n".join(summaries)) > self.token_budget:
            rounds += 1
            groups = [{"text": g} for g in self._groups(summaries)]
            summaries = self._checked(await self._reduce.abatch(groups, config), "group")
            self._progress(rounds, self.count(joined), self.count("\n\n".join(summaries)))
        final = await self._reduce.ainvoke({"text": joined}, config)
        return self._output(self._checked([final], "final text")[0], first, rounds)


def create_map_reduce_summarizer(model: BaseLanguageModel, **kwargs: Any) -> Runnable[Any, Any]:
    """Build a ``MapReduceSummarizer`` (same arguments); returned as a plain Runnable."""
    return MapReduceSummarizer(model, **kwargs)


__all__ = ["MapReduceSummarizer", "TextCounter", "create_map_reduce_summarizer"]
