"""Function calling on BFCL's single-turn AST categories: localchain against the plain model.

Run by hand (not a test; it loads the embedded model)::

    pip install --no-deps bfcl-eval          # the data only; or pass --data DIR
    HF_HUB_OFFLINE=1 nice -n 10 .venv/bin/python bench/tool_calling.py --per-category 10

Data: the Berkeley Function Calling Leaderboard's own files (``bfcl-eval`` wheel, Apache-2.0),
``BFCL_v4_<category>.json`` and ``possible_answer/BFCL_v4_<category>.json``, found in the
installed ``bfcl_eval`` package (located, never imported: its import pulls in every provider SDK)
or in ``--data DIR``. Evaluation data only: nothing here or in the training-data generator
(``examples/tool_calls/``) is built from it. Each category is subsampled with a fixed seed
(``--per-category``, ``--seed``); the sample size is printed with the table.

Categories: ``simple_python``, ``multiple``, ``parallel``, ``parallel_multiple`` and
``irrelevance``. Overall is the mean of the category accuracies (the project's decision), not
BFCL's own overall, which weights in live and multi-turn categories as well.

Scoring: BFCL's AST checker rules, **re-implemented** here because ``bfcl_eval``'s checker module
imports its model registry (OpenAI, Anthropic, Cohere... SDKs) at import time. The port follows
``bfcl_eval/eval_checker/ast_eval/ast_checker.py`` (2026.3.23) for Python, rule for rule: the
function name must match (dots in BFCL names become underscores, as BFCL does for models whose
tool names may not hold dots); every required parameter present; no parameter outside the
function's schema or the possible answer; value types exact (an int is accepted for a float;
nested list items checked one level deep); strings compared after BFCL's standardisation
(case, spaces and ``,./-_*^`` ignored); lists, dicts and lists of dicts against the allowed
values; an optional parameter that is left out must have ``""`` among its allowed values;
``multiple`` needs exactly one call, ``parallel*`` the right number of calls matched in any
order. Irrelevance passes when the reply holds no call. The tools are given to the model as BFCL
gives them to function-calling models (``convert_to_tool`` with ``GORILLA_TO_OPENAPI``: ``dict``
becomes ``object``, ``float`` becomes ``number`` with "This is a float type value." in its
description, names with dots get underscores), plus BFCL's "Note that the provided function is
in Python 3 syntax." hint; BFCL's OpenAI-only ``"format": "float"`` key is left out.

Contenders, all greedy, ``tool_choice="auto"`` in every category (as a user would):

(a) peer: the same weights without localchain's tool calling: SmolLM2's documented
    tool-calling system prompt (the SmolLM2-1.7B-Instruct model card's function-calling
    instructions, also Ollama's ``smollm2`` template) with the tools in ``<tools>``, rendered by
    the tokenizer's own chat template (which ignores ``tools=``), completed as raw text by
    ``LocalLLM``; the reply is parsed as a user would: the JSON in ``<tool_call>...</tool_call>``
    (or the whole reply), a list of ``{"name", "arguments"}`` objects or one such object; ``[]``
    or text is "no call".
(b) ``ChatLocal().bind_tools(tools, tool_choice="auto")``: grammar-constrained; every entry of
    ``reply.tool_calls`` is scored (several calls once ``bind_tools`` emits parallel calls).
(c) (b) with ``ChatLocal(tool_adapter=--adapter)``: a tool-calling LoRA adapter (``auto``: the
    shipped ``tool-calls-smollm2``); the row is left out when no ``--adapter`` is given.
(b+f), (c+f) (b) and (c) with ``ChatLocal(tool_relevance_floor=--relevance-floor)``: only the
    tools whose embedding similarity to the request reaches the floor are offered, and none
    (a plain text answer) when no tool does; left out without ``--relevance-floor``.

"Unparseable" counts replies that tried to call but could not be read as calls: for (a) a
``<tool_call>`` block or a JSON-looking reply that does not parse into calls; for (b)/(c) a
reply with no ``tool_calls`` whose text is the raw JSON that ``ChatLocal`` failed to parse.
A single call cut off by ``--max-tokens`` raises ``OutputParserException`` in (b)/(c) and is
counted as "crashed" (a miss); a list of calls cut off keeps its complete calls (the unfinished
one becomes an invalid tool call, not scored); a text answer cut off by it is text, as in plain
chat. Seconds per
case are wall time per model call (one call per case; with ``--concurrency`` the run's wall
time over the cases), grammar compilation included.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import importlib.util
import json
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Run as a script, import the localchain of this checkout (not another editable install's).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CATEGORIES = ["simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance"]
VERSION_PREFIX = "BFCL_v4"
MODEL = "smollm2-135m-instruct"

# SmolLM2's documented tool-calling system prompt (SmolLM2-1.7B-Instruct model card,
# "instructions_function_calling.md"; the same text is Ollama's smollm2 template for tools).
SMOLLM2_TOOLS_PROMPT = """You are an expert in composing functions. You are given a question \
and a set of possible functions.
Based on the question, you will need to make one or more function/tool calls to achieve the \
purpose.
If none of the functions can be used, point it out and refuse to answer.
If the given question lacks the parameters required by the function, also point it out.

