"""TripleExtractionChain: (subject, relation, object) triples from text, facts first.

Two constrained steps on any LangChain chat model: the text becomes a short list of factual
sentences (``Facts``), then the facts become triples (``Triples``). Both go through the model's
``with_structured_output``; on ``ChatLocal`` that is grammar-constrained decoding, so the output
always parses, and the schemas carry length caps so small models stop. Entity names are then
normalised (whitespace, leading articles, outer punctuation), merged case-insensitively and by
alias (a name that is the first or last word of exactly one longer name), and relations become
``snake_case``; duplicates are dropped.

Example:
    .. code-block:: python

        from localchain.chains.triples import TripleExtractionChain
        from localchain.models import ChatLocal

        chain = TripleExtractionChain.from_model(ChatLocal(max_new_tokens=200))
        chain.invoke({"text": "Marie Curie was born in Warsaw. She won the Nobel Prize."})
        # [Triple(subject='Marie Curie', relation='born_in', object='Warsaw'), ...]

Measure it on a gold set with ``localchain eval --task triples``
(:func:`localchain.eval.triples.evaluate_triples`); :func:`score_triples` scores one text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Generator, Iterable, Sequence
from typing import Annotated, Any

from langchain_core.language_models import BaseLanguageModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig, RunnableSerializable
from langchain_core.runnables.config import patch_config
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from localchain.chains.task_adapters import AUTO, ChainModel, pick_task_adapter
from localchain.errors import ConfigError

_ARTICLES = ("the ", "a ", "an ")
_RELATION_JUNK = re.compile(r"[^0-9a-z]+")
_OUTER_PUNCT = "\"'`.,;:!?()[]{}<> \t\n"

Entity = Annotated[str, StringConstraints(min_length=1, max_length=60)]
Relation = Annotated[str, StringConstraints(min_length=1, max_length=40)]
FactText = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class Triple(BaseModel):
    """One (subject, relation, object) fact, e.g. ("Marie Curie", "born_in", "Warsaw")."""

    model_config = ConfigDict(frozen=True)

    subject: Entity = Field(description="The entity the fact is about, e.g. 'Marie Curie'.")
    relation: Relation = Field(description="A short verb phrase, e.g. 'born in'.")
    object: Entity = Field(description="The other entity or value, e.g. 'Warsaw'.")


class Facts(BaseModel):
    """Short factual sentences taken from a text (the first extraction step)."""

    facts: list[FactText] = Field(
        default_factory=list, max_length=6, description="Short, simple factual sentences."
    )


class Triples(BaseModel):
    """Triples taken from facts (the second extraction step)."""

    triples: list[Triple] = Field(
        default_factory=list, max_length=8, description="One triple per fact."
    )


# ------------------------------------------------------------------------------ normalisation


def normalize_entity(name: str) -> str:
    """Clean an entity name for display: NFKC, one space, outer punctuation and articles off.

    Example:
        >>> normalize_entity("  the  Eiffel   Tower. ")
        'Eiffel Tower'
    """
    text = unicodedata.normalize("NFKC", name)
    text = " ".join(text.split()).strip(_OUTER_PUNCT)
    if text.endswith(("'s", "\u2019s")) and len(text) > 2:
        text = text[:-2]
    lowered = text.casefold()
    for article in _ARTICLES:
        if lowered.startswith(article) and len(text) > len(article):
            text = text[len(article) :]
            break
    return text.strip(_OUTER_PUNCT)


def entity_key(name: str) -> str:
    """The key names are matched and merged on: the normalised name, case-folded."""
    return normalize_entity(name).casefold()


def normalize_relation(relation: str) -> str:
    """A relation in ``snake_case``: ``"Was Born In"`` becomes ``"was_born_in"``."""
    text = unicodedata.normalize("NFKC", relation).casefold()
    return _RELATION_JUNK.sub("_", text).strip("_")


def normalize_triples(triples: Iterable[Triple]) -> list[Triple]:
    """Normalise names and relations, merge aliases and duplicates, drop empty or self facts.

    Names that differ only in case, spacing, articles or a possessive are one entity, shown
    as first seen; a one-word name that is the first or last word of exactly one longer name
    ("Curie" next to "Marie Curie") is taken as an alias of it.

    Args:
        triples: Raw triples, e.g. from a model.

    Returns:
        Clean triples in first-seen order, without duplicates.
    """
    cleaned: list[tuple[str, str, str]] = []
    display: dict[str, str] = {}
    for triple in triples:
        subject, obj = normalize_entity(triple.subject), normalize_entity(triple.object)
        relation = normalize_relation(triple.relation)
        if not subject or not obj or not relation:
            continue
        for name in (subject, obj):
            display.setdefault(name.casefold(), name)
        cleaned.append((subject.casefold(), relation, obj.casefold()))
    aliases = _alias_map(display)
    seen: set[tuple[str, str, str]] = set()
    result = []
    for subject, relation, obj in cleaned:
        key = (aliases.get(subject, subject), relation, aliases.get(obj, obj))
        if key[0] == key[2] or key in seen:
            continue
        seen.add(key)
        result.append(Triple(subject=display[key[0]], relation=relation, object=display[key[2]]))
    return result


def _alias_map(display: dict[str, str]) -> dict[str, str]:
    """Map one-word keys to the single longer key they start or end (e.g. curie -> marie curie)."""
    aliases: dict[str, str] = {}
    for key in display:
        if " " in key:
            continue
        owners = [
            other
            for other in display
            if " " in other and key in (other.split()[0], other.split()[-1])
        ]
        if len(owners) == 1:
            aliases[key] = owners[0]
    return aliases


# ---------------------------------------------------------------------------------- the chain

TRIPLES_ADAPTER = "triples-smollm2"
"""The shipped task adapter the chain uses on the embedded model (``adapter="auto"``)."""

FACTS_SYSTEM = (
    "You extract facts from a text. Write each fact as one short, complete sentence with a "
    "subject, a verb and an object. Use full names instead of pronouns. Do not repeat a fact."
)
TRIPLES_SYSTEM = (
    "You turn facts into knowledge-graph triples. For each fact give the subject (a name), "
    "the relation (a short verb phrase such as 'born in' or 'works for') and the object."
)
# One worked example per step: small models copy its shape far better than they follow rules.
_EXAMPLE_TEXT = "Ada Lovelace was born in London. She worked with Charles Babbage."
_EXAMPLE_FACTS = Facts(
    facts=["Ada Lovelace was born in London.", "Ada Lovelace worked with Charles Babbage."]
)
_EXAMPLE_TRIPLES = Triples(
    triples=[
        Triple(subject="Ada Lovelace", relation="born in", object="London"),
        Triple(subject="Ada Lovelace", relation="worked with", object="Charles Babbage"),
    ]
)


def _facts_messages(text: str, *, few_shot: bool = True) -> list[BaseMessage]:
    example: list[BaseMessage] = [
        HumanMessage(f"Text: {_EXAMPLE_TEXT}"),
        AIMessage(_EXAMPLE_FACTS.model_dump_json()),
    ]
    return [
        SystemMessage(FACTS_SYSTEM),
        *(example if few_shot else []),
        HumanMessage(f"Text: {text.strip()}"),
    ]


def _triples_messages(facts: list[str], *, few_shot: bool = True) -> list[BaseMessage]:
    def listing(items: list[str]) -> str:
        return "Facts:\n" + "\n".join(f"- {fact}" for fact in items)

    example: list[BaseMessage] = [
        HumanMessage(listing(_EXAMPLE_FACTS.facts)),
        AIMessage(_EXAMPLE_TRIPLES.model_dump_json()),
    ]
    return [
        SystemMessage(TRIPLES_SYSTEM),
        *(example if few_shot else []),
        HumanMessage(listing(facts)),
    ]


def _unique_facts(extracted: Facts | dict[str, Any]) -> list[str]:
    """The non-empty facts, each once (small models repeat themselves to fill the list)."""
    facts = Facts.model_validate(extracted).facts
    unique: dict[str, str] = {}
    for fact in facts:
        if fact.strip():
            unique.setdefault(" ".join(fact.split()).casefold(), fact.strip())
    return list(unique.values())


class TripleExtractionChain(RunnableSerializable[dict[str, Any] | str, list[Triple]]):
    """Extract normalised (subject, relation, object) triples from text with any chat model.

    Input is ``{"text": str}`` (or the text as a plain string); output a list of
    :class:`Triple`. Build it with :meth:`from_model`.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model: BaseLanguageModel
    """Any LangChain chat model with ``with_structured_output``."""
    facts_first: bool | None = None
    """Extract facts before triples (two calls); False goes straight to triples (one call).
    None: two calls on a plain model, one with the task adapter (trained on the direct step)."""
    few_shot: bool | None = None
    """Show the worked example in each prompt; None: yes, unless the task adapter is used."""
    adapter: str | None = AUTO
    """Task adapter: "auto" uses the shipped ``triples-smollm2`` on the embedded model (see
    :mod:`localchain.chains.task_adapters`), None never, or an adapter name or directory."""
    normalize: bool = True
    """Normalise and merge names and relations (see :func:`normalize_triples`)."""
    max_chars: int = Field(4000, ge=1)
    """Longest text accepted; longer inputs raise ConfigError (split them first)."""

    @classmethod
    def from_model(
        cls,
        model: BaseLanguageModel,
        *,
        facts_first: bool | None = None,
        normalize: bool = True,
        max_chars: int = 4000,
        adapter: str | None = AUTO,
        few_shot: bool | None = None,
    ) -> TripleExtractionChain:
        """Build the chain on any LangChain chat model.

        Args:
            model: ``ChatLocal`` (grammar-constrained), ``FakeChatModel`` or any chat model
                supporting ``with_structured_output``.
            facts_first: Extract short facts first, then triples from them (None: yes on a
                plain model, no with the task adapter, which was trained on the direct step).
            normalize: Normalise and merge names and relations.
            max_chars: Longest text accepted.
            adapter: "auto" (the shipped task adapter where it fits the model), None, or an
                adapter name or directory.
            few_shot: Show the worked example (None: only without a task adapter).
        """
        if not hasattr(model, "with_structured_output"):
            msg = (
                "TripleExtractionChain needs a chat model with with_structured_output, "
                f"got {type(model).__name__}."
            )
            raise ConfigError(msg)
        return cls(
            model=model,
            facts_first=facts_first,
            normalize=normalize,
            max_chars=max_chars,
            adapter=adapter,
            few_shot=few_shot,
        )

    def _text(self, inputs: dict[str, Any] | str) -> str:
        text = inputs if isinstance(inputs, str) else None
        if isinstance(inputs, dict):
            text = inputs.get("text")
        if not isinstance(text, str):
            msg = f"TripleExtractionChain expects {{'text': str}} or a str, got {inputs!r}."
            raise ConfigError(msg)
        if len(text) > self.max_chars:
            msg = (
                f"The text has {len(text)} characters, more than max_chars={self.max_chars}. "
                "Split it (e.g. by paragraph) and extract from each part."
            )
            raise ConfigError(msg)
        return text

    def _finish(self, triples: Triples) -> list[Triple]:
        """Normalise and merge the extracted triples (unless ``normalize`` is off)."""
        found = list(triples.triples)
        return normalize_triples(found) if self.normalize else found

    def chain_model(self) -> ChainModel:
        """The model the chain calls and the task adapter it uses (see ``adapter``)."""
        return pick_task_adapter(self.model, self.adapter, TRIPLES_ADAPTER)

    def _steps(
        self, text: str, adapter: str | None
    ) -> Generator[tuple[type[BaseModel], list[BaseMessage]], Any, list[Triple]]:
        """Facts, then triples: yields each (schema, messages) call, receives its output."""
        if not text.strip():
            return []
        plain = adapter is None
        few_shot = plain if self.few_shot is None else self.few_shot
        facts = [text.strip()]
        if plain if self.facts_first is None else self.facts_first:
            facts = _unique_facts((yield Facts, _facts_messages(text, few_shot=few_shot)))
            if not facts:
                return []
        triples = yield Triples, _triples_messages(facts, few_shot=few_shot)
        return self._finish(Triples.model_validate(triples))

    def _run(self, inputs: dict[str, Any] | str, config: RunnableConfig) -> list[Triple]:
        chosen = self.chain_model()
        steps = self._steps(self._text(inputs), chosen.adapter)
        try:
            schema, messages = next(steps)
            while True:
                structured = chosen.model.with_structured_output(schema)  # type: ignore[attr-defined]
                schema, messages = steps.send(structured.invoke(messages, config))
        except StopIteration as done:
            return done.value

    async def _arun(self, inputs: dict[str, Any] | str, config: RunnableConfig) -> list[Triple]:
        chosen = self.chain_model()
        steps = self._steps(self._text(inputs), chosen.adapter)
        try:
            schema, messages = next(steps)
            while True:
                structured = chosen.model.with_structured_output(schema)  # type: ignore[attr-defined]
                schema, messages = steps.send(await structured.ainvoke(messages, config))
        except StopIteration as done:
            return done.value

    def invoke(
        self, input: dict[str, Any] | str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[Triple]:
        """Extract triples from ``{"text": ...}``; an empty text gives ``[]`` without a call.

        Raises:
            ConfigError: The input is not a text, or is longer than ``max_chars``.
            OutputParserException: A model without constrained decoding replied off-schema.
        """
        return self._call_with_config(
            lambda inputs, run_manager, config: self._run(
                inputs, patch_config(config, callbacks=run_manager.get_child())
            ),
            input,
            config,
            **kwargs,
        )

    async def ainvoke(
        self, input: dict[str, Any] | str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[Triple]:
        """Async :meth:`invoke`."""

        async def run(inputs: Any, run_manager: Any, config: RunnableConfig) -> list[Triple]:
            return await self._arun(inputs, patch_config(config, callbacks=run_manager.get_child()))

        return await self._acall_with_config(run, input, config, **kwargs)


# ------------------------------------------------------------------------------------ scoring


def _match_key(triple: Triple | Sequence[str], *, relation: bool) -> tuple[str, ...]:
    subject, rel, obj = (
        (triple.subject, triple.relation, triple.object) if isinstance(triple, Triple) else triple
    )
    ends = (entity_key(subject), entity_key(obj))
    return (ends[0], normalize_relation(rel), ends[1]) if relation else ends


def score_triples(
    predicted: Iterable[Triple | Sequence[str]],
    gold: Iterable[Triple | Sequence[str]],
    *,
    relation: bool = True,
) -> dict[str, float]:
    """Precision, recall and F1 of predicted triples against gold ones, on normalised keys.

    Args:
        predicted: Extracted triples.
        gold: Reference triples (``Triple`` or ``(subject, relation, object)``).
        relation: Require the snake_case relation to match too; False matches only the
            (subject, object) pair, a looser score for paraphrased relations.

    Returns:
        ``{"tp", "predicted", "gold", "precision", "recall", "f1"}``.
    """
    found = {_match_key(t, relation=relation) for t in predicted}
    wanted = {_match_key(t, relation=relation) for t in gold}
    tp = len(found & wanted)
    precision = tp / len(found) if found else 0.0
    recall = tp / len(wanted) if wanted else 0.0
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    return {"tp": tp, "predicted": len(found), "gold": len(wanted),
            "precision": precision, "recall": recall, "f1": f1}  # fmt: skip


__all__ = [
    "Facts",
    "Triple",
    "TripleExtractionChain",
    "Triples",
    "entity_key",
    "normalize_entity",
    "normalize_relation",
    "normalize_triples",
    "score_triples",
]
