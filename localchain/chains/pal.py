"""PALChain: program-aided answers. The model writes ``def solution():``; the sandbox runs it.

The chain prompts any LangChain chat model (or a seq2seq ``LocalLLM``) with few-shot examples
for one task (math word problems, date questions, colored objects; ``data/pal.yaml``), pulls
the program out of the reply (a code fence, bare code, or a bare expression that is wrapped as
``def solution(): return <expr>``), and runs it with :func:`localchain.sandbox.run_program`.
A program that does not parse, is refused, fails or returns no usable answer gets a repair
attempt with the error fed back; every attempt is recorded on the :class:`PALResult`.

Example:
    .. code-block:: python

        from localchain.chains.pal import PALChain
        from localchain.models import ChatLocal

        pal = PALChain.from_model(ChatLocal(max_new_tokens=160), task="math")
        result = pal.invoke({"question": "Tom has 3 apples and buys 5 more. How many now?"})
        result.answer, result.ok, result.code

The run loop is written once, as a generator of steps (:class:`ModelCall`, :class:`ProgramRun`)
that ``invoke`` drives with blocking calls and ``ainvoke`` with awaited ones. Measure accuracy
with ``localchain eval --task pal`` (:func:`localchain.eval.pal.evaluate_pal`).
"""

from __future__ import annotations

import ast
import asyncio
import math
import re
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from langchain_core.language_models import BaseLanguageModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig, RunnableSerializable
from langchain_core.runnables.config import patch_config
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from localchain.chains.task_adapters import AUTO, ChainModel, pick_task_adapter
from localchain.errors import ConfigError, SandboxError
from localchain.sandbox import (
    ALLOWED_MODULES,
    ProgramOutputError,
    ProgramRuntimeError,
    SandboxLimits,
    arun_program,
    run_program,
)

PAL_ADAPTER = "pal-smollm2"
"""The shipped task adapter the chain uses on the embedded model (``adapter="auto"``)."""

PALTask = Literal["math", "date", "colored_objects"]
"""The tasks PALChain has few-shot prompts for."""

Answer = bool | int | float | str | None
"""A PAL answer: plain scalar data, or None when no program succeeded."""

DATA_PATH = Path(__file__).resolve().parent / "data" / "pal.yaml"
"""The few-shot prompts, one entry per task."""

_FENCE = re.compile(r"```[ \t]*(?:python|py|python3)?[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)
_CODE_START = re.compile(r"^(?:import |from \S+ import |def |@)", re.MULTILINE)
_MAX_REPLY_CHARS = 20_000  # longer replies go to the sandbox as they are (it refuses them safely)
_MAX_TRIMS = 60
_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)
_ANSWER_PREFIX = re.compile(r"^(?:answer|expression|python|code)\s*[:=]\s*", re.IGNORECASE)


class PALAttempt(BaseModel):
    """One program the model wrote, and how running it went."""

    model_config = ConfigDict(frozen=True)

    code: str
    """The program as run (after extraction and wrapping)."""
    reply: str = ""
    """The model's raw reply the program was taken from."""
    answer: Answer = None
    """What ``solution()`` returned, when it succeeded."""
    error: str | None = None
    """The sandbox's message when the attempt failed, else None."""
    error_type: str | None = None
    """The error's class name (e.g. "ProgramRefusedError", "ProgramTimeoutError"), else None."""

    @property
    def ok(self) -> bool:
        """Whether this attempt produced an answer."""
        return self.error is None


