"""Generation speed on the embedded SmolLM2-135M-Instruct: localchain against its baselines.

Run by hand (not a test)::

    HF_HUB_OFFLINE=1 .venv/bin/python bench/generation.py --runs 3 --json out.json

For each contender it measures, greedy and on the same chat-formatted prompts:

* single-stream tokens/s: one prompt, ``invoke``; tokens actually generated (counted with the
  model's tokenizer) over wall time, prefill included;
* time to first token: the first non-empty piece of a stream (the stream is read to the end);
* 8-prompt aggregate tokens/s: eight different prompts at once (``batch``).

Contenders: ``LocalLLM`` on the transformers engine (float32, then ``quantization="int8"``) and on
the llama.cpp engine; langchain-huggingface's ``HuggingFacePipeline`` on the same converted
safetensors checkpoint, with its defaults; raw llama-cpp-python ``Llama.create_completion`` on
the same GGUF with the engine's settings. llama.cpp rows are left out when llama-cpp-python is
not installed. Each figure is the median of ``--runs`` runs after a warm-up call; the runs go round
robin over the contenders, so that a busy spell on a shared machine slows each of them alike.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MODEL = "smollm2-135m-instruct"
# The first question is the single-stream one: it has a long answer, so decode speed (not
# prompt processing) dominates its figure.
QUESTIONS = [
    "Why is the sky blue?",
    "Name three primary colors.",
    "What is the capital of France?",
    "Give me a tip for learning to code.",
    "What do bees make?",
    "Write a haiku about rain.",
    "How many legs does a spider have?",
    "Suggest a name for a pet cat.",
]


@dataclass
class Result:
    """One contender's figures (None where not measured)."""

    name: str
    single_tok_s: float | None = None
    single_tokens: int | None = None
    ttft_s: float | None = None
    batch_tok_s: float | None = None
    batch_tokens: int | None = None
    load_s: float | None = None
    note: str = ""


@dataclass
class Contender:
    """How to run one contender: single prompt, stream, and eight prompts."""

    name: str
    invoke: Callable[[str], str]
    stream: Callable[[str], Iterable[str]] | None
    batch: Callable[[list[str]], list[str]]
    load_s: float
    note: str = ""


class Timer:
    """Times one contender on the three workloads, keeping every run."""

    def __init__(self, contender: Contender, prompts: list[str], count: Callable) -> None:
        """Measure ``contender`` on ``prompts``; ``count`` counts a reply's tokens."""
        self.contender, self.prompts, self.count = contender, prompts, count
        self.single: list[float] = []
        self.ttft: list[float] = []
        self.batch: list[float] = []
        self.tokens: dict[str, int] = {}
        self.note = contender.note

    def run(self) -> None:
        """One round of the three workloads."""
        contender, prompts = self.contender, self.prompts
        start = time.perf_counter()
        text = contender.invoke(prompts[0])
        elapsed = time.perf_counter() - start
        self.tokens["single"] = self.count(text)
        self.single.append(self.tokens["single"] / elapsed)

        if contender.stream is not None:
            try:
                start, first = time.perf_counter(), None
                for piece in contender.stream(prompts[0]):  # to the end: no work left behind
                    if piece and first is None:
                        first = time.perf_counter() - start
                if first is not None:
                    self.ttft.append(first)
            except Exception as err:  # a baseline's stream that fails here: n/a
                self.note = (self.note + f" stream failed: {err!r}").strip()
                contender.stream = None

        start = time.perf_counter()
        texts = contender.batch(prompts)
        elapsed = time.perf_counter() - start
        self.tokens["batch"] = sum(self.count(t) for t in texts)
        self.batch.append(self.tokens["batch"] / elapsed)

    def result(self) -> Result:
        """Medians of the recorded runs."""

        def median(values: list[float]) -> float | None:
            return statistics.median(values) if values else None

        return Result(
            self.contender.name,
            single_tok_s=median(self.single),
            single_tokens=self.tokens.get("single"),
            ttft_s=median(self.ttft),
            batch_tok_s=median(self.batch),
            batch_tokens=self.tokens.get("batch"),
            load_s=self.contender.load_s,
            note=self.note,
        )


