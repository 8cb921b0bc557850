"""Score a base model and base+adapter side by side on a jsonl set.

:func:`evaluate` renders each record's prompt as ``ChatLocal`` does
(:func:`localchain.models.chat_format.format_chat`), generates greedily in batches through the
model layer's one decode loop (:func:`localchain.models.generation.generate`), and scores the
outputs with :mod:`localchain.eval.metrics`. One call gives the base and base+adapter, as an
:class:`EvalReport` printable as a table and writable as JSON.

LoRA adapters are attached to the shared loaded model (``loaded.adapters``). Prompt-tuning
adapters add no layers: their learned embeddings (``prompt_embeddings`` in the adapter's
safetensors) are read and put before each prompt as virtual tokens by the same decode loop.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localchain.errors import AdapterError, ConfigError
from localchain.eval.metrics import METRICS, score

if TYPE_CHECKING:
    import torch

    from localchain.datasets.records import Example
    from localchain.models.loading import LoadedModel

_SAFE_RE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass
class EvalResult:
    """One model's scores and outputs on the set."""

    label: str
    """"base" or "base+<adapter>"."""
    adapter: str | None
    metrics: dict[str, float]
    predictions: list[str] = field(default_factory=list)


@dataclass
class EvalReport:
    """Scores of one or more models on the same examples."""

    base: str
    data: str
    n_examples: int
    results: list[EvalResult]
    prompts: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    max_new_tokens: int = 0

    def result(self, label: str) -> EvalResult:
        """The result with this label ("base" or "base+<adapter>").

        Raises:
            ConfigError: No result has that label.
        """
        for result in self.results:
            if result.label == label:
                return result
        msg = f"No result {label!r}; have {', '.join(r.label for r in self.results)}."
        raise ConfigError(msg)

    def table(self) -> str:
        """A plain-text table: one row per model, one column per metric (and the gain)."""
        header = ["MODEL", *METRICS]
        rows = [[r.label, *(_fmt(m, r.metrics[m]) for m in METRICS)] for r in self.results]
        if len(self.results) == 2:
            first, second = self.results
            rows.append(
                [
                    "gain",
                    *(_fmt(m, second.metrics[m] - first.metrics[m], sign=True) for m in METRICS),
                ]
            )
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
            for row in [header, *rows]
        ]
        note = (
            f"{self.n_examples} examples from {self.data}; exact match and ROUGE F1 in [0, 1], "
            "BLEU in [0, 100]"
        )
        return "\n".join(line.rstrip() for line in lines) + "\n" + note

    def to_dict(self, *, with_outputs: bool = True) -> dict[str, Any]:
        """JSON-ready data: settings, metrics per model, and (optionally) every output."""
        data = {
            "base": self.base,
            "data": self.data,
            "n_examples": self.n_examples,
            "max_new_tokens": self.max_new_tokens,
            "metrics": {r.label: r.metrics for r in self.results},
        }
        if with_outputs:
            data["examples"] = [
                {
                    "prompt": prompt,
                    "reference": reference,
                    **{r.label: r.predictions[i] for r in self.results},
                }
                for i, (prompt, reference) in enumerate(
                    zip(self.prompts, self.references, strict=True)
                )
            ]
        data["results"] = [
            {k: v for k, v in asdict(r).items() if k != "predictions"} for r in self.results
        ]
        return data

    def write_json(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_dict` to ``path`` and return it."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            json.dumps(self.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8"
        )
        return target


def evaluate(
    base: str | LoadedModel,
    data: str | os.PathLike[str] | Sequence[Example],
    *,
    adapter: str | os.PathLike[str] | None = None,
    include_base: bool = True,
    max_new_tokens: int | None = None,
    batch_size: int = 8,
    limit: int | None = None,
    device: str = "auto",
    quantization: str | None = None,
    template: str | None = None,
    system: str | None = None,
    reload_adapter: bool = True,
    data_label: str | None = None,
) -> EvalReport:
    """Generate for every example with the base model and/or base+adapter, and score.

    Args:
        base: A model name or directory (loaded with ``load_model``), or a loaded model.
        data: A jsonl file (prompt/completion or messages records) or checked examples.
        adapter: An adapter name (registered, or in ``<cache>/adapters``) or directory.
        include_base: Score the base model too (side by side with the adapter).
        max_new_tokens: Tokens generated per example; default the longest reference + 16.
        batch_size: Prompts per generation batch.
        limit: Score only the first ``limit`` examples.
        device: "auto", "cpu" or "cuda[:N]".
        quantization: Quantization for the base, as in ``load_model``.
        template: Prompt template for prompt/completion records (see
            ``localchain.datasets.TEMPLATES``).
        system: System message put first in every prompt.
        reload_adapter: Detach an attached adapter of the same name first, so the files on disk
            are what gets scored (they may have been retrained).
        data_label: How the report names the data (default: the file, or "examples").

    Returns:
        The report, one :class:`EvalResult` per model, base first.

    Raises:
        ConfigError: Bad data (naming the line) or settings.
        AdapterError: The adapter cannot be found or does not fit the base.
    """
    from localchain.datasets.records import load_examples
    from localchain.models.chat_format import format_chat
    from localchain.models.loading import LoadedModel, load_model

    if isinstance(data, str | os.PathLike):
        examples = load_examples(data, template=template, system=system)
        source = str(data)
    else:
        examples, source = list(data), "examples"
    source = data_label or source
    if limit is not None:
        examples = examples[:limit]
    if not examples:
        msg = f"No examples to evaluate in {source}; pass a non-empty jsonl file."
        raise ConfigError(msg)
    if adapter is None and not include_base:
        msg = "Nothing to evaluate: pass an adapter, or include_base=True."
        raise ConfigError(msg)
    located = _locate_adapter(adapter) if adapter is not None else None  # fail before any work
    if isinstance(base, LoadedModel):
        loaded = base
    else:
        loaded = load_model(base, device=device, quantization=quantization)  # type: ignore[arg-type]
    prompts = [format_chat(loaded.tokenizer, loaded.kind, e.messages) for e in examples]
    references = [example.completion for example in examples]
    if max_new_tokens is None:
        longest = max(
            len(loaded.tokenizer(r, add_special_tokens=False)["input_ids"]) for r in references
        )
        max_new_tokens = longest + 16
    results = []
    if include_base:
        outputs = generate_texts(
            loaded, prompts, max_new_tokens=max_new_tokens, batch_size=batch_size
        )
        results.append(EvalResult("base", None, score(outputs, references), outputs))
    if located is not None:
        name, outputs = _adapter_outputs(
            loaded,
            located,
            prompts,
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            reload_adapter=reload_adapter,
        )
        results.append(EvalResult(f"base+{name}", name, score(outputs, references), outputs))
    return EvalReport(
        base=loaded.name,
        data=source,
        n_examples=len(examples),
        results=results,
        prompts=prompts,
        references=references,
        max_new_tokens=max_new_tokens,
    )


def _adapter_outputs(
    loaded: LoadedModel,
    located: tuple[Path, str, dict[str, Any]],
    prompts: Sequence[str],
    *,
    max_new_tokens: int,
    batch_size: int,
    reload_adapter: bool,
) -> tuple[str, list[str]]:
    """(label name, outputs) of base+adapter; the shared model is left as it was found."""
    directory, name, adapter_config = located
    peft_type = adapter_config.get("peft_type")
    if peft_type == "PROMPT_TUNING":
        prefix = load_prompt_embeddings(directory, loaded)
        outputs = generate_texts(
            loaded, prompts, prefix=prefix, max_new_tokens=max_new_tokens, batch_size=batch_size
        )
        return name, outputs
    if peft_type != "LORA":
        msg = (
            f"Adapter {directory} is a {peft_type} adapter; evaluation runs LoRA and "
            "prompt-tuning adapters (what `localchain tune` trains)."
        )
        raise AdapterError(msg)
    was_attached = name in loaded.adapters.names()
    if was_attached and reload_adapter:
        loaded.adapters.remove(name)
    if name not in loaded.adapters.names():
        loaded.adapters.add(name, directory)
    try:
        outputs = generate_texts(
            loaded, prompts, adapter=name, max_new_tokens=max_new_tokens, batch_size=batch_size
        )
    finally:
        if not was_attached:
            loaded.adapters.remove(name)
    return name, outputs


def generate_texts(
    loaded: LoadedModel,
    prompts: Sequence[str],
    *,
    adapter: str | None = None,
    prefix: torch.Tensor | None = None,
    max_new_tokens: int = 64,
    batch_size: int = 8,
) -> list[str]:
    """Greedy outputs for chat-formatted prompts, batched, through the one decode loop.

    Args:
        loaded: The loaded base model.
        prompts: Prompts already rendered with ``format_chat``.
        adapter: An attached LoRA adapter's name, or None for the base.
        prefix: Learned prompt embeddings (prompt tuning) put before every prompt.
        max_new_tokens: Tokens generated per prompt.
        batch_size: Prompts per batch.
    """
    from localchain.models.generation import GenerationConfig, generate

    config = GenerationConfig(max_new_tokens=max_new_tokens, truncation="left")
    outputs: list[str] = []
    for start in range(0, len(prompts), batch_size):
        chunk = list(prompts[start : start + batch_size])
        completions = generate(
            loaded,
            chunk,
            config,
            adapters=[adapter] * len(chunk),
            add_special_tokens=loaded.kind != "causal",  # as ChatLocal: the template has them
            prefix_embeddings=None if prefix is None else [prefix] * len(chunk),
        )
        outputs.extend(c.text.strip() for c in completions)
    return outputs


def load_prompt_embeddings(directory: str | os.PathLike[str], loaded: LoadedModel) -> torch.Tensor:
    """The learned virtual-token embeddings of a peft prompt-tuning adapter, for ``loaded``.

    peft saves them as ``prompt_embeddings`` (one block of ``num_virtual_tokens`` rows per
    transformer submodule: two for seq2seq models). Generation uses the first block, on the
    decoder's input or the encoder's, as peft's own ``generate`` does.

    Args:
        directory: The adapter directory (``adapter_config.json`` and its weights).
        loaded: The base it is used with (checked against the embedding width).

    Returns:
        A ``(num_virtual_tokens, hidden_size)`` tensor on the CPU.

    Raises:
        AdapterError: The files are missing or unreadable, or the adapter fits another base.
    """
    import torch

    from localchain.models.adapters import read_adapter_config

    folder = Path(directory)
    config = read_adapter_config(folder)
    safetensors_file, bin_file = (folder / f"adapter_model.{ext}" for ext in ("safetensors", "bin"))
    try:
        if safetensors_file.is_file():
            from safetensors.torch import load_file

            state = load_file(str(safetensors_file))
        elif bin_file.is_file():
            state = torch.load(bin_file, map_location="cpu", weights_only=True)
        else:
            msg = (
                f"Prompt-tuning adapter {folder} has no adapter_model.safetensors or "
                "adapter_model.bin; save it again with save_pretrained."
            )
            raise AdapterError(msg)
    except (OSError, RuntimeError) as err:
        msg = f"Cannot read the weights of adapter {folder} ({err}); save it again."
        raise AdapterError(msg) from err
    embeddings = state.get("prompt_embeddings")
    if embeddings is None:
        msg = (
            f"Adapter {folder} has no 'prompt_embeddings' tensor (it holds "
            f"{', '.join(sorted(state)) or 'nothing'}); is it a peft prompt-tuning adapter?"
        )
        raise AdapterError(msg)
    count = int(config.get("num_virtual_tokens") or embeddings.shape[0])
    hidden = loaded.model.get_input_embeddings().embedding_dim
    if embeddings.dim() != 2 or embeddings.shape[0] < count or embeddings.shape[1] != hidden:
        msg = (
            f"Prompt-tuning adapter {folder} holds embeddings of shape "
            f"{tuple(embeddings.shape)}, but {loaded.name!r} needs ({count}, {hidden}): it was "
            "trained on another base model."
        )
        raise AdapterError(msg)
    return embeddings[:count]


def _locate_adapter(adapter: str | os.PathLike[str]) -> tuple[Path, str, dict[str, Any]]:
    """(directory, name to attach it under, adapter_config.json) for a name or directory."""
    from localchain.models.adapters import find_adapter, read_adapter_config

    directory = find_adapter(adapter)
    config = read_adapter_config(directory)
    text = str(adapter)
    if Path(text).expanduser().is_dir():
        name = _SAFE_RE.sub("-", directory.name).strip("-") or "adapter"
    else:
        name = text
    return directory, name, config


def _fmt(metric: str, value: float, *, sign: bool = False) -> str:
    digits = 1 if metric == "bleu" else 3
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


__all__ = ["EvalReport", "EvalResult", "evaluate", "generate_texts", "load_prompt_embeddings"]