class PALResult(BaseModel):
    """The outcome of a PAL run: a typed answer, the code behind it, and every attempt."""

    question: str
    """The question asked."""
    answer: Answer = None
    """The program's return value (never an error text); None when every attempt failed."""
    code: str = ""
    """The last program run (the successful one when ``ok``)."""
    attempts: list[PALAttempt] = Field(default_factory=list)
    """Every attempt in order: the first program, then each repair."""
    ok: bool = False
    """Whether an attempt succeeded."""
    votes: int = 0
    """With ``samples`` > 1: how many sampled programs gave ``answer`` (the majority)."""

    @property
    def error(self) -> str | None:
        """The last attempt's error message, or None when the run succeeded."""
        return None if self.ok or not self.attempts else self.attempts[-1].error

    @property
    def error_type(self) -> str | None:
        """The last attempt's error class name, or None when the run succeeded."""
        return None if self.ok or not self.attempts else self.attempts[-1].error_type


@dataclass(frozen=True)
class ModelCall:
    """A step of the run loop: ask the model with this prompt; send back its reply.

    With ``samples`` > 1, ask for that many sampled replies in one batch; send back the list.
    """

    prompt: list[BaseMessage] | str
    samples: int = 1


@dataclass(frozen=True)
class ProgramRuns:
    """A step of the run loop: run each program; send back the list of values or errors."""

    codes: tuple[str, ...]


@dataclass(frozen=True)
class ProgramRun:
    """A step of the run loop: run this program; send back its value or the SandboxError."""

    code: str


# ------------------------------------------------------------------------- prompts and parsing


@lru_cache(maxsize=1)
def load_pal_prompts() -> dict[str, Any]:
    """The few-shot prompt data of ``data/pal.yaml`` (``repair`` text and ``tasks``)."""
    return yaml.safe_load(DATA_PATH.read_text(encoding="utf-8"))


def _task_data(task: str) -> dict[str, Any]:
    tasks = load_pal_prompts()["tasks"]
    if task not in tasks:
        msg = f"Unknown PAL task {task!r}. Known: {', '.join(tasks)}."
        raise ConfigError(msg)
    return tasks[task]


def _fenced(code: str) -> str:
    return f"```python\n{code.strip()}\n```"


def build_messages(task: str, question: str, *, few_shot: bool = True) -> list[BaseMessage]:
    """The chat prompt for one question: instruction, few-shot pairs, then the question.

    Args:
        task: The PAL task (its instruction and worked examples).
        question: The question to answer.
        few_shot: Include the worked examples; the task adapters are trained without them
            (the adapter has learned the shape, and the prompt is 4x shorter).
    """
    data = _task_data(task)
    messages: list[BaseMessage] = [SystemMessage(data["system"].strip())]
    for example in data["examples"] if few_shot else []:
        messages.append(HumanMessage(f"Question: {example['question'].strip()}"))
        messages.append(AIMessage(_fenced(example["code"])))
    messages.append(HumanMessage(f"Question: {question.strip()}"))
    return messages


def build_seq2seq_prompt(task: str, question: str) -> str:
    """The text prompt for seq2seq models, which answer with one Python expression."""
    data = _task_data(task)
    lines = ["Write one Python expression that computes the answer."]
    for example in data.get("seq2seq_examples", []):
        lines += [
            "",
            f"Question: {example['question'].strip()}",
            f"Expression: {example['expression']}",
        ]
    lines += ["", f"Question: {question.strip()}", "Expression:"]
    return "\n".join(lines)


def _trim_to_parse(code: str) -> str | None:
    """Drop trailing lines (prose after the code) until the rest parses; None if nothing does."""
    lines = code.rstrip().splitlines()
    for _ in range(_MAX_TRIMS):
        if not lines:
            break
        candidate = "\n".join(lines).rstrip()
        try:
            ast.parse(candidate)
        except _PARSE_ERRORS:
            lines.pop()
            continue
        return candidate
    return None


def _wrap_statements(text: str) -> str | None:
    """Wrap a bare expression, or statements ending in an expression, as ``solution()``."""
    text = _ANSWER_PREFIX.sub("", text.strip()).strip().strip("`").strip()
    if not text:
        return None
    try:
        tree = ast.parse(text)
    except _PARSE_ERRORS:
        return None
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return None
    lines = text.splitlines()
    last = tree.body[-1]
    head = lines[: last.lineno - 1]
    tail = "\n".join(lines[last.lineno - 1 :])
    body = [*head, f"return {tail}"]
    indented = "\n".join(f"    {line}" if line.strip() else "" for line in body)
    return f"def solution():\n{indented}"


