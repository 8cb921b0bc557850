"""Few-shot prompts: worked examples before the request, all of them or a selection.

``few_shot_prompt`` builds langchain-core's ``FewShotChatMessagePromptTemplate`` (chat: each
example becomes a human/AI message pair) or ``FewShotPromptTemplate`` (one string, for seq2seq
models), choosing examples with the selectors of ``localchain.prompts.selectors``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.example_selectors import BaseExampleSelector
from langchain_core.prompts import (
    BasePromptTemplate,
    ChatPromptTemplate,
    FewShotChatMessagePromptTemplate,
    FewShotPromptTemplate,
    PromptTemplate,
)

from localchain.errors import ConfigError
from localchain.prompts.selectors import LengthExampleSelector, SimilarityExampleSelector
from localchain.prompts.validation import StrictChatPromptTemplate

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

SelectorName = Literal["all", "similarity", "length"]
ExampleTemplate = str | tuple[str, str] | PromptTemplate | ChatPromptTemplate


def _example_prompt(template: ExampleTemplate, kind: str) -> BasePromptTemplate:
    if isinstance(template, BasePromptTemplate):
        if kind == "chat" and not isinstance(template, ChatPromptTemplate):
            msg = "A chat few-shot prompt needs a ChatPromptTemplate or a (human, ai) pair."
            raise ConfigError(msg)
        if kind == "seq2seq" and not isinstance(template, PromptTemplate):
            msg = "A seq2seq few-shot prompt needs a str, a (input, output) pair or PromptTemplate."
            raise ConfigError(msg)
        return template
    if isinstance(template, tuple):
        if len(template) != 2:
            msg = f"An example template pair is (input, output); got {len(template)} items."
            raise ConfigError(msg)
        if kind == "chat":
            return ChatPromptTemplate.from_messages([("human", template[0]), ("ai", template[1])])
        return PromptTemplate.from_template("\n".join(template))
    if kind == "chat":
        msg = (
            f"A chat few-shot prompt needs a (human, ai) template pair, not the string "
            f"{template!r}; for one string per example use kind='seq2seq'."
        )
        raise ConfigError(msg)
    return PromptTemplate.from_template(template)


def _check_examples(examples: Sequence[dict[str, Any]], prompt: BasePromptTemplate) -> None:
    needed = set(prompt.input_variables)
    for index, example in enumerate(examples):
        missing = needed - set(example)
        if missing:
            msg = (
                f"Example {index} lacks {sorted(missing)} that the example template uses "
                f"(it has {sorted(example)}). Add them or change the template."
            )
            raise ConfigError(msg)


def few_shot_prompt(
    examples: Sequence[dict[str, Any]],
    example_template: ExampleTemplate,
    *,
    kind: Literal["chat", "seq2seq"] = "chat",
    selector: SelectorName | BaseExampleSelector = "all",
    k: int | None = None,
    max_length: int | None = None,
    length_function: Callable[[str], int] = len,
    embeddings: Embeddings | None = None,
    input_keys: Sequence[str] | None = None,
    system: str | None = None,
    suffix: str | None = None,
    example_separator: str = "\n\n",
) -> BasePromptTemplate:
    """Build a few-shot prompt.

    Example:
        >>> examples = [{"question": "2+2?", "answer": "4"}, {"question": "3*3?", "answer": "9"}]
        >>> prompt = few_shot_prompt(
        ...     examples, ("{question}", "{answer}"), selector="similarity", k=1,
        ...     suffix="{question}",
        ... )

    Args:
        examples: Worked examples, one mapping of template variables each.
        example_template: How to render one example: a (human, ai) pair of f-strings or a
            ``ChatPromptTemplate`` for chat; a string, an (input, output) pair (joined by a
            newline) or a ``PromptTemplate`` for seq2seq.
        kind: "chat" (``FewShotChatMessagePromptTemplate``) or "seq2seq" (one string,
            ``FewShotPromptTemplate``).
        selector: "all" (every example, or the first ``k``), "similarity" (the ``k`` most
            similar to the input, default 4), "length" (in order while within ``max_length``),
            or any ``BaseExampleSelector``.
        k: How many examples at most.
        max_length: Budget for the input plus the examples, in ``length_function`` units;
            required for "length", optional for "similarity".
        length_function: Measures a text: ``len`` counts characters; pass e.g.
            ``model.get_num_tokens`` to count tokens.
        embeddings: Embeddings for "similarity"; default ``LocalEmbeddings()``.
        input_keys: Input variables the selector looks at; default: all that apply.
        system: Chat: a system message placed first. Seq2seq: a prefix (instruction) string.
        suffix: The request after the examples (the last human message, or the string's end),
            e.g. ``"{question}"``. Without it, chat returns just the example messages, for
            nesting in your own ``ChatPromptTemplate``.
        example_separator: Seq2seq: the text between examples.

    Returns:
        Chat with ``suffix``: a ``StrictChatPromptTemplate`` (system, examples, request);
        chat without: a ``FewShotChatMessagePromptTemplate``; seq2seq: a ``FewShotPromptTemplate``.

    Raises:
        ConfigError: An unknown selector, "length" without ``max_length``, an example that lacks
            a variable of the example template, or a template that does not fit ``kind``.
    """
    if kind not in ("chat", "seq2seq"):
        msg = f"Unknown prompt kind {kind!r}; use 'chat' or 'seq2seq'."
        raise ConfigError(msg)
    example_prompt = _example_prompt(example_template, kind)
    examples = [dict(example) for example in examples]
    _check_examples(examples, example_prompt)
    keys = list(input_keys) if input_keys is not None else None

    chosen: list[dict[str, Any]] | None = None
    example_selector: BaseExampleSelector | None = None
    if isinstance(selector, BaseExampleSelector):
        example_selector = selector
    elif selector == "all":
        chosen = examples[:k] if k else examples
    elif selector == "similarity":
        example_selector = SimilarityExampleSelector(
            examples=examples,
            embeddings=embeddings,
            k=k or 4,
            input_keys=keys,
            max_length=max_length,
            length_function=length_function,
            example_prompt=example_prompt,
        )
    elif selector == "length":
        if max_length is None:
            msg = "selector='length' needs max_length (a budget in length_function units)."
            raise ConfigError(msg)
        example_selector = LengthExampleSelector(
            examples=examples,
            max_length=max_length,
            example_prompt=example_prompt,
            length_function=length_function,
            input_keys=keys,
            k=k,
        )
    else:
        msg = f"Unknown example selector {selector!r}; use 'all', 'similarity' or 'length'."
        raise ConfigError(msg)

    suffix_vars = PromptTemplate.from_template(suffix).input_variables if suffix else []
    selector_vars = sorted(set(keys or suffix_vars)) if example_selector else []

    if kind == "seq2seq":
        return FewShotPromptTemplate(
            examples=chosen,
            example_selector=example_selector,
            example_prompt=example_prompt,
            prefix=system or "",
            suffix=suffix or "",
            input_variables=sorted(set(suffix_vars) | set(selector_vars)),
            example_separator=example_separator,
        )
    few_shot = FewShotChatMessagePromptTemplate(
        examples=chosen,
        example_selector=example_selector,
        example_prompt=example_prompt,
        input_variables=selector_vars,
    )
    if suffix is None:
        return few_shot
    messages: list[Any] = [("system", system)] if system else []
    messages += [few_shot, ("human", suffix)]
    return StrictChatPromptTemplate.from_messages(messages)
