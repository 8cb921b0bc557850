"""The committed held-out sets are what the generators make, and ``localchain eval`` reads them."""

from __future__ import annotations

import json
from pathlib import Path

from localchain.chains.pal import PALChain
from localchain.chains.triples import TripleExtractionChain
from localchain.eval.pal import evaluate_direct, evaluate_pal
from localchain.eval.triples import evaluate_triples
from localchain.models.fake import FakeChatModel
from localchain.tuning.datasets.pal import generate_problems, render_reply
from localchain.tuning.datasets.triples import generate_passages

EXAMPLES = Path(__file__).resolve().parents[4] / "examples"
PAL_FILE = EXAMPLES / "pal" / "heldout.json"
TRIPLES_FILE = EXAMPLES / "triples" / "heldout.json"


def test_committed_sets_match_the_generators():
    pal = json.loads(PAL_FILE.read_text("utf-8"))
    assert pal == [p.eval_item() for p in generate_problems("test", 150, seed=0)]
    triples = json.loads(TRIPLES_FILE.read_text("utf-8"))
    assert triples == [p.eval_item() for p in generate_passages("test", 80, seed=0)]


def test_eval_reads_the_pal_set_with_and_without_code():
    problems = {p.question: p for p in generate_problems("test", 150, seed=0)[:3]}
    model = FakeChatModel(
        fn=lambda messages, options: render_reply(problems[messages[-1].content[10:]].code)
    )
    report = evaluate_pal(PALChain.from_model(model), PAL_FILE, limit=3)
    assert report.correct == 3 and report.data == str(PAL_FILE)
    direct = evaluate_direct(FakeChatModel(fn=lambda m, o: "7"), PAL_FILE, limit=3)
    assert direct.n == 3


def test_eval_reads_the_triples_set():
    passage = generate_passages("test", 1, seed=0)[0]
    replies = [r["messages"][-1]["content"] for r in passage.records()]
    report = evaluate_triples(
        TripleExtractionChain.from_model(FakeChatModel(responses=replies), facts_first=False),
        TRIPLES_FILE,
        limit=1,
    )
    assert report.strict.f1 == 1.0
