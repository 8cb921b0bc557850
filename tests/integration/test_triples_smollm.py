"""TripleExtractionChain on the real embedded SmolLM2-135M: constrained output is well-formed.

Quality is measured separately on the gold set (the packaged copy of
``tests/fixtures/triples_gold.json``): ``localchain eval --task triples``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localchain.chains.graph import KnowledgeGraph
from localchain.chains.triples import Triple, TripleExtractionChain, entity_key, normalize_relation
from localchain.eval.triples import evaluate_triples
from localchain.models.chat import ChatLocal

pytestmark = pytest.mark.slow

NEWS = (
    "Acme Corp, based in Denver, bought the startup Robotix for 40 million dollars on Monday. "
    "Jane Doe, the chief executive of Acme Corp, said the deal closes in March."
)


def test_gold_set_is_well_formed():
    gold = json.loads((Path(__file__).parent.parent / "fixtures" / "triples_gold.json").read_text())
    assert 3 <= len(gold) <= 5
    assert all(item["text"] and all(len(t) == 3 for t in item["triples"]) for item in gold)


def test_triples_from_a_news_paragraph_are_well_formed():
    model = ChatLocal(model="smollm2-135m-instruct", device="cpu", max_new_tokens=200)
    triples = TripleExtractionChain.from_model(model).invoke({"text": NEWS})
    assert isinstance(triples, list)
    for triple in triples:
        assert isinstance(triple, Triple)
        assert triple.subject.strip() and triple.relation.strip() and triple.object.strip()
        assert triple.relation == normalize_relation(triple.relation)  # snake_case
        assert entity_key(triple.subject) != entity_key(triple.object)
    keys = [(entity_key(t.subject), t.relation, entity_key(t.object)) for t in triples]
    assert len(keys) == len(set(keys))  # merged, no duplicates
    graph = KnowledgeGraph(triples)
    assert len(graph) == len(triples)


def test_evaluate_triples_reports_on_the_packaged_gold_set():
    model = ChatLocal(model="smollm2-135m-instruct", device="cpu", max_new_tokens=200)
    report = evaluate_triples(TripleExtractionChain.from_model(model), limit=1)
    assert len(report.results) == 1 and report.strict.gold >= 1
    assert 0.0 <= report.strict.f1 <= 1.0 and report.pairs.tp >= report.strict.tp
    assert report.table().splitlines()[1].startswith("strict")
