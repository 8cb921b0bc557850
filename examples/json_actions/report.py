"""Ship the tuned adapter into the repo and score base vs base+adapter on the TEST split.

    python examples/json_actions/report.py [--source DIR]

1. Copies the adapter weights, its peft config and its ``localchain_adapter.json`` metadata from
   ``--source`` (default: the registered adapter ``json-actions-smollm2``) into
   ``adapters/json-actions-smollm2/`` (no checkpoints, no optimizer state), and its loss plot to
   ``examples/json_actions/loss.png``.
2. Scores the base model and base+adapter with :func:`localchain.eval.evaluate` on
   ``data/test.jsonl`` (greedy decoding, 48 new tokens): exact match, ROUGE, BLEU, plus two
   task metrics computed here: the share of replies that parse as a JSON object, and the share
   whose ``"action"`` is the right one.
3. Writes ``results.json`` (scores, settings, every output) and ``results.md`` (the table).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NAME = "json-actions-smollm2"
SHIPPED = ROOT / "adapters" / NAME
BASE = "smollm2-135m-instruct"
TEST = HERE / "data" / "test.jsonl"
MAX_NEW_TOKENS = 48
SHIP_FILES = ("adapter_config.json", "adapter_model.safetensors", "localchain_adapter.json")


def parse_action(text: str) -> dict | None:
    """The reply as a JSON object, or None."""
    try:
        value = json.loads(text.strip())
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def task_metrics(predictions: list[str], references: list[str]) -> dict[str, float]:
    parsed = [parse_action(p) for p in predictions]
    wanted = [json.loads(r) for r in references]
    n = len(references)
    return {
        "valid_json": sum(p is not None for p in parsed) / n,
        "action_accuracy": sum(
            p is not None and p.get("action") == w["action"] for p, w in zip(parsed, wanted)
        )
        / n,
        "json_equal": sum(p == w for p, w in zip(parsed, wanted)) / n,
    }


def ship(source: Path) -> dict:
    """Copy the adapter files into the repo; make the metadata's paths repo-relative."""
    SHIPPED.mkdir(parents=True, exist_ok=True)
    for stale in SHIPPED.iterdir():
        if stale.is_file():
            stale.unlink()
    for name in SHIP_FILES:
        shutil.copy2(source / name, SHIPPED / name)
        (SHIPPED / name).chmod(0o644)
    if (source / "loss.png").is_file():
        shutil.copy2(source / "loss.png", HERE / "loss.png")
    meta_path = SHIPPED / "localchain_adapter.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta.pop("base_path", None)  # a path on the training machine
    for key in ("train_file", "val_file"):
        if key in meta.get("data", {}):
            meta["data"][key] = str(Path(meta["data"][key]).resolve().relative_to(ROOT))
    if meta.get("config", {}).get("output_dir"):
        meta["config"]["output_dir"] = None
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=None, help="trained adapter dir (default: registry)")
    parser.add_argument("--no-ship", action="store_true", help="score the shipped adapter as is")
    args = parser.parse_args()

    from localchain.eval import evaluate
    from localchain.models.adapters import find_adapter

    if args.no_ship:
        meta = json.loads((SHIPPED / "localchain_adapter.json").read_text(encoding="utf-8"))
    else:
        meta = ship(Path(args.source) if args.source else find_adapter(NAME))
    size = sum(f.stat().st_size for f in SHIPPED.iterdir() if f.is_file())

    started = time.perf_counter()
    report = evaluate(
        BASE, TEST, adapter=SHIPPED, max_new_tokens=MAX_NEW_TOKENS, batch_size=8, device="cpu"
    )
    eval_seconds = time.perf_counter() - started
    for result in report.results:
        result.metrics.update(task_metrics(result.predictions, report.references))

    data = report.to_dict()
    data["data"] = str(TEST.relative_to(ROOT))
    data["decoding"] = "greedy"
    data["eval_seconds"] = round(eval_seconds, 1)
    data["adapter"] = {
        "path": str(SHIPPED.relative_to(ROOT)),
        "size_bytes": size,
        "trainable_parameters": meta["parameters"]["trainable"],
        "steps": meta["steps"],
        "training_time_s": meta["training_time_s"],
        "seconds_per_step": meta["seconds_per_step"],
        "train_loss": meta["metrics"]["train_loss"],
        "last_train_loss": meta["metrics"]["last_train_loss"],
        "best_val_loss": meta["metrics"]["best_val_loss"],
        "config": {
            k: meta["config"][k]
            for k in (
                "rank",
                "alpha",
                "dropout",
                "target_modules",
                "epochs",
                "learning_rate",
                "lr_scheduler",
                "batch_size",
                "max_length",
                "seed",
            )
        },
    }
    (HERE / "results.json").write_text(
        json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )

    cols = [
        ("exact_match", "exact match", 3),
        ("json_equal", "same JSON", 3),
        ("action_accuracy", "right action", 3),
        ("valid_json", "valid JSON", 3),
        ("rougeL", "ROUGE-L", 3),
        ("rouge1", "ROUGE-1", 3),
        ("bleu", "BLEU", 1),
    ]
    first, second = report.results
    lines = [
        f"# JSON actions: {BASE} vs {BASE} + LoRA adapter",
        "",
        f"Test split: `{data['data']}`, {report.n_examples} requests whose slot values (and half "
        "of whose phrasings) never occur in training. Greedy decoding, "
        f"{MAX_NEW_TOKENS} new tokens, the same system prompt for both models.",
        "",
        "| model | " + " | ".join(c[1] for c in cols) + " |",
        "|---|" + "---:|" * len(cols),
    ]
    for r in report.results:
        lines.append(
            f"| {r.label} | " + " | ".join(f"{r.metrics[k]:.{d}f}" for k, _, d in cols) + " |"
        )
    lines.append(
        "| **gain** | "
        + " | ".join(f"**{second.metrics[k] - first.metrics[k]:+.{d}f}**" for k, _, d in cols)
        + " |"
    )
    a = data["adapter"]
    lines += [
        "",
        "Exact match, same JSON (parsed and compared as objects), right action and valid JSON are "
        "shares in [0, 1]; ROUGE is F1 in [0, 1]; BLEU is sacrebleu in [0, 100].",
        "",
        f"Adapter: `{a['path']}`, {a['size_bytes'] / 1e6:.2f} MB, "
        f"{a['trainable_parameters']:,} trainable parameters (LoRA r={a['config']['rank']}, "
        f"alpha={a['config']['alpha']:g}, {', '.join(a['config']['target_modules'])}); "
        f"{a['steps']} steps in {a['training_time_s'] / 60:.1f} min on the CPU "
        f"({a['seconds_per_step']:.1f} s/step), mean train loss {a['train_loss']:.3f} "
        f"(last logged {a['last_train_loss']:.3f}), "
        f"best validation loss {a['best_val_loss']:.3f}.",
        "",
        "## Some test outputs",
        "",
        "| request | reference | base | base + adapter |",
        "|---|---|---|---|",
    ]
    for example in data["examples"][:8]:
        request = example["prompt"].split("<|im_start|>user\n")[-1].split("<|im_end|>")[0]
        cells = [request, example["reference"], example[first.label], example[second.label]]
        lines.append(
            "| "
            + " | ".join("`" + c.replace("|", "\\|").replace("\n", " ") + "`" for c in cells)
            + " |"
        )
    (HERE / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines[: 10 + len(report.results)]))  # noqa: T201
    print(f"adapter size: {size} bytes; eval {eval_seconds:.0f} s")  # noqa: T201


if __name__ == "__main__":
    main()