def _add_missing_imports(code: str) -> str:
    """Prepend ``import m`` for allowed modules the program uses by name but never imports."""
    try:
        tree = ast.parse(code)
    except _PARSE_ERRORS:
        return code
    bound: set[str] = set()
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.arg)):
            bound.add(node.name if not isinstance(node, ast.arg) else node.arg)
    missing = sorted(name for name in used - bound if name in ALLOWED_MODULES)
    if not missing:
        return code
    return "\n".join(f"import {name}" for name in missing) + "\n\n" + code


def extract_program(reply: str, entry: str = "solution") -> str:
    r"""Pull the program out of a model reply.

    Tries, in order: a Markdown code fence (the first one defining ``entry``, else the first),
    bare code starting at the first ``import``/``def`` line (trailing prose trimmed), and a bare
    expression or statements ending in one, wrapped as ``def solution():\n    return <expr>``.
    Allowed modules used without an import (``math``, ``datetime``...) get one added. When none
    of this yields a program, the reply is returned stripped, and the sandbox reports why it
    does not run.

    Args:
        reply: The model's text.
        entry: The function the program must define.

    Returns:
        Python source to hand to the sandbox.
    """
    text = reply.strip()
    if len(text) > _MAX_REPLY_CHARS:
        return text
    blocks = [block.strip() for block in _FENCE.findall(text) if block.strip()]
    if blocks:
        defining = [block for block in blocks if f"def {entry}" in block]
        text = (defining or blocks)[0]
    start = _CODE_START.search(text)
    if start is not None and f"def {entry}" in text[start.start() :]:
        trimmed = _trim_to_parse(text[start.start() :])
        if trimmed is not None and f"def {entry}" in trimmed:
            return _add_missing_imports(trimmed)
    if f"def {entry}" not in text and entry == "solution":
        wrapped = _wrap_statements(text) or _wrap_statements(text.splitlines()[0] if text else "")
        if wrapped is not None:
            return _add_missing_imports(wrapped)
    return text


def _reply_text(reply: Any) -> str:
    if isinstance(reply, BaseMessage):
        return reply.text
    return str(reply)


def _check_answer(value: Any) -> Answer:
    """Accept plain scalar answers; raise ProgramOutputError for anything else."""
    if isinstance(value, float) and not math.isfinite(value):
        msg = f"solution() returned {value!r}; return a finite number."
        raise ProgramOutputError(msg)
    if isinstance(value, (bool, int, float, str)):
        return value
    if value is None:
        msg = "solution() returned None; end it with `return <answer>`."
        raise ProgramOutputError(msg)
    kind = type(value).__name__
    msg = f"solution() returned a {kind} ({str(value)[:80]}); return one number, string or bool."
    raise ProgramOutputError(msg)


def _describe(err: SandboxError) -> str:
    if isinstance(err, ProgramRuntimeError) and err.output:
        return f"{err}\nIt printed: {err.output[-300:]}"
    return str(err)


# ------------------------------------------------------------------------------------ the chain


