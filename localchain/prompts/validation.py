"""Prompt templates that check their variables: at build time, and again at format time.

langchain-core finds a missing variable only when the prompt is formatted (a ``KeyError``) and
silently ignores unknown ones. ``validated_prompt`` compares a template's variables with the ones
the caller declares it will provide and raises ``ConfigError`` on any mismatch; the prompts it
returns (``StrictPromptTemplate``, ``StrictChatPromptTemplate``) are ordinary langchain-core
templates whose ``invoke``/``format`` also raise ``ConfigError`` for missing or unknown inputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from langchain_core.prompt_values import ChatPromptValue
from langchain_core.prompts import BasePromptTemplate, ChatPromptTemplate, PromptTemplate

from localchain.errors import ConfigError


def _names(values: Iterable[str]) -> str:
    return ", ".join(repr(v) for v in sorted(values)) or "none"


def check_variables(
    required: Iterable[str],
    declared: Iterable[str],
    *,
    optional: Iterable[str] = (),
    where: str = "template",
) -> None:
    """Raise ``ConfigError`` unless ``declared`` covers ``required`` and stays within the template.

    Args:
        required: Variables the template needs.
        declared: Variables the caller says it will provide.
        optional: Variables the template accepts but does not need (partials, placeholders).
        where: Names the template in the message, e.g. "prompt 'qa' (chat)".

    Raises:
        ConfigError: A required variable is not declared, or a declared one is unknown.
    """
    required_set, declared_set = set(required), set(declared)
    known = required_set | set(optional)
    missing = required_set - declared_set
    unknown = declared_set - known
    if missing:
        msg = (
            f"The {where} needs variables {_names(missing)} that are not declared "
            f"(declared: {_names(declared_set)}). Declare and pass them, or bind them with "
            f"`.partial(...)`."
        )
        raise ConfigError(msg)
    if unknown:
        msg = (
            f"The {where} has no variables {_names(unknown)} (its variables: {_names(known)}). "
            f"Remove them, or add '{{name}}' placeholders for them to the template."
        )
        raise ConfigError(msg)


class _StrictVariablesMixin:
    """Checks the inputs of a format call: every required variable, no unknown ones.

    The subclass declares the pydantic field ``allow_extra``.
    """

    def _check_inputs(self, inputs: Mapping[str, Any]) -> None:
        prompt: BasePromptTemplate = self  # type: ignore[assignment]
        partials = set(prompt.partial_variables)
        missing = set(prompt.input_variables) - set(inputs) - partials
        if missing:
            msg = (
                f"{type(self).__name__} is missing variables {_names(missing)}; "
                f"received {_names(inputs)}. Pass them in the input mapping."
            )
            raise ConfigError(msg)
        if getattr(self, "allow_extra", False):
            return
        known = set(prompt.input_variables) | set(prompt.optional_variables) | partials
        unknown = set(inputs) - known
        if unknown:
            msg = (
                f"{type(self).__name__} got unknown variables {_names(unknown)}; "
                f"it takes {_names(known)}. Remove them (or build the prompt with "
                f"allow_extra=True to ignore extra keys)."
            )
            raise ConfigError(msg)

    def _validate_input(self, inner_input: Any) -> dict[str, Any]:
        prompt: BasePromptTemplate = self  # type: ignore[assignment]
        if not isinstance(inner_input, dict):
            if len(prompt.input_variables) != 1:
                msg = (
                    f"{type(self).__name__} takes a mapping of {_names(prompt.input_variables)}; "
                    f"got {type(inner_input).__name__}."
                )
                raise ConfigError(msg)
            inner_input = {prompt.input_variables[0]: inner_input}
        self._check_inputs(inner_input)
        return inner_input


class StrictPromptTemplate(_StrictVariablesMixin, PromptTemplate):
    """A ``PromptTemplate`` whose ``format``/``invoke`` raise ``ConfigError`` on bad variables."""

    allow_extra: bool = False
    """Accept (and ignore) unknown input keys instead of raising ``ConfigError``."""

    def format(self, **kwargs: Any) -> str:
        """Format the template, after checking the variables.

        Raises:
            ConfigError: A variable is missing, or an unknown one was passed.
        """
        self._check_inputs(kwargs)
        known = set(self.input_variables) | set(self.partial_variables)
        return super().format(**{k: v for k, v in kwargs.items() if k in known})


class StrictChatPromptTemplate(_StrictVariablesMixin, ChatPromptTemplate):
    """A ``ChatPromptTemplate`` whose ``format``/``invoke`` raise ``ConfigError`` on bad variables.

    ``format_messages`` stays lenient about extra keys, because a parent chat template passes all
    of its own variables to the templates nested in it.
    """

    allow_extra: bool = False
    """Accept (and ignore) unknown input keys instead of raising ``ConfigError``."""

    def format_prompt(self, **kwargs: Any) -> ChatPromptValue:
        """Format the messages, after checking the variables.

        Raises:
            ConfigError: A variable is missing, or an unknown one was passed.
        """
        self._check_inputs(kwargs)
        return super().format_prompt(**kwargs)

    async def aformat_prompt(self, **kwargs: Any) -> ChatPromptValue:
        """Async ``format_prompt``.

        Raises:
            ConfigError: A variable is missing, or an unknown one was passed.
        """
        self._check_inputs(kwargs)
        return await super().aformat_prompt(**kwargs)


def validated_prompt(
    template: str | PromptTemplate | ChatPromptTemplate,
    *,
    input_variables: Iterable[str],
    allow_extra: bool = False,
) -> StrictPromptTemplate | StrictChatPromptTemplate:
    """Build a prompt whose variables are exactly the ones the caller will provide.

    Args:
        template: An f-string template (``"Answer: {question}"``), or a langchain-core
            ``PromptTemplate`` or ``ChatPromptTemplate``.
        input_variables: The variables the caller will pass when formatting. Partial
            variables of ``template`` may be listed too (they can be overridden).
        allow_extra: Let ``invoke``/``format`` ignore unknown keys instead of raising.

    Returns:
        A strict copy of the template: a ``StrictPromptTemplate`` for strings and
        ``PromptTemplate``, a ``StrictChatPromptTemplate`` for chat templates.

    Raises:
        ConfigError: ``template`` needs a variable that is not declared, or a declared variable
            does not occur in it, or ``template`` is of an unsupported type.
    """
    declared = list(input_variables)
    if isinstance(template, str):
        template = PromptTemplate.from_template(template)
    if isinstance(template, ChatPromptTemplate):
        strict: StrictPromptTemplate | StrictChatPromptTemplate = StrictChatPromptTemplate(
            **{**template.__dict__, "allow_extra": allow_extra}
        )
    elif isinstance(template, PromptTemplate):
        strict = StrictPromptTemplate(**{**template.__dict__, "allow_extra": allow_extra})
    else:
        msg = (
            f"validated_prompt takes a str, PromptTemplate or ChatPromptTemplate, "
            f"not {type(template).__name__}."
        )
        raise ConfigError(msg)
    check_variables(
        strict.input_variables,
        declared,
        optional=[*strict.optional_variables, *strict.partial_variables],
    )
    return strict