You have access to the following tools:
<tools>{tools}</tools>

The output MUST strictly adhere to the following format, and NO other text MUST be included.
The example format is as follows. Please make sure the parameter type is correct. If no \
function call is needed, please make the tool calls an empty list '[]'.
<tool_call>[
{{"name": "func_name1", "arguments": {{"argument1": "value1", "argument2": "value2"}}}},
... (more tool calls as required)
]</tool_call>"""

# -- data -------------------------------------------------------------------------------------

GORILLA_TO_OPENAPI = {
    "integer": "integer",
    "number": "number",
    "float": "number",
    "string": "string",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "dict": "object",
    "object": "object",
    "tuple": "array",
    "any": "string",
}
PYTHON_HINT = " Note that the provided function is in Python 3 syntax."


@dataclass
class Case:
    """One BFCL question: the user turn, the functions offered, and the possible answers."""

    id: str
    category: str
    messages: list[dict[str, str]]
    functions: list[dict[str, Any]]
    ground_truth: list[dict[str, Any]] = field(default_factory=list)


def locate_data(data: str | None) -> Path:
    """The folder holding ``BFCL_v4_*.json``: ``--data`` or the installed ``bfcl_eval``'s."""
    if data:
        folder = Path(data).expanduser()
    else:
        spec = importlib.util.find_spec("bfcl_eval")  # locates the package without importing it
        if spec is None or not spec.submodule_search_locations:
            msg = (
                "BFCL data not found: install it with `pip install --no-deps bfcl-eval` (its "
                "data files only are used), or pass --data DIR (the wheel's bfcl_eval/data)."
            )
            raise SystemExit(msg)
        folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    if not (folder / f"{VERSION_PREFIX}_simple_python.json").is_file():
        msg = f"{folder} holds no {VERSION_PREFIX}_simple_python.json; pass bfcl_eval's data dir."
        raise SystemExit(msg)
    return folder


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_cases(folder: Path, category: str, n: int, seed: int) -> list[Case]:
    """``n`` cases of ``category`` drawn with ``seed`` (all of them when ``n`` is 0)."""
    rows = _jsonl(folder / f"{VERSION_PREFIX}_{category}.json")
    answers: dict[str, Any] = {}
    if category != "irrelevance":
        answer_file = folder / "possible_answer" / f"{VERSION_PREFIX}_{category}.json"
        answers = {row["id"]: row["ground_truth"] for row in _jsonl(answer_file)}
    if 0 < n < len(rows):
        rows = random.Random(f"{seed}:{category}").sample(rows, n)
    return [
        Case(
            id=row["id"],
            category=category,
            messages=row["question"][0],
            functions=row["function"],
            ground_truth=answers.get(row["id"], []),
        )
        for row in rows
    ]


