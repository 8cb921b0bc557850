"""Retrieval QA: answer from retrieved passages, cite them as [1], [2], or say "I don't know".

When nothing relevant is retrieved (no documents, or none reaching ``score_threshold``), the
chain answers ``I_DONT_KNOW`` without calling the model, so it cannot make an answer up from no
context. The output is a dict: ``answer``, ``sources`` (the passages given to the model, in
citation order), ``citations`` (their labels, ``citations[n - 1]`` for [n]), ``cited`` (the
numbers the answer actually uses) and ``question``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from langchain_core.documents import Document
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseLanguageModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import BasePromptTemplate, ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_core.vectorstores import VectorStore, VectorStoreRetriever

from localchain.chains.sequential import LCELChain
from localchain.errors import ConfigError
from localchain.index import citation_sources, format_docs_with_citations

I_DONT_KNOW = "I don't know."
"""The answer when no relevant passage is retrieved."""

QA_PROMPT = ChatPromptTemplate.from_messages(
    [
        (
            "system",
            "You answer questions using only the numbered passages you are given. After each "
            "claim, cite the passage it comes from as [1], [2], ... If the passages do not "
            'contain the answer, reply exactly "I don\'t know."',
        ),
        ("human", "Passages:\n{context}\n\nQuestion: {question}"),
    ]
)
"""The default answering prompt; variables ``context`` and ``question``."""

_CITATION = re.compile(r"\[(\d+)\]")

Scored = tuple[Document, float | None]


class RetrievalQAChain(LCELChain):
    """Retrieves passages for a question and answers from them with citations.

    Example:
        .. code-block:: python

            qa = RetrievalQAChain(model, store, k=4, score_threshold=0.3)
            out = qa.invoke("Where is the Louvre?")
            out["answer"]     # "The Louvre is in Paris [1]."
            out["citations"]  # ["guide.pdf, page 3"]

    Input: the question as a str, or a dict with key ``question`` (or ``input``/``query``).

    Args:
        model: Any LangChain chat model or LLM.
        retriever: A ``VectorStore`` (searched with relevance scores when a threshold is set),
            a ``VectorStoreRetriever`` (its store is used the same way) or any ``BaseRetriever``.
        k: How many passages to retrieve from a vector store.
        score_threshold: The lowest relevance score kept (vector stores only); passages below
            it are dropped and, if none is left, the answer is ``I_DONT_KNOW``.
        prompt: A prompt with variables ``context`` (numbered passages) and ``question``.

    Raises:
        ConfigError: A bad argument (at build time), or an empty question (at run time).
        OutputParserException: The model returned an empty answer.
    """

    def __init__(
        self,
        model: BaseLanguageModel,
        retriever: VectorStore | BaseRetriever,
        *,
        k: int = 4,
        score_threshold: float | None = None,
        prompt: BasePromptTemplate | None = None,
    ) -> None:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            msg = f"k must be an integer >= 1, got {k!r}."
            raise ConfigError(msg)
        if score_threshold is not None and (
            isinstance(score_threshold, bool) or not isinstance(score_threshold, int | float)
        ):
            msg = f"score_threshold must be a number or None, got {score_threshold!r}."
            raise ConfigError(msg)
        self.store: VectorStore | None = None
        self.retriever: BaseRetriever | None = None
        if isinstance(retriever, VectorStore):
            self.store = retriever
        elif isinstance(retriever, VectorStoreRetriever) and score_threshold is not None:
            self.store = retriever.vectorstore
            k = retriever.search_kwargs.get("k", k)
        elif isinstance(retriever, BaseRetriever):
            if score_threshold is not None:
                msg = (
                    f"score_threshold needs scores, which a {type(retriever).__name__} does not "
                    "give; pass the VectorStore itself, or drop score_threshold."
                )
                raise ConfigError(msg)
            self.retriever = retriever
        else:
            msg = (
                f"retriever must be a VectorStore or a BaseRetriever, got "
                f"{type(retriever).__name__}."
            )
            raise ConfigError(msg)
        prompt = prompt if prompt is not None else QA_PROMPT
        if set(prompt.input_variables) != {"context", "question"}:
            msg = (
                f"The QA prompt must have variables 'context' and 'question', has "
                f"{prompt.input_variables}."
            )
            raise ConfigError(msg)
        self.k = k
        self.score_threshold = score_threshold
        self._answer = prompt | model | StrOutputParser()
        self.name = "RetrievalQAChain"
        self._runnable = RunnableLambda(self._run, afunc=self._arun, name="retrieval_qa")

    # -- retrieval -----------------------------------------------------------------------

    def _keep(self, found: list[Scored]) -> list[Document]:
        if self.score_threshold is None:
            return [doc for doc, _ in found]
        return [doc for doc, score in found if score is not None and score >= self.score_threshold]

    def retrieve(self, question: str, config: RunnableConfig | None = None) -> list[Document]:
        """The relevant passages for a question, best first (empty when none is relevant)."""
        if self.retriever is not None:
            return self.retriever.invoke(question, config)
        store = self.store
        if self.score_threshold is None:
            return store.similarity_search(question, k=self.k)  # type: ignore[union-attr]
        try:
            found = store.similarity_search_with_relevance_scores(question, k=self.k)  # type: ignore[union-attr]
        except NotImplementedError:  # e.g. InMemoryVectorStore: its scores are cosine already
            found = store.similarity_search_with_score(question, k=self.k)  # type: ignore[union-attr]
        return self._keep(found)

    async def aretrieve(
        self, question: str, config: RunnableConfig | None = None
    ) -> list[Document]:
        """Async ``retrieve``."""
        if self.retriever is not None:
            return await self.retriever.ainvoke(question, config)
        store = self.store
        if self.score_threshold is None:
            return await store.asimilarity_search(question, k=self.k)  # type: ignore[union-attr]
        try:
            found = await store.asimilarity_search_with_relevance_scores(question, k=self.k)  # type: ignore[union-attr]
        except NotImplementedError:
            found = await store.asimilarity_search_with_score(question, k=self.k)  # type: ignore[union-attr]
        return self._keep(found)

    # -- answering -----------------------------------------------------------------------

    @staticmethod
    def _question(inputs: Any) -> str:
        if isinstance(inputs, Mapping):
            key = next((k for k in ("question", "input", "query") if k in inputs), None)
            if key is None:
                msg = f"Pass the question as a str or under 'question'; got keys {sorted(inputs)}."
                raise ConfigError(msg)
            inputs = inputs[key]
        if not isinstance(inputs, str) or not inputs.strip():
            msg = f"The question must be a non-empty string, got {inputs!r:.80}."
            raise ConfigError(msg)
        return inputs.strip()

    @staticmethod
    def _result(question: str, docs: list[Document], answer: str | None) -> dict[str, Any]:
        if answer is None:
            return {
                "question": question,
                "answer": I_DONT_KNOW,
                "sources": [],
                "citations": [],
                "cited": [],
            }
        answer = answer.strip()
        if not answer:
            msg = f"The model returned an empty answer to {question!r:.80}."
            raise OutputParserException(msg, llm_output=answer)
        numbers = sorted({int(n) for n in _CITATION.findall(answer)})
        return {
            "question": question,
            "answer": answer,
            "sources": docs,
            "citations": citation_sources(docs),
            "cited": [n for n in numbers if 1 <= n <= len(docs)],  # drop invented numbers
        }

    def _prompt_inputs(self, question: str, docs: list[Document]) -> dict[str, str]:
        return {"context": format_docs_with_citations(docs), "question": question}

    def _run(self, inputs: Any, config: RunnableConfig) -> dict[str, Any]:
        question = self._question(inputs)
        docs = [d for d in self.retrieve(question, config) if d.page_content.strip()]
        if not docs:
            return self._result(question, docs, None)
        answer = self._answer.invoke(self._prompt_inputs(question, docs), config)
        return self._result(question, docs, answer)

    async def _arun(self, inputs: Any, config: RunnableConfig) -> dict[str, Any]:
        question = self._question(inputs)
        docs = [d for d in await self.aretrieve(question, config) if d.page_content.strip()]
        if not docs:
            return self._result(question, docs, None)
        answer = await self._answer.ainvoke(self._prompt_inputs(question, docs), config)
        return self._result(question, docs, answer)


def create_retrieval_qa(
    model: BaseLanguageModel, retriever: VectorStore | BaseRetriever, **kwargs: Any
) -> RetrievalQAChain:
    """Build a ``RetrievalQAChain`` (same arguments: ``k``, ``score_threshold``, ``prompt``)."""
    return RetrievalQAChain(model, retriever, **kwargs)


__all__ = ["I_DONT_KNOW", "QA_PROMPT", "RetrievalQAChain", "create_retrieval_qa"]
