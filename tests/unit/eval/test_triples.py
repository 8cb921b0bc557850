"""Triple-extraction quality on FakeChatModel: micro-averaged scores in a typed report."""

from __future__ import annotations

import json

import pytest

from localchain.chains.triples import TripleExtractionChain
from localchain.eval.tasks import DATA_DIR
from localchain.eval.triples import TripleScores, TriplesReport, evaluate_triples
from localchain.models.fake import FakeChatModel

TEXT = "Marie Curie was born in Warsaw. She won the Nobel Prize in 1903."
FACTS = {"facts": ["Marie Curie was born in Warsaw.", "Marie Curie won the Nobel Prize."]}
TRIPLES = {
    "triples": [
        {"subject": "Marie Curie", "relation": "was born in", "object": "Warsaw"},
        {"subject": "Marie Curie", "relation": "Won", "object": "The Nobel Prize"},
    ]
}
ITEMS = [
    {"id": "a", "text": TEXT, "triples": [["Marie Curie", "was born in", "Warsaw"]]},
    {"id": "b", "text": TEXT, "triples": [["Marie Curie", "received", "Nobel Prize"]]},
]


def _chain(*replies):
    model = FakeChatModel(responses=[json.dumps(r) if isinstance(r, dict) else r for r in replies])
    return TripleExtractionChain.from_model(model)


def test_micro_averages_strict_and_pairs(tmp_path):
    lines = []
    report = evaluate_triples(
        _chain(FACTS, TRIPLES, FACTS, {"triples": []}), ITEMS, echo=lines.append
    )
    assert isinstance(report, TriplesReport)
    assert (report.strict.tp, report.strict.predicted, report.strict.gold) == (1, 2, 2)
    assert report.strict.precision == 0.5 and report.strict.recall == 0.5
    assert report.pairs.tp == 1 and report.results[1].predicted == []
    assert "    Marie Curie | won | Nobel Prize" in "\n".join(lines).splitlines()
    table = report.table().splitlines()
    assert table[0].split() == ["MATCH", "TP", "PREDICTED", "GOLD", "PRECISION", "RECALL", "F1"]
    assert table[1].split() == ["strict", "1", "2", "2", "0.50", "0.50", "0.50"]
    saved = json.loads(report.write_json(tmp_path / "t.json").read_text())
    assert saved["strict"]["f1"] == 0.5 and saved["results"][0]["predicted"][0]["relation"]


def test_relation_paraphrase_counts_only_in_pairs():
    report = evaluate_triples(_chain(FACTS, TRIPLES), ITEMS[1:])
    assert report.strict.tp == 0 and report.pairs.tp == 1
    assert report.pairs.summary() == "precision 0.50 (1/2), recall 1.00 (1/1), F1 0.67"


def test_off_schema_reply_is_scored_as_nothing_not_a_crash():
    report = evaluate_triples(_chain("not json", FACTS, TRIPLES), ITEMS)
    assert report.results[0].error and report.results[0].predicted == []
    assert report.strict.gold == 2 and report.pairs.tp == 1  # the second text still counts
    assert "1 failed to parse" in report.table()


def test_scores_add_and_handle_zero():
    total = TripleScores(tp=1, predicted=2, gold=4) + TripleScores()
    assert (total.precision, total.recall) == (0.5, 0.25)
    assert TripleScores().f1 == 0.0


def test_packaged_gold_is_the_test_fixture():
    from pathlib import Path

    fixture = Path(__file__).parents[2] / "fixtures" / "triples_gold.json"
    assert json.loads((DATA_DIR / "triples_gold.json").read_text()) == json.loads(
        fixture.read_text()
    )
    report = evaluate_triples(_chain({"facts": []}), limit=1)
    assert report.data == "triples_gold.json (packaged)" and len(report.results) == 1


@pytest.mark.parametrize("name", ["evaluate_triples", "main"])
def test_chain_module_is_no_longer_a_script(name):
    import localchain.chains.triples as module

    assert not hasattr(module, name)


def test_concurrent_texts_keep_their_order():
    from localchain.chains.triples import TripleExtractionChain
    from localchain.eval.triples import evaluate_triples

    def reply(messages, options):
        name = messages[-1].content.split()[-1].rstrip(".")
        triple = {"subject": name, "relation": "born in", "object": "Paris"}
        return json.dumps({"triples": [triple]})

    items = [{"text": f"X is {n}.", "triples": [[n, "born_in", "Paris"]]} for n in "ABCDEF"]
    chain = TripleExtractionChain.from_model(FakeChatModel(fn=reply), facts_first=False)
    report = evaluate_triples(chain, items, concurrency=3)
    assert [r.predicted[0].subject for r in report.results] == list("ABCDEF")
    assert report.strict.f1 == 1.0