def _cast_types(properties: dict[str, Any]) -> dict[str, Any]:
    """BFCL's ``_cast_to_openai_type`` with ``GORILLA_TO_OPENAPI`` (minus ``format: float``)."""
    for value in properties.values():
        kind = value.get("type", "string")
        if kind == "float":
            value["description"] = value.get("description", "") + " This is a float type value."
        value["type"] = GORILLA_TO_OPENAPI.get(kind, "string")
        if value["type"] in ("array", "object"):
            if "properties" in value:
                value["properties"] = _cast_types(value["properties"])
            elif "items" in value:
                items = value["items"]
                items["type"] = GORILLA_TO_OPENAPI[items["type"]]
                if items["type"] == "array" and "items" in items:
                    items["items"]["type"] = GORILLA_TO_OPENAPI[items["items"]["type"]]
                elif items["type"] == "object" and "properties" in items:
                    items["properties"] = _cast_types(items["properties"])
    return properties


def openai_tools(functions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """BFCL functions as OpenAI tool dicts, the way BFCL hands them to function-calling models."""
    tools = []
    for function in copy.deepcopy(functions):
        function["name"] = function["name"].replace(".", "_")
        function["description"] = function.get("description", "") + PYTHON_HINT
        function["parameters"]["type"] = "object"
        function["parameters"]["properties"] = _cast_types(function["parameters"]["properties"])
        tools.append({"type": "function", "function": function})
    return tools


# -- BFCL's AST checker rules (Python), ported ------------------------------------------------

PYTHON_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "float": float,
    "boolean": bool,
    "array": list,
    "tuple": list,
    "dict": dict,
    "any": str,
}
NESTED_TYPES = ("array", "tuple")


class CheckFailed(Exception):
    """A model output failed one of BFCL's rules; the message says which."""


def _answer_type(possible: list[Any]) -> type | None:
    for answer in possible:
        if answer != "":  # "" marks an optional parameter
            return type(answer)
    return None


def _type_check(
    param: str, value: Any, possible: list[Any], kind: str, expected: type, nested: type | None
) -> bool:
    """BFCL ``type_checker``: raises on a wrong type; returns whether ``value`` is a variable."""
    answer_type = _answer_type(possible)
    is_variable = answer_type is not None and answer_type is not expected
    if type(value) is expected:
        if nested is None:
            return is_variable
        for item in possible:
            ok = True
            if type(item) is list:
                for element in value:
                    try:
                        _type_check(param, element, item, str(nested), nested, None)
                    except CheckFailed:
                        ok = False
                        break
            if ok:
                return is_variable
    if answer_type is not None and type(value) is answer_type:
        return True
    msg = f"type_error: {param!r} expected {kind}, got {type(value).__name__} ({value!r})"
    raise CheckFailed(msg)


def standardize(text: str) -> str:
    """BFCL ``standardize_string``: no spaces or ``,./-_*^``, lower case, ``'`` as ``"``."""
    return re.sub(r"[ \,\.\/\-\_\*\^]", "", text).lower().replace("'", '"')


def _std(value: Any) -> Any:
    return standardize(value) if type(value) is str else value


def _check_string(param: str, value: str, possible: list[Any]) -> None:
    if standardize(value) not in [standardize(p) for p in possible if type(p) is str]:
        msg = f"value_error:string {param!r}={value!r}, expected one of {possible}"
        raise CheckFailed(msg)


def _check_list(param: str, value: list[Any], possible: list[Any]) -> None:
    if [_std(v) for v in value] not in [[_std(p) for p in option] for option in possible]:
        msg = f"value_error:list {param!r}={value!r}, expected one of {possible}"
        raise CheckFailed(msg)


