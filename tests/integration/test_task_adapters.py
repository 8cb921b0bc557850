"""The shipped task adapters on the real SmolLM2-135M: they beat the base on fixed samples.

``localchain/adapters/pal-smollm2`` and ``triples-smollm2`` are trained by ``make pal-adapter``
and ``make triples-adapter`` on generated data (``localchain/tuning/datasets/``). The samples
here come from the held-out sets (templates, phrasings and entities never seen in training);
the full before/after tables are in the README (``make pal-report triples-report``).
PAL is checked on the project's own fixture problems, where the margin is wide enough for a
fixed assertion; on the held-out templates the adapter's gain is smaller (see the README).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from localchain.chains.pal import PAL_ADAPTER, PALChain
from localchain.chains.triples import TRIPLES_ADAPTER, TripleExtractionChain
from localchain.eval.pal import evaluate_pal
from localchain.eval.triples import evaluate_triples
from localchain.models import ChatLocal, adapter_metadata, load_model, shipped_adapters

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PAL_HELDOUT = json.loads((ROOT / "examples" / "pal" / "heldout.json").read_text())
TRIPLES_HELDOUT = json.loads((ROOT / "examples" / "triples" / "heldout.json").read_text())
PAL_FIXTURE = json.loads((ROOT / "tests" / "fixtures" / "pal_problems.json").read_text())
TRIPLES_SAMPLE = TRIPLES_HELDOUT[::10]  # 8 passages
QUESTION = "Write one sentence about the sea."


@pytest.fixture(scope="module")
def chat() -> ChatLocal:
    return ChatLocal(model="smollm2-135m-instruct", device="cpu", max_new_tokens=160)


def test_both_adapters_ship_with_what_they_were_trained_on():
    found = shipped_adapters()
    for name in (PAL_ADAPTER, TRIPLES_ADAPTER):
        assert (found[name] / "adapter_model.safetensors").stat().st_size > 100_000
        meta = adapter_metadata(found[name])
        assert meta["base_resolved"] == "smollm2-135m-instruct"
        assert meta["data"]["train_examples"] >= 500 and meta["data"]["train_sha256"]
        assert meta["steps"] > 0 and meta["metrics"]["last_train_loss"] is not None


def test_pal_adapter_beats_the_base_on_the_projects_own_problems(chat):
    # The 26 problems of the fixture were written before the generator and are not from it
    # (an out-of-generator check). Measured: base 3/26 with the few-shot prompt, adapter 12/26.
    adapted = evaluate_pal(PALChain.from_model(chat), PAL_FIXTURE, concurrency=4)
    plain = evaluate_pal(PALChain.from_model(chat, adapter=None), PAL_FIXTURE, concurrency=4)
    assert adapted.model == f"smollm2-135m-instruct + {PAL_ADAPTER}"
    assert plain.model == "smollm2-135m-instruct"
    print(f"PAL on the fixture: adapter {adapted.correct}/26, base {plain.correct}/26")
    assert adapted.correct >= 2 * plain.correct + 3


def test_triples_adapter_beats_the_base_on_held_out_passages(chat):
    adapted = evaluate_triples(TripleExtractionChain.from_model(chat), TRIPLES_SAMPLE)
    plain = evaluate_triples(
        TripleExtractionChain.from_model(chat, adapter=None), TRIPLES_SAMPLE, concurrency=4
    )
    assert adapted.model.endswith(TRIPLES_ADAPTER) and not plain.model.endswith(TRIPLES_ADAPTER)
    print(f"triples F1: adapter {adapted.strict.f1:.2f}, base {plain.strict.f1:.2f}")
    assert adapted.strict.f1 >= plain.strict.f1 + 0.3


def test_plain_chat_is_unchanged_by_the_task_adapters(chat):
    before = chat.invoke(QUESTION).text
    PALChain.from_model(chat).invoke("Ana has 3 pens and buys 4 more. How many pens has she?")
    TripleExtractionChain.from_model(chat).invoke("Ada Lovelace was born in London.")
    loaded = load_model("smollm2-135m-instruct", device="cpu")
    assert {PAL_ADAPTER, TRIPLES_ADAPTER} <= set(loaded.adapters.names())
    with_adapters = chat.invoke(QUESTION).text
    for name in (PAL_ADAPTER, TRIPLES_ADAPTER):
        loaded.adapters.remove(name)
    without = chat.invoke(QUESTION).text
    assert before == with_adapters == without


def test_one_loaded_model_serves_chat_pal_and_triples_at_once(chat):
    pal = PALChain.from_model(chat)
    triples = TripleExtractionChain.from_model(chat)
    question, text = PAL_HELDOUT[0]["question"], TRIPLES_SAMPLE[0]["text"]
    alone = (chat.invoke(QUESTION).text, pal.invoke(question).answer, triples.invoke(text))
    together: dict[str, object] = {}
    jobs = {
        "chat": lambda: chat.invoke(QUESTION).text,
        "pal": lambda: pal.invoke(question).answer,
        "triples": lambda: triples.invoke(text),
    }
    threads = [
        threading.Thread(target=lambda k=k, f=f: together.__setitem__(k, f()))
        for k, f in jobs.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert (together["chat"], together["pal"], together["triples"]) == alone
