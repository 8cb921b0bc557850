"""FLAN-style instruction templates for common tasks, loaded from ``prompts/data/*.yaml``.

Each task file holds a chat variant (a system and a human message, for instruction-tuned decoder
models) and a seq2seq variant (one instruction string in the FLAN style, for T5-like models), plus
chain-of-thought forms of both. ``get_prompt`` picks the variant from the model's kind and returns
a strict langchain-core template (see ``localchain.prompts.validation``).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from langchain_core.prompts import PromptTemplate
from pydantic import BaseModel, ConfigDict, ValidationError

from localchain.errors import ConfigError
from localchain.prompts.validation import (
    StrictChatPromptTemplate,
    StrictPromptTemplate,
    check_variables,
)

if TYPE_CHECKING:
    from langchain_core.language_models import BaseLanguageModel

DATA_DIR = Path(__file__).parent / "data"
"""Directory of the task template files, one ``<task>.yaml`` each."""

PromptKind = Literal["chat", "seq2seq"]


class ChatTemplateSpec(BaseModel):
    """The two messages of a chat variant."""

    model_config = ConfigDict(extra="forbid")
    system: str
    """Instructions that frame the task (the system message)."""
    human: str
    """The request itself, with ``{variable}`` placeholders (the human message)."""


class CotTemplateSpec(BaseModel):
    """Chain-of-thought forms of a task: the model reasons step by step before answering."""

    model_config = ConfigDict(extra="forbid")
    chat: ChatTemplateSpec
    """Chat variant, ending with a "Let's think step by step" instruction."""
    seq2seq: str
    """FLAN's CoT form, e.g. "Answer the following question by reasoning step-by-step."."""


class TaskTemplate(BaseModel):
    """One task's templates, as stored in ``prompts/data/<name>.yaml``."""

    model_config = ConfigDict(extra="forbid")
    name: str
    """The task name passed to ``get_prompt``, e.g. "qa"."""
    description: str
    """One line saying what the task does."""
    aliases: list[str] = []
    """Other names accepted by ``get_prompt`` (e.g. "summarise" for "summarize")."""
    variables: list[str]
    """The input variables every variant of the task uses."""
    chat: ChatTemplateSpec
    """Chat variant."""
    seq2seq: str
    """Seq2seq variant: one FLAN-style instruction string."""
    cot: CotTemplateSpec
    """Chain-of-thought variants."""

    def template_text(self, kind: PromptKind, *, cot: bool = False) -> str | ChatTemplateSpec:
        """The raw template of one variant: a string (seq2seq) or the chat messages."""
        source: TaskTemplate | CotTemplateSpec = self.cot if cot else self
        return source.chat if kind == "chat" else source.seq2seq


def _template_variables(text: str) -> set[str]:
    return set(PromptTemplate.from_template(text).input_variables)


def load_task_file(path: str | Path) -> TaskTemplate:
    """Load and check one task template file.

    Args:
        path: A YAML file in the ``TaskTemplate`` shape.

    Returns:
        The parsed task.

    Raises:
        ConfigError: The file does not parse, lacks a field, or a variant's placeholders differ
            from the declared ``variables``.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        task = TaskTemplate.model_validate(data)
    except (yaml.YAMLError, ValidationError, UnicodeDecodeError, OSError) as err:
        msg = f"Prompt template file {str(path)!r} is invalid: {err}. Fix the file."
        raise ConfigError(msg) from err
    for kind in ("chat", "seq2seq"):
        for cot in (False, True):
            raw = task.template_text(kind, cot=cot)
            texts = [raw.system, raw.human] if isinstance(raw, ChatTemplateSpec) else [raw]
            found = set().union(*(_template_variables(t) for t in texts))
            if found != set(task.variables):
                where = f"{kind}{' cot' if cot else ''} variant"
                msg = (
                    f"Prompt template file {str(path)!r}: the {where} uses variables "
                    f"{sorted(found)}, but the file declares {sorted(task.variables)}. "
                    f"Make them match."
                )
                raise ConfigError(msg)
    return task


@functools.cache
def load_tasks() -> dict[str, TaskTemplate]:
    """Load every task in ``DATA_DIR`` (cached), keyed by task name."""
    tasks: dict[str, TaskTemplate] = {}
    for path in sorted(DATA_DIR.glob("*.yaml")):
        task = load_task_file(path)
        tasks[task.name] = task
    return tasks


def list_tasks() -> list[str]:
    """The names of the built-in tasks, sorted."""
    return sorted(load_tasks())


def find_task(name: str) -> TaskTemplate:
    """Look a task up by name or alias (case-insensitive).

    Raises:
        ConfigError: No such task; the message suggests the closest name.
    """
    tasks = load_tasks()
    wanted = name.strip().lower()
    for task in tasks.values():
        if wanted == task.name or wanted in task.aliases:
            return task
    names = [n for t in tasks.values() for n in (t.name, *t.aliases)]
    close = difflib.get_close_matches(wanted, names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    msg = f"Unknown prompt task {name!r}.{hint} Known tasks: {', '.join(sorted(tasks))}."
    raise ConfigError(msg)


def kind_for_model(model: BaseLanguageModel | None) -> PromptKind:
    """The prompt kind that suits a model: "seq2seq" for encoder-decoder models, else "chat".

    localchain's ``ChatLocal`` and ``LocalLLM`` report their architecture through their engine
    (this loads the model if it is not loaded yet); any other LangChain model gets "chat".
    """
    get_engine = getattr(model, "_get_engine", None)
    if model is None or not callable(get_engine):
        return "chat"
    return "seq2seq" if getattr(get_engine(), "kind", None) == "seq2seq" else "chat"


def format_options(options: Sequence[Any]) -> str:
    """Render choices as FLAN's option list: one ``- option`` line each."""
    return "\n".join(f"- {option}" for option in options)