def _check_dict(param: str, value: dict[str, Any], possible: list[Any]) -> None:
    error = f"value_error:dict {param!r}={value!r}"
    for option in possible:
        if option == "":
            continue
        ok = all(
            key in option and _std(v) in [_std(p) for p in option[key]] for key, v in value.items()
        ) and all(key in value or "" in allowed for key, allowed in option.items())
        if ok:
            return
    raise CheckFailed(error)


def _check_list_of_dicts(param: str, value: list[Any], possible: list[Any]) -> None:
    for option in possible:
        if len(value) != len(option):
            continue
        try:
            for item, allowed in zip(value, option, strict=True):
                _check_dict(param, item, [allowed])
        except CheckFailed:
            continue
        return
    msg = f"value_error:list_dict {param!r}={value!r}"
    raise CheckFailed(msg)


def check_call(function: dict[str, Any], call: dict[str, Any], answer: dict[str, Any]) -> None:
    """BFCL ``simple_function_checker``: one ``{name: args}`` call against one possible answer.

    Raises:
        CheckFailed: The call breaks one of the rules; the message names it.
    """
    possible = next(iter(answer.values()))
    name = function["name"].replace(".", "_")
    details = function["parameters"]["properties"]
    if name not in call:
        msg = f"wrong_func_name: expected {name!r}, got {list(call)}"
        raise CheckFailed(msg)
    args = call[name]
    for param in function["parameters"].get("required", []):
        if param not in args:
            msg = f"missing_required: {param!r}"
            raise CheckFailed(msg)
    for param, raw in args.items():
        if param not in details or param not in possible:
            msg = f"unexpected_param: {param!r}"
            raise CheckFailed(msg)
        kind = details[param]["type"]
        expected = PYTHON_TYPES[kind]
        nested = PYTHON_TYPES[details[param]["items"]["type"]] if kind in NESTED_TYPES else None
        value = float(raw) if kind == "float" and type(raw) is int else raw
        if _type_check(param, value, possible[param], kind, expected, nested):
            pass  # a variable: compared as a plain value below
        elif expected is dict:
            _check_dict(param, value, possible[param])
            continue
        elif expected is list and nested is dict:
            _check_list_of_dicts(param, value, possible[param])
            continue
        elif expected is str:
            _check_string(param, value, possible[param])
            continue
        elif expected is list:
            _check_list(param, value, possible[param])
            continue
        if value not in possible[param]:
            msg = f"value_error {param!r}={value!r}, expected one of {possible[param]}"
            raise CheckFailed(msg)
    for param, allowed in possible.items():
        if param not in args and "" not in allowed:
            msg = f"missing_optional: {param!r} is not optional in the answer"
            raise CheckFailed(msg)