def localchain_contender(name: str, max_new: int, note: str = "", **settings: object) -> Contender:
    """``LocalLLM`` with the given engine settings; ``batch`` runs as one batch."""
    from localchain import LocalLLM

    llm = LocalLLM(model=MODEL, max_new_tokens=max_new, temperature=0.0, **settings)
    start = time.perf_counter()
    llm._get_engine()
    load_s = time.perf_counter() - start
    return Contender(
        name,
        invoke=llm.invoke,
        stream=llm.stream,
        batch=lambda prompts: llm.batch(prompts),
        load_s=load_s,
        note=note,
    )


def hf_pipeline_contender(model_path: str, max_new: int) -> Contender:
    """langchain-huggingface ``HuggingFacePipeline`` on the converted checkpoint, defaults."""
    import transformers
    from langchain_huggingface import HuggingFacePipeline

    start = time.perf_counter()
    pipe = transformers.pipeline(
        "text-generation",
        model=model_path,
        max_new_tokens=max_new,
        do_sample=False,
        return_full_text=False,
    )
    llm = HuggingFacePipeline(pipeline=pipe)
    load_s = time.perf_counter() - start
    return Contender(
        "HuggingFacePipeline",
        invoke=llm.invoke,
        stream=llm.stream,
        batch=lambda prompts: llm.batch(prompts),
        load_s=load_s,
        note=f"batch_size={llm.batch_size} (default)",
    )