def get_prompt(
    task: str,
    *,
    kind: PromptKind | None = None,
    model: BaseLanguageModel | None = None,
    cot: bool = False,
    variables: Sequence[str] | None = None,
    values: Mapping[str, Any] | None = None,
    allow_extra: bool = False,
) -> StrictChatPromptTemplate | StrictPromptTemplate:
    """Build the instruction prompt for a task.

    Example:
        >>> prompt = get_prompt("qa", kind="seq2seq", variables=["context", "question"])
        >>> prompt.format(context="Paris is in France.", question="Where is Paris?")

    Args:
        task: A task from ``list_tasks()`` ("summarize", "qa", "classify", "extract",
            "translate", "rewrite") or an alias such as "summarise".
        kind: "chat" (system and human messages) or "seq2seq" (one FLAN instruction string).
            Default: chosen from ``model`` (see ``kind_for_model``), else "chat".
        model: The model the prompt is for; only used to choose ``kind``.
        cot: Use the chain-of-thought variant ("Let's think step by step").
        variables: The variables the caller will pass at invoke time. When given, they are
            checked now against the template's variables (less those bound by ``values``).
        values: Variables bound now (as partials), e.g. ``{"options": ["positive",
            "negative"]}``; a list or tuple is rendered with ``format_options``.
        allow_extra: Let ``invoke`` ignore unknown input keys instead of raising ``ConfigError``.

    Returns:
        A ``StrictChatPromptTemplate`` (chat) or ``StrictPromptTemplate`` (seq2seq): a
        langchain-core template whose ``invoke``/``format`` raise ``ConfigError`` for missing or
        unknown variables.

    Raises:
        ConfigError: Unknown task or kind, ``values`` names a variable the task lacks, or
            ``variables`` misses a required variable or names an unknown one.
    """
    spec = find_task(task)
    if kind is None:
        kind = kind_for_model(model)
    if kind not in ("chat", "seq2seq"):
        msg = f"Unknown prompt kind {kind!r}; use 'chat' or 'seq2seq'."
        raise ConfigError(msg)
    where = f"prompt {spec.name!r} ({kind}{', cot' if cot else ''})"
    bound = dict(values or {})
    unknown_values = set(bound) - set(spec.variables)
    if unknown_values:
        msg = (
            f"values names variables {sorted(unknown_values)} that the {where} does not have; "
            f"its variables: {spec.variables}."
        )
        raise ConfigError(msg)
    partials = {
        key: format_options(val) if isinstance(val, list | tuple) else val
        for key, val in bound.items()
    }
    raw = spec.template_text(kind, cot=cot)
    prompt: StrictChatPromptTemplate | StrictPromptTemplate
    if isinstance(raw, ChatTemplateSpec):
        prompt = StrictChatPromptTemplate.from_messages(
            [("system", raw.system), ("human", raw.human)]
        )
    else:
        prompt = StrictPromptTemplate.from_template(raw)
    prompt.allow_extra = allow_extra
    if partials:
        prompt = prompt.partial(**partials)
    if variables is not None:
        required = [v for v in spec.variables if v not in partials]
        check_variables(required, variables, optional=list(partials), where=where)
    return prompt