def _find(functions: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(f for f in functions if f["name"] == name)


def check_case(case: Case, calls: list[dict[str, Any]]) -> str | None:
    """Score ``calls`` (``[{name: args}, ...]``) on ``case``: None when right, else why not."""
    if case.category == "irrelevance":
        return "irrelevance: the reply holds a call" if calls else None
    answers = case.ground_truth
    try:
        if "parallel" in case.category:
            if len(calls) != len(answers):
                return f"wrong_count: {len(calls)} calls, expected {len(answers)}"
            matched: set[int] = set()
            for answer in answers:
                function = _find(case.functions, next(iter(answer)))
                for index, call in enumerate(calls):
                    if index in matched:
                        continue
                    try:
                        check_call(function, call, answer)
                    except CheckFailed:
                        continue
                    matched.add(index)
                    break
                else:
                    return f"cannot_find_match for {next(iter(answer))!r}"
            return None
        if len(calls) != 1:
            return f"wrong_count: {len(calls)} calls, expected 1"
        function = _find(case.functions, next(iter(answers[0])))
        check_call(function, calls[0], answers[0])
    except CheckFailed as err:
        return str(err)
    return None


# -- contenders ------------------------------------------------------------------------------


@dataclass
class Reply:
    """What one contender made of one case."""

    calls: list[dict[str, Any]]
    """The calls in BFCL's decoded form, ``[{name: {arg: value}}]``."""
    unparseable: bool
    raw: str
    seconds: float


_TOOL_CALL = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


def parse_peer_reply(text: str) -> tuple[list[dict[str, Any]], bool]:
    """Read SmolLM2's reply as a user would: ``(calls, unparseable)``.

    The JSON inside ``<tool_call>...</tool_call>`` (a missing closing tag is forgiven), else the
    whole reply when it looks like JSON; a list of ``{"name", "arguments"}`` objects or one
    object. Anything else is a text answer (no call).
    """
    blocks = _TOOL_CALL.findall(text)
    tried = bool(blocks)
    if not blocks:
        stripped = text.strip()
        fenced = _FENCE.match(stripped)
        stripped = fenced.group(1) if fenced else stripped
        if not stripped.startswith(("[", "{")):
            return [], False
        blocks, tried = [stripped], True
    calls: list[dict[str, Any]] = []
    for block in blocks:
        try:
            data = json.loads(block.strip())
        except json.JSONDecodeError:
            return [], tried
        items = data if isinstance(data, list) else [data]
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                return [], True
            args = item.get("arguments", item.get("parameters", {}))
            if isinstance(args, str):
                try:
                    args = json.loads(args)
                except json.JSONDecodeError:
                    return [], True
            if not isinstance(args, dict):
                return [], True
            calls.append({item["name"]: args})
    return calls, False


def run_peer(max_tokens: int, quantization: str | None) -> Callable[[Case], Reply]:
    """Contender (a): SmolLM2's own tool prompt and chat template, raw text through LocalLLM."""
    from transformers import AutoTokenizer

    from localchain.models.llm import LocalLLM

    llm = LocalLLM(model=MODEL, max_new_tokens=max_tokens, quantization=quantization)
    tokenizer = AutoTokenizer.from_pretrained(llm.model_path)

    def run(case: Case) -> Reply:
        tools = openai_tools(case.functions)
        system = SMOLLM2_TOOLS_PROMPT.format(tools=json.dumps(tools, ensure_ascii=False))
        messages = [{"role": "system", "content": system}, *case.messages]
        prompt = tokenizer.apply_chat_template(
            messages, tools=tools, add_generation_prompt=True, tokenize=False
        )
        start = time.perf_counter()
        text = llm.invoke(prompt)
        seconds = time.perf_counter() - start
        calls, unparseable = parse_peer_reply(text)
        return Reply(calls, unparseable, text, seconds)

    return run


def run_bound(
    max_tokens: int, quantization: str | None, adapter: str | None, floor: str | None = None
) -> Callable[[Case], Reply]:
    """Contenders (b)/(c): ``ChatLocal.bind_tools(tools, tool_choice="auto")``, with
    ``tool_relevance_floor=floor`` for the rows that filter tools by relevance."""
    from langchain_core.exceptions import OutputParserException

    from localchain.models.chat import ChatLocal
    from localchain.models.tool_calling import parse_tool_output

    # (b) is the plain model; (c) gives its adapter to the calls with tools (all of them here).
    chat = ChatLocal(
        model=MODEL,
        max_new_tokens=max_tokens,
        quantization=quantization,
        tool_adapter=adapter,
        tool_relevance_floor=None if floor is None else _floor(floor),
    )

    def run(case: Case) -> Reply:
        tools = openai_tools(case.functions)
        start = time.perf_counter()
        reply = chat.bind_tools(tools, tool_choice="auto").invoke(case.messages)
        seconds = time.perf_counter() - start
        text = reply.content if isinstance(reply.content, str) else str(reply.content)
        calls = [{call["name"]: call["args"]} for call in reply.tool_calls]
        unparseable = False
        if not calls:
            # ChatLocal hands back the raw reply when its JSON does not parse.
            try:
                parse_tool_output(text, tools)
            except OutputParserException:
                unparseable = text.lstrip().startswith(("{", "["))
        raw = text or json.dumps(
            [{"name": c["name"], "arguments": c["args"]} for c in reply.tool_calls]
        )
        return Reply(calls, unparseable, raw, seconds)

    return run


def _floor(text: str) -> str | float:
    return text if text == "auto" else float(text)


# -- the run ----------------------------------------------------------------------------------


@dataclass
class Row:
    """One contender's results over every case."""

    name: str
    correct: dict[str, list[bool]] = field(default_factory=dict)
    unparseable: int = 0
    crashes: int = 0
    seconds: list[float] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)

    def accuracy(self, category: str) -> float:
        """Share of right answers in ``category``."""
        marks = self.correct.get(category, [])
        return sum(marks) / len(marks) if marks else 0.0

    def overall(self, categories: list[str]) -> float:
        """The mean of the category accuracies."""
        return statistics.fmean(self.accuracy(c) for c in categories)