class PALChain(RunnableSerializable[dict[str, Any] | str, PALResult]):
    """Program-aided language model chain: the model writes a program, the sandbox runs it.

    Input is ``{"question": str}`` (or the question as a plain string); output a
    :class:`PALResult`. Build it with :meth:`from_model`.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model: BaseLanguageModel
    """Any LangChain chat model (or a seq2seq text model, with ``prompt_kind="seq2seq"``)."""
    task: PALTask = "math"
    """Which few-shot prompt to use."""
    max_repairs: int = Field(1, ge=0, le=10)
    """Repair attempts after a failed program (each feeds the error back to the model)."""
    limits: SandboxLimits = Field(default_factory=SandboxLimits)
    """Sandbox limits for each program run (seconds, memory, output)."""
    raise_on_failure: bool = False
    """Raise the last attempt's SandboxError instead of returning ``ok=False``."""
    prompt_kind: Literal["auto", "chat", "seq2seq"] = "auto"
    """Prompt style; "auto" asks the model (seq2seq for encoder-decoder ``LocalLLM`` models)."""
    adapter: str | None = AUTO
    """Task adapter: "auto" uses the shipped ``pal-smollm2`` on the embedded model (see
    :mod:`localchain.chains.task_adapters`), None never, or an adapter name or directory."""
    few_shot: bool | None = None
    """Show the worked examples; None: yes, unless the task adapter is used (it was trained
    without them)."""
    samples: int = Field(1, ge=1, le=64)
    """Self-consistency: sample this many programs in one batch, run them all and answer with
    the most common result (the PAL paper's majority vote); 1 is one greedy program."""
    temperature: float = Field(0.7, gt=0, le=2)
    """Sampling temperature of the programs when ``samples`` > 1."""

    @classmethod
    def from_model(
        cls,
        model: BaseLanguageModel,
        *,
        task: PALTask = "math",
        max_repairs: int = 1,
        limits: SandboxLimits | None = None,
        raise_on_failure: bool = False,
        prompt_kind: Literal["auto", "chat", "seq2seq"] = "auto",
        adapter: str | None = AUTO,
        few_shot: bool | None = None,
        samples: int = 1,
        temperature: float = 0.7,
    ) -> PALChain:
        """Build a PAL chain on any LangChain language model.

        Args:
            model: A chat model (``ChatLocal``, ``FakeChatModel``, any ``BaseChatModel``) or a
                text model such as ``LocalLLM``.
            task: "math" (GSM8K-style word problems), "date" or "colored_objects".
            max_repairs: Repair attempts after a failed program (0 for none).
            limits: Sandbox limits; the defaults allow 5 s, 256 MiB and 64 kB of output.
            raise_on_failure: Raise the last SandboxError when every attempt fails.
            prompt_kind: "chat", "seq2seq" (answers with a bare expression), or "auto".
            adapter: "auto" (the shipped task adapter where it fits the model), None, or an
                adapter name or directory.
            few_shot: Show the worked examples (None: only without a task adapter).
            samples: Programs sampled per question for a majority vote (1: one greedy program,
                with ``max_repairs`` repairs; more: no repairs, the vote instead).
            temperature: Sampling temperature when ``samples`` > 1.

        Raises:
            ConfigError: The task is unknown, or a setting is out of range.
        """
        _task_data(task)
        try:
            return cls(
                model=model,
                task=task,
                max_repairs=max_repairs,
                limits=limits or SandboxLimits(),
                raise_on_failure=raise_on_failure,
                prompt_kind=prompt_kind,
                adapter=adapter,
                few_shot=few_shot,
                samples=samples,
                temperature=temperature,
            )
        except ValidationError as err:
            msg = f"Bad PALChain setting: {err.errors()[0]['loc'][0]}: {err.errors()[0]['msg']}."
            raise ConfigError(msg) from err

    # -- helpers -------------------------------------------------------------------------

    def _kind(self) -> str:
        if self.prompt_kind != "auto":
            return self.prompt_kind
        from localchain.prompts import kind_for_model

        return kind_for_model(self.model)

    @staticmethod
    def _question(inputs: dict[str, Any] | str) -> str:
        question = inputs if isinstance(inputs, str) else None
        if isinstance(inputs, dict):
            question = inputs.get("question")
        if not isinstance(question, str) or not question.strip():
            msg = f"PALChain expects {{'question': <non-empty str>}} or a str, got {inputs!r}."
            raise ConfigError(msg)
        return question

    def chain_model(self) -> ChainModel:
        """The model the chain calls and the task adapter it uses (see ``adapter``)."""
        return pick_task_adapter(self.model, self.adapter, PAL_ADAPTER)

    def _first_prompt(self, question: str, adapter: str | None) -> list[BaseMessage] | str:
        if self._kind() == "seq2seq":
            return build_seq2seq_prompt(self.task, question)
        few_shot = adapter is None if self.few_shot is None else self.few_shot
        return build_messages(self.task, question, few_shot=few_shot)

    def _repair_prompt(
        self, prompt: list[BaseMessage] | str, reply: str, attempt: PALAttempt
    ) -> list[BaseMessage] | str:
        note = load_pal_prompts()["repair"].format(error=attempt.error)
        if isinstance(prompt, str):
            # seq2seq models see no history: restate the question, the failed code, the error.
            return f"{prompt.rsplit('Expression:', 1)[0]}Program:\n{attempt.code}\n{note}\nProgram:"
        return [*prompt, AIMessage(reply), HumanMessage(note)]

    def _record(self, reply: str, run: Any) -> tuple[PALAttempt, SandboxError | None]:
        """Build the attempt from a run's outcome (a value, or the SandboxError raised)."""
        code, outcome = run
        if isinstance(outcome, SandboxError):
            error = outcome
        else:
            try:
                return PALAttempt(code=code, reply=reply, answer=_check_answer(outcome)), None
            except SandboxError as err:
                error = err
        attempt = PALAttempt(
            code=code, reply=reply, error=_describe(error), error_type=type(error).__name__
        )
        return attempt, error

    def _finish(
        self, question: str, attempts: list[PALAttempt], error: SandboxError | None
    ) -> PALResult:
        last = attempts[-1]
        if last.ok:
            return PALResult(
                question=question, answer=last.answer, code=last.code, attempts=attempts, ok=True
            )
        if self.raise_on_failure and error is not None:
            raise error
        return PALResult(question=question, code=last.code, attempts=attempts, ok=False)

    # -- the run loop, once: steps that a sync and an async driver carry out -----------------

    def _steps(
        self, question: str, adapter: str | None
    ) -> Generator[ModelCall | ProgramRun | ProgramRuns, Any, PALResult]:
        """Ask, run, repair: yields each model call and program run, receives their results."""
        prompt = self._first_prompt(question, adapter)
        if self.samples > 1:
            return (yield from self._vote(question, prompt))
        attempts: list[PALAttempt] = []
        error: SandboxError | None = None
        for _ in range(self.max_repairs + 1):
            reply = _reply_text((yield ModelCall(prompt)))
            code = extract_program(reply)
            outcome = yield ProgramRun(code)
            attempt, error = self._record(reply, (code, outcome))
            attempts.append(attempt)
            if attempt.ok:
                break
            prompt = self._repair_prompt(prompt, reply, attempt)
        return self._finish(question, attempts, error)

    def _vote(
        self, question: str, prompt: list[BaseMessage] | str
    ) -> Generator[ModelCall | ProgramRuns, Any, PALResult]:
        """Self-consistency: sample programs, run them all, answer with the majority."""
        replies = [_reply_text(r) for r in (yield ModelCall(prompt, samples=self.samples))]
        codes = tuple(extract_program(reply) for reply in replies)
        outcomes = yield ProgramRuns(codes)
        recorded = [self._record(r, run) for r, run in zip(replies, zip(codes, outcomes))]
        attempts = [attempt for attempt, _ in recorded]
        tally: Counter[Any] = Counter(_vote_key(a.answer) for a in attempts if a.ok)
        if not tally:
            return self._finish(question, attempts, recorded[-1][1])
        key, votes = tally.most_common(1)[0]  # ties: the answer sampled first wins
        best = next(a for a in attempts if a.ok and _vote_key(a.answer) == key)
        return PALResult(
            question=question,
            answer=best.answer,
            code=best.code,
            attempts=attempts,
            ok=True,
            votes=votes,
        )

    def _sampling(self, model: BaseLanguageModel) -> Any:
        return model.bind(temperature=self.temperature)

    def _run_sync(self, code: str) -> Any:
        try:
            return run_program(code, limits=self.limits)
        except SandboxError as err:
            return err

    async def _run_async(self, code: str) -> Any:
        try:
            return await arun_program(code, limits=self.limits)
        except SandboxError as err:
            return err

    def _run(self, inputs: dict[str, Any] | str, config: RunnableConfig) -> PALResult:
        chosen = self.chain_model()
        steps = self._steps(self._question(inputs), chosen.adapter)
        step = next(steps)
        while True:
            result: Any
            if isinstance(step, ModelCall) and step.samples > 1:
                prompts = [step.prompt] * step.samples
                result = self._sampling(chosen.model).batch(prompts, config)
            elif isinstance(step, ModelCall):
                result = chosen.model.invoke(step.prompt, config)
            elif isinstance(step, ProgramRuns):
                result = [self._run_sync(code) for code in step.codes]
            else:
                result = self._run_sync(step.code)
            try:
                step = steps.send(result)
            except StopIteration as done:
                return done.value

    async def _arun(self, inputs: dict[str, Any] | str, config: RunnableConfig) -> PALResult:
        chosen = self.chain_model()
        steps = self._steps(self._question(inputs), chosen.adapter)
        step = next(steps)
        while True:
            result: Any
            if isinstance(step, ModelCall) and step.samples > 1:
                prompts = [step.prompt] * step.samples
                result = await self._sampling(chosen.model).abatch(prompts, config)
            elif isinstance(step, ModelCall):
                result = await chosen.model.ainvoke(step.prompt, config)
            elif isinstance(step, ProgramRuns):
                result = list(await asyncio.gather(*(self._run_async(c) for c in step.codes)))
            else:
                result = await self._run_async(step.code)
            try:
                step = steps.send(result)
            except StopIteration as done:
                return done.value

    def invoke(
        self, input: dict[str, Any] | str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> PALResult:
        """Answer one question; see :class:`PALResult`.

        Raises:
            ConfigError: The input has no non-empty ``question``.
            SandboxError: Every attempt failed and ``raise_on_failure`` is set (the last
                attempt's error: ProgramRefusedError, ProgramTimeoutError, ...).
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
    ) -> PALResult:
        """Async :meth:`invoke`: model calls and program runs never block the event loop."""

        async def run(inputs: Any, run_manager: Any, config: RunnableConfig) -> PALResult:
            return await self._arun(inputs, patch_config(config, callbacks=run_manager.get_child()))

        return await self._acall_with_config(run, input, config, **kwargs)


# ------------------------------------------------------------------------------------ scoring


def _vote_key(answer: Answer) -> tuple[str, Any]:
    """What counts as the same answer in a vote: numbers to 6 decimals, strings case-folded."""
    if isinstance(answer, bool) or answer is None:
        return ("exact", answer)
    if isinstance(answer, (int, float)):
        return ("number", round(float(answer), 6))
    return ("text", str(answer).strip().casefold())


def answers_match(predicted: Answer, expected: Any) -> bool:
    """Whether a PAL answer equals the expected one (numbers within 1e-6, strings case-folded)."""
    if isinstance(predicted, bool) or isinstance(expected, bool):
        return type(predicted) is type(expected) and predicted == expected
    if predicted is None or expected is None:
        return predicted is expected
    if isinstance(expected, (int, float)):
        try:
            number = float(predicted)
        except (TypeError, ValueError):
            return False
        return math.isclose(number, float(expected), rel_tol=1e-6, abs_tol=1e-6)
    return str(predicted).strip().casefold() == str(expected).strip().casefold()


__all__ = [
    "PAL_ADAPTER",
    "Answer",
    "PALAttempt",
    "PALChain",
    "PALResult",
    "PALTask",
    "answers_match",
    "build_messages",
    "build_seq2seq_prompt",
    "extract_program",
    "load_pal_prompts",
]