def raw_llama_contender(gguf: str, n_ctx: int, n_threads: int, max_new: int) -> Contender:
    """llama-cpp-python's own ``Llama.create_completion``, greedy, prompts one by one."""
    from llama_cpp import Llama

    start = time.perf_counter()
    llama = Llama(model_path=gguf, n_ctx=n_ctx, n_threads=n_threads, verbose=False)
    load_s = time.perf_counter() - start

    def invoke(prompt: str) -> str:
        out = llama.create_completion(prompt, max_tokens=max_new, temperature=0.0)
        return out["choices"][0]["text"]

    def stream(prompt: str) -> Iterable[str]:
        for chunk in llama.create_completion(
            prompt, max_tokens=max_new, temperature=0.0, stream=True
        ):
            yield chunk["choices"][0]["text"]

    return Contender(
        "llama-cpp-python (raw)",
        invoke=invoke,
        stream=stream,
        batch=lambda prompts: [invoke(p) for p in prompts],
        load_s=load_s,
        note=f"n_ctx={n_ctx} n_threads={n_threads}",
    )


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b``, or None when either is missing."""
    return a / b if a and b else None


def fmt(value: float | None, spec: str) -> str:
    """Format a figure, or "n/a"."""
    return "n/a" if value is None or value != value else format(value, spec)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table (and write JSON if asked)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Timed runs per figure (median).")
    parser.add_argument("--max-new-tokens", type=int, default=64, help="Tokens per reply.")
    parser.add_argument("--json", metavar="PATH", help="Also write the results as JSON.")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["float32", "int8", "llama_cpp", "hf_pipeline", "raw_llama_cpp"],
        help="Contenders to leave out.",
    )
    args = parser.parse_args(argv)

    import torch
    from transformers import AutoTokenizer

    from localchain import ChatLocal

    started = time.perf_counter()
    model_path = str(ChatLocal(model=MODEL).model_path)  # the converted safetensors directory
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    prompts = [
        tokenizer.apply_chat_template(
            [{"role": "user", "content": q}], add_generation_prompt=True, tokenize=False
        )
        for q in QUESTIONS
    ]

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    has_llama = importlib.util.find_spec("llama_cpp") is not None
    builders: list[tuple[str, Callable[[], Contender]]] = [
        (
            "float32",
            lambda: localchain_contender("localchain transformers f32", args.max_new_tokens),
        ),
        (
            "int8",
            lambda: localchain_contender(
                "localchain transformers int8", args.max_new_tokens, quantization="int8"
            ),
        ),
        ("hf_pipeline", lambda: hf_pipeline_contender(model_path, args.max_new_tokens)),
    ]
    if has_llama:
        from localchain.models.engines.llama_cpp import LlamaCppEngine

        engine = LlamaCppEngine.load(MODEL)
        if engine.format_chat([{"role": "user", "content": QUESTIONS[0]}]) != prompts[0]:
            print("warning: the GGUF's chat template renders differently", file=sys.stderr)
        builders += [
            (
                "llama_cpp",
                lambda: localchain_contender(
                    "localchain llama.cpp",
                    args.max_new_tokens,
                    engine="llama_cpp",
                    note=f"n_ctx={engine.context_length} n_threads={engine.llama.n_threads}",
                ),
            ),
            (
                "raw_llama_cpp",
                lambda: raw_llama_contender(
                    str(engine.model_path),
                    engine.context_length,
                    engine.llama.n_threads,
                    args.max_new_tokens,
                ),
            ),
        ]
    timers: dict[str, Timer] = {}
    for key, build in builders:
        if key in args.skip:
            continue
        contender = build()
        print(f"warming up {contender.name} ...", file=sys.stderr, flush=True)
        timers[key] = Timer(contender, prompts, count)
        contender.invoke(prompts[1])  # warm-up
    # Round robin, so that a busy spell on a shared machine hits every contender alike.
    for run in range(args.runs):
        for timer in timers.values():
            print(f"run {run + 1}: {timer.contender.name}", file=sys.stderr, flush=True)
            timer.run()
    results = {key: timer.result() for key, timer in timers.items()}

    print(
        f"\nSmolLM2-135M-Instruct, greedy, max_new_tokens={args.max_new_tokens}, "
        f"median of {args.runs} runs; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, torch {torch.__version__} ({torch.get_num_threads()} threads)\n"
    )
    header = f"{'contender':<30} {'single tok/s':>12} {'TTFT s':>8} {'8-prompt tok/s':>15}  note"
    print(header)
    print("-" * len(header))
    for r in results.values():
        print(
            f"{r.name:<30} {fmt(r.single_tok_s, '.1f'):>12} {fmt(r.ttft_s, '.3f'):>8} "
            f"{fmt(r.batch_tok_s, '.1f'):>15}  {r.note}"
        )

    def get(key: str, attr: str) -> float | None:
        return getattr(results[key], attr) if key in results else None

    ratios = {
        "transformers f32 vs HuggingFacePipeline, single-stream (target >= 1.0x)": ratio(
            get("float32", "single_tok_s"), get("hf_pipeline", "single_tok_s")
        ),
        "transformers f32 vs HuggingFacePipeline, 8-prompt (target >= 2x)": ratio(
            get("float32", "batch_tok_s"), get("hf_pipeline", "batch_tok_s")
        ),
        "transformers int8 vs HuggingFacePipeline, 8-prompt": ratio(
            get("int8", "batch_tok_s"), get("hf_pipeline", "batch_tok_s")
        ),
        "llama.cpp engine vs raw llama-cpp-python, single-stream (target >= 0.9x)": ratio(
            get("llama_cpp", "single_tok_s"), get("raw_llama_cpp", "single_tok_s")
        ),
        "llama.cpp engine vs raw llama-cpp-python, 8-prompt (target >= 0.9x)": ratio(
            get("llama_cpp", "batch_tok_s"), get("raw_llama_cpp", "batch_tok_s")
        ),
    }
    print()
    for label, value in ratios.items():
        print(f"{label:<76} {fmt(value, '.2f') + ('x' if value else '')}")
    total = time.perf_counter() - started
    print(f"\ntotal {total:.0f}s")
    if args.json:
        payload = {
            "max_new_tokens": args.max_new_tokens,
            "runs": args.runs,
            "torch_threads": torch.get_num_threads(),
            "results": {k: asdict(r) for k, r in results.items()},
            "ratios": ratios,
            "total_s": total,
        }
        with open(args.json, "w") as fh:
            json.dump(payload, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