def evaluate(
    name: str, run: Callable[[Case], Reply], cases: list[Case], concurrency: int = 1
) -> Row:
    """Run one contender on every case, printing a mark per case.

    With ``concurrency`` > 1, that many cases are in flight at once through the one model (its
    scheduler batches them); seconds per case are then the run's wall time over the cases.
    """
    row = Row(name)

    def attempt(case: Case) -> Reply:
        start = time.perf_counter()
        try:
            return run(case)
        except Exception as err:  # a crash on one case is scored as a miss, and shown
            row.crashes += 1
            return Reply([], False, f"crashed: {err!r}", time.perf_counter() - start)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        replies = list(pool.map(attempt, cases))
    wall = time.perf_counter() - started
    for case, reply in zip(cases, replies, strict=True):
        error = check_case(case, reply.calls)
        row.correct.setdefault(case.category, []).append(error is None)
        row.unparseable += reply.unparseable
        row.seconds.append(reply.seconds if concurrency <= 1 else wall / len(cases))
        row.outputs.append(
            {
                "id": case.id,
                "raw": reply.raw,
                "calls": reply.calls,
                "unparseable": reply.unparseable,
                "error": error,
                "seconds": round(reply.seconds, 3),
            }
        )
        print("." if error is None else "x", end="", flush=True)  # noqa: T201
    print(f"  {name}", flush=True)  # noqa: T201
    return row


def _ratio(value: float, base: float) -> str:
    if base == 0:
        return "inf" if value > 0 else "n/a"
    return f"{value / base:.2f}x"


