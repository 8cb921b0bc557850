"""Triple data: deterministic, canonical gold, held-out split kept apart, the chain's format."""

from __future__ import annotations

import json

import pytest

from localchain.chains.triples import (
    Facts,
    Triple,
    TripleExtractionChain,
    Triples,
    normalize_relation,
    normalize_triples,
    score_triples,
)
from localchain.datasets import parse_record
from localchain.models.fake import FakeChatModel
from localchain.tuning.datasets.triples import HELD_OUT_STRUCTURES, generate_passages
from localchain.tuning.datasets.triples_tables import DISTRACTORS, ENTITIES, PHRASINGS


@pytest.fixture(scope="module")
def train():
    return generate_passages("train", 300, seed=0)


@pytest.fixture(scope="module")
def test_set():
    return generate_passages("test", 60, seed=0)


def test_same_seed_same_passages_other_seed_others():
    first = generate_passages("train", 20, seed=3)
    assert [p.text for p in first] == [p.text for p in generate_passages("train", 20, seed=3)]
    assert [p.text for p in first] != [p.text for p in generate_passages("train", 20, seed=4)]


def test_gold_triples_are_canonical(train, test_set):
    for passage in train + test_set:
        gold = passage.triples
        assert 1 <= len(gold) <= 6
        again = normalize_triples(Triple(subject=s, relation=r, object=o) for s, r, o in gold)
        assert [[t.subject, t.relation, t.object] for t in again] == gold
        assert all(r == normalize_relation(r) and " " not in r for _, r, _ in gold)


def test_replies_parse_with_the_chains_schemas_and_score_perfectly(train):
    for passage in train[::30]:
        (record,) = passage.records()
        reply = record["messages"][-1]["content"]
        triples = Triples.model_validate_json(reply)
        assert len(triples.triples) == len(passage.raw)
        # The facts of the two-step prompt are well-formed too (one per triple).
        assert len(Facts(facts=passage.facts).facts) == len(passage.raw)
        model = FakeChatModel(responses=[reply])
        chain = TripleExtractionChain.from_model(model, facts_first=False, few_shot=False)
        predicted = chain.invoke({"text": passage.text})
        assert score_triples(predicted, passage.triples)["f1"] == 1.0


def test_records_hold_the_prompts_the_chain_sends_with_its_adapter(train):
    passage = train[5]
    sent = []

    def reply(messages, options):
        sent.append(messages)
        return [r["messages"][-1]["content"] for r in passage.records()][len(sent) - 1]

    # What the chain asks when its task adapter is in use: one direct step, no worked example.
    chain = TripleExtractionChain.from_model(FakeChatModel(fn=reply), facts_first=False)
    chain.few_shot = False
    chain.invoke({"text": passage.text})
    for record, messages in zip(passage.records(), sent, strict=True):
        prompt = record["messages"][:-1]
        assert [m["role"] for m in prompt] == ["system", "user"]
        assert [m["content"] for m in prompt[1:]] == [m.content for m in messages[1:]]
        assert prompt[0]["content"].startswith(messages[0].content + "\n\n")
        assert parse_record(record).completion == record["messages"][-1]["content"]
    assert passage.text in sent[0][-1].content


def test_held_out_phrasings_structures_entities_and_distractors_stay_out(train, test_set):
    held = {p.id for p in PHRASINGS if p.held_out}
    val = generate_passages("val", 40, seed=0)
    for passage in train + val:
        assert not held & set(passage.phrasings)
        assert passage.structure not in HELD_OUT_STRUCTURES
    assert len(test_set) >= 50
    for passage in test_set:
        assert held & set(passage.phrasings) or passage.structure in HELD_OUT_STRUCTURES
    test_names = [n for _, test in ENTITIES.values() for n in test] + DISTRACTORS[1]
    train_text = json.dumps([p.text for p in train + val])
    assert not [n for n in test_names if n in train_text]
    train_names = {n for train_pool, _ in ENTITIES.values() for n in train_pool}
    test_text = " ".join(p.text for p in test_set)
    assert not [n for n in train_names if len(n) > 5 and n in test_text]
