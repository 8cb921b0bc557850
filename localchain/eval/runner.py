"""Score a base model and base+adapter side by side on a jsonl set.

:func:`evaluate` renders each record's prompt as ``ChatLocal`` does, generates greedily in
batches through :func:`localchain.models.generation.generate` (one batch can mix base rows and
adapter rows), and scores the outputs with :mod:`localchain.eval.metrics`. The result is an
:class:`EvalReport`, printable as a table and writable as JSON.

LoRA adapters are attached to the shared loaded model (``loaded.adapters``). Prompt-tuning
adapters are not LoRA, so the adapter manager refuses them; they are scored on a private copy of
the base wrapped in a peft ``PeftModel`` and generated with peft's ``generate``.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localchain.errors import AdapterError, ConfigError
from localchain.eval.metrics import METRICS, score

if TYPE_CHECKING:
    from localchain.models.loading import LoadedModel
    from localchain.tuning.data import Example

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
        template: Prompt template for prompt/completion records (see ``tuning.data.TEMPLATES``).
        system: System message put first in every prompt.
        reload_adapter: Detach an attached adapter of the same name first, so the files on disk
            are what gets scored (they may have been retrained).

    Returns:
        The report, one :class:`EvalResult` per model, base first.

    Raises:
        ConfigError: Bad data (naming the line) or settings.
        AdapterError: The adapter cannot be found or does not fit the base.
    """
    from localchain.models.loading import LoadedModel, load_model
    from localchain.tuning.data import load_examples

    if isinstance(data, str | os.PathLike):
        examples = load_examples(data, template=template, system=system)
        source = str(data)
    else:
        examples, source = list(data), "examples"
    if limit is not None:
        examples = examples[:limit]
    if not examples:
        msg = f"No examples to evaluate in {source}; pass a non-empty jsonl file."
        raise ConfigError(msg)
    if adapter is None and not include_base:
        msg = "Nothing to evaluate: pass an adapter, or include_base=True."
        raise ConfigError(msg)
    if isinstance(base, LoadedModel):
        loaded = base
    else:
        loaded = load_model(base, device=device, quantization=quantization)  # type: ignore[arg-type]
    from localchain.models.engines.transformers import TransformersEngine

    engine = TransformersEngine(loaded)
    prompts = [engine.format_chat(example.messages) for example in examples]
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
    if adapter is not None:
        directory, name, peft_type = _locate_adapter(adapter)
        if peft_type == "LORA":
            if reload_adapter and name in loaded.adapters.names():
                loaded.adapters.remove(name)
            if name not in loaded.adapters.names():
                loaded.adapters.add(name, directory)
            outputs = generate_texts(
                loaded, prompts, adapter=name, max_new_tokens=max_new_tokens, batch_size=batch_size
            )
        else:
            outputs = generate_with_peft_model(
                loaded, directory, prompts, max_new_tokens=max_new_tokens, batch_size=batch_size
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


def generate_texts(
    loaded: LoadedModel,
    prompts: Sequence[str],
    *,
    adapter: str | None = None,
    max_new_tokens: int = 64,
    batch_size: int = 8,
) -> list[str]:
    """Greedy outputs for chat-formatted prompts, batched, with an optional attached adapter."""
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
        )
        outputs.extend(c.text.strip() for c in completions)
    return outputs


def generate_with_peft_model(
    loaded: LoadedModel,
    directory: Path,
    prompts: Sequence[str],
    *,
    max_new_tokens: int = 64,
    batch_size: int = 8,
) -> list[str]:
    """Greedy outputs through peft's ``generate`` for adapters the adapter manager refuses.

    Prompt tuning prepends learned embeddings, which localchain's decode loop does not do, so
    a private copy of the base is wrapped in a ``PeftModel`` (the shared model is untouched).
    """
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    auto_cls = AutoModelForSeq2SeqLM if loaded.kind == "seq2seq" else AutoModelForCausalLM
    base = auto_cls.from_pretrained(loaded.model_path, dtype=loaded.dtype, local_files_only=True)
    model = PeftModel.from_pretrained(base, str(directory)).to(loaded.device)
    model.eval()
    tokenizer = loaded.tokenizer
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else loaded.eos_token_ids[0]
    outputs: list[str] = []
    with torch.inference_mode():
        for start in range(0, len(prompts), batch_size):
            chunk = prompts[start : start + batch_size]
            encoded = [
                tokenizer(p, add_special_tokens=loaded.kind != "causal")["input_ids"] for p in chunk
            ]
            width = max(len(ids) for ids in encoded)
            left = loaded.kind == "causal"  # decoders continue from the right edge
            ids = torch.full((len(chunk), width), pad, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for i, row in enumerate(encoded):
                span = slice(width - len(row), width) if left else slice(0, len(row))
                ids[i, span] = torch.tensor(row, dtype=torch.long)
                mask[i, span] = 1
            with warnings.catch_warnings():  # peft ignores position ids, and says so each call
                warnings.filterwarnings("ignore", message="Position ids are not supported")
                generated = model.generate(
                    input_ids=ids.to(loaded.device),
                    attention_mask=mask.to(loaded.device),
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    pad_token_id=pad,
                    eos_token_id=loaded.eos_token_ids,
                )
            if left and generated.shape[1] > width:
                generated = generated[:, width:]
            outputs.extend(
                tokenizer.decode(row, skip_special_tokens=True).strip() for row in generated
            )
    return outputs


def _locate_adapter(adapter: str | os.PathLike[str]) -> tuple[Path, str, str]:
    """(directory, name to attach it under, peft type) for an adapter name or directory."""
    from localchain.models.adapters import find_adapter

    directory = find_adapter(adapter)
    config_file = directory / "adapter_config.json"
    try:
        peft_type = str(json.loads(config_file.read_text(encoding="utf-8")).get("peft_type"))
    except (OSError, json.JSONDecodeError) as err:
        msg = f"Adapter {directory} has no readable adapter_config.json ({err}); save it again."
        raise AdapterError(msg) from err
    text = str(adapter)
    if Path(text).expanduser().is_dir():
        name = _SAFE_RE.sub("-", directory.name).strip("-") or "adapter"
    else:
        name = text
    return directory, name, peft_type


def _fmt(metric: str, value: float, *, sign: bool = False) -> str:
    digits = 1 if metric == "bleu" else 3
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


__all__ = ["EvalReport", "EvalResult", "evaluate", "generate_texts", "generate_with_peft_model"]
