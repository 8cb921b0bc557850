"""Time per answer with the shipped task adapters against the plain model, in the same run.

Run by hand (not a test; it loads the embedded model)::

    HF_HUB_OFFLINE=1 .venv/bin/python bench/task_adapters.py --problems 10 --passages 5

One ``ChatLocal`` (greedy, float32, CPU) answers the first ``--problems`` held-out PAL problems
and extracts triples from the first ``--passages`` held-out passages, one item at a time, twice
over: with the chain's default (``adapter="auto"``: the shipped adapter and its short prompt)
and with ``adapter=None`` (the plain model and the few-shot prompt). The runs alternate item
by item so that drifts in the machine's load hit both alike. It prints seconds per item and
the ratio adapter / plain (the task-adapters issue asks that PAL stay within 1.2x), and checks
that plain chat gives the same greedy text before any adapter is attached, with both attached,
and after both are removed.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from localchain import ChatLocal
from localchain.chains.pal import PAL_ADAPTER, PALChain
from localchain.chains.triples import TRIPLES_ADAPTER, TripleExtractionChain
from localchain.models import load_model

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "Write one sentence about the sea."


def timed(fn: Any, *args: Any) -> float:
    began = time.perf_counter()
    fn(*args)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=10)
    parser.add_argument("--passages", type=int, default=5)
    args = parser.parse_args()

    chat = ChatLocal(model="smollm2-135m-instruct", device="cpu", max_new_tokens=160)
    before = chat.invoke(QUESTION).text
    problems = json.loads((ROOT / "examples/pal/heldout.json").read_text())[: args.problems]
    passages = json.loads((ROOT / "examples/triples/heldout.json").read_text())[: args.passages]
    rows = []
    for name, items, build in (
        ("PAL", problems, lambda **kw: PALChain.from_model(chat, max_repairs=0, **kw)),
        ("triples", passages, lambda **kw: TripleExtractionChain.from_model(chat, **kw)),
    ):
        chains = {"adapter": build(), "plain": build(adapter=None)}
        build().invoke(items[0].get("question") or items[0]["text"])  # attach before timing
        seconds = {"adapter": 0.0, "plain": 0.0}
        for item in items:
            text = item.get("question") or item["text"]
            for key, chain in chains.items():
                seconds[key] += timed(chain.invoke, text)
        per = {key: value / len(items) for key, value in seconds.items()}
        rows.append((name, len(items), per["plain"], per["adapter"], per["adapter"] / per["plain"]))

    loaded = load_model("smollm2-135m-instruct", device="cpu")
    with_adapters = chat.invoke(QUESTION).text
    for adapter in (PAL_ADAPTER, TRIPLES_ADAPTER):
        loaded.adapters.remove(adapter)
    after = chat.invoke(QUESTION).text

    print(f"{'chain':8} {'items':>5} {'plain s':>8} {'adapter s':>9} {'ratio':>6}")
    for name, n, plain, adapted, ratio in rows:
        print(f"{name:8} {n:5d} {plain:8.2f} {adapted:9.2f} {ratio:6.2f}x")
    same = before == with_adapters == after
    print(f"plain chat greedy text unchanged by the adapters: {same}")


if __name__ == "__main__":
    main()