def table(rows: list[Row], categories: list[str]) -> str:
    """The results as a Markdown table, then the ratios against the peer (first row)."""
    head = ["contender", *categories, "overall", "unparseable", "s/case"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row.name, *(f"{row.accuracy(c):.2f}" for c in categories)]
        cells += [f"{row.overall(categories):.3f}", str(row.unparseable)]
        cells.append(f"{statistics.fmean(row.seconds):.1f}" if row.seconds else "-")
        lines.append("| " + " | ".join(cells) + " |")
    peer = rows[0]
    for row in rows[1:]:
        parts = [f"{c} {_ratio(row.accuracy(c), peer.accuracy(c))}" for c in categories]
        overall = _ratio(row.overall(categories), peer.overall(categories))
        lines.append(f"\n{row.name} / {peer.name}: overall {overall} ({', '.join(parts)})")
    for row in rows:
        if row.crashes:
            lines.append(f"\n{row.name}: {row.crashes} case(s) crashed (see --json)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Parse options, run the contenders, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="BFCL data folder (default: the installed bfcl_eval's)")
    parser.add_argument("--per-category", type=int, default=20, help="cases per category (0: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the subsample")
    parser.add_argument("--categories", default=",".join(CATEGORIES), help="comma-separated")
    parser.add_argument("--adapter", help="tool-calling LoRA adapter for contender (c)")
    parser.add_argument("--max-tokens", type=int, default=256, help="tokens per reply")
    parser.add_argument("--quantization", help="e.g. int8, for every contender alike")
    parser.add_argument("--json", help="write every output and the scores to this file")
    parser.add_argument(
        "--relevance-floor",
        help="ChatLocal(tool_relevance_floor=...) for rows (b+f)/(c+f): 'auto' or a number",
    )
    parser.add_argument(
        "--contenders",
        help="comma-separated subset of a,b,c,b+f,c+f (default: every one the options allow)",
    )
    parser.add_argument(
        "--adapter-only", action="store_true", help="run contender (c) alone (needs --adapter)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="cases in flight at once (batched by the model's scheduler; s/case = wall / cases)",
    )
    args = parser.parse_args(argv)

    categories = [c.strip() for c in args.categories.split(",") if c.strip()]
    unknown = sorted(set(categories) - set(CATEGORIES))
    if unknown:
        parser.error(f"unknown categories {unknown}; choose from {', '.join(CATEGORIES)}")
    folder = locate_data(args.data)
    cases = [c for cat in categories for c in load_cases(folder, cat, args.per_category, args.seed)]
    sizes = {cat: sum(c.category == cat for c in cases) for cat in categories}
    print(f"BFCL data: {folder}; cases: {sizes}; seed {args.seed}", flush=True)  # noqa: T201

    tokens, quant, adapter, floor = (
        args.max_tokens,
        args.quantization,
        args.adapter,
        args.relevance_floor,
    )
    known: dict[str, tuple[str, Callable[[], Callable[[Case], Reply]]]] = {
        "a": ("(a) SmolLM2 prompt, raw text", lambda: run_peer(tokens, quant)),
        "b": ("(b) bind_tools auto", lambda: run_bound(tokens, quant, None)),
        "c": ("(c) bind_tools auto + adapter", lambda: run_bound(tokens, quant, adapter)),
        "b+f": (
            "(b+f) bind_tools auto + relevance floor",
            lambda: run_bound(tokens, quant, None, floor),
        ),
        "c+f": (
            "(c+f) bind_tools auto + adapter + relevance floor",
            lambda: run_bound(tokens, quant, adapter, floor),
        ),
    }
    allowed = [k for k in known if (adapter or "c" not in k) and (floor or "+f" not in k)]
    chosen = allowed
    if args.adapter_only:
        chosen = ["c"]
    if args.contenders:
        chosen = [k.strip() for k in args.contenders.split(",") if k.strip()]
    refused = [k for k in chosen if k not in allowed]
    if refused:
        parser.error(
            f"contenders {refused} are not available: choose from {', '.join(allowed)} "
            "(c needs --adapter, +f needs --relevance-floor)"
        )
    rows = []
    for key in chosen:
        name, make = known[key]
        rows.append(evaluate(name, make(), cases, args.concurrency))

    date = datetime.date.today().isoformat()
    settings = f"max {tokens} tokens, {quant or 'float32'}, {args.concurrency} at once"
    print(f"\nBFCL single-turn AST, {MODEL}, {date}, n={sizes}, seed {args.seed}, {settings}\n")  # noqa: T201
    print(table(rows, categories))  # noqa: T201
    if args.json:
        report = {
            "date": date,
            "model": MODEL,
            "seed": args.seed,
            "sizes": sizes,
            "max_tokens": tokens,
            "quantization": quant,
            "argv": sys.argv[1:],
            "rows": [
                {
                    "name": row.name,
                    "accuracy": {c: row.accuracy(c) for c in categories},
                    "overall": row.overall(categories),
                    "unparseable": row.unparseable,
                    "seconds_per_case": statistics.fmean(row.seconds) if row.seconds else None,
                    "outputs": row.outputs,
                }
                for row in rows
            ],
        }
        Path(args.json).write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
