"""TripleExtractionChain on FakeChatModel: facts first, structured replies, normalisation."""

from __future__ import annotations

import json

import pytest
from langchain_core.exceptions import OutputParserException
from pydantic import ValidationError

from localchain.chains.triples import (
    Facts,
    Triple,
    TripleExtractionChain,
    Triples,
    entity_key,
    normalize_entity,
    normalize_relation,
    normalize_triples,
    score_triples,
)
from localchain.errors import ConfigError
from localchain.models.fake import FakeChatModel

TEXT = "Marie Curie was born in Warsaw. She won the Nobel Prize in 1903."
FACTS = {"facts": ["Marie Curie was born in Warsaw.", "Marie Curie won the Nobel Prize."]}
TRIPLES = {
    "triples": [
        {"subject": "Marie Curie", "relation": "was born in", "object": "Warsaw"},
        {"subject": "the  marie curie", "relation": "Won", "object": "The Nobel Prize"},
        {"subject": "Curie", "relation": "was born in", "object": "warsaw."},
    ]
}


def make_chain(*replies, **options):
    model = FakeChatModel(responses=[json.dumps(r) if isinstance(r, dict) else r for r in replies])
    return TripleExtractionChain.from_model(model, **options), model


def test_facts_then_triples_normalised_and_merged():
    chain, model = make_chain(FACTS, TRIPLES)
    triples = chain.invoke({"text": TEXT})
    assert triples == [
        Triple(subject="Marie Curie", relation="was_born_in", object="Warsaw"),
        Triple(subject="Marie Curie", relation="won", object="Nobel Prize"),
    ]
    assert len(model.calls) == 2
    assert TEXT in model.calls[0].messages[-1].content
    assert "- Marie Curie won the Nobel Prize." in model.calls[1].messages[-1].content
    # both steps are constrained to their schemas
    assert model.calls[0].options["response_format"]["title"] == "Facts"
    assert model.calls[1].options["response_format"]["title"] == "Triples"


def test_schemas_cap_lengths_so_small_models_stop():
    facts = Facts.model_json_schema()["properties"]["facts"]
    assert facts["maxItems"] == 6 and facts["items"]["maxLength"] == 100
    triples = Triples.model_json_schema()
    assert triples["properties"]["triples"]["maxItems"] == 8
    assert triples["$defs"]["Triple"]["properties"]["subject"]["maxLength"] == 60
    with pytest.raises(ValidationError):
        Triple(subject="", relation="r", object="o")


def test_without_facts_first_is_one_call_on_the_text():
    chain, model = make_chain(TRIPLES, facts_first=False)
    assert len(chain.invoke(TEXT)) == 2
    assert len(model.calls) == 1 and f"- {TEXT}" in model.calls[0].messages[-1].content


def test_normalize_false_keeps_raw_triples():
    chain, _ = make_chain(FACTS, TRIPLES, normalize=False)
    triples = chain.invoke({"text": TEXT})
    assert len(triples) == 3 and triples[1].subject == "the  marie curie"


def test_empty_text_and_no_facts_give_no_triples_without_extra_calls():
    chain, model = make_chain({"facts": []})
    assert chain.invoke({"text": "   "}) == []
    assert model.calls == []
    assert chain.invoke({"text": "Hello."}) == []
    assert len(model.calls) == 1


@pytest.mark.parametrize("bad", [{}, {"content": "x"}, 5, {"text": None}])
def test_bad_input_is_a_config_error(bad):
    chain, _ = make_chain(FACTS)
    with pytest.raises(ConfigError, match="text"):
        chain.invoke(bad)


def test_too_long_text_is_a_config_error():
    chain, _ = make_chain(FACTS, max_chars=10)
    with pytest.raises(ConfigError, match="max_chars=10"):
        chain.invoke("x" * 11)


def test_off_schema_reply_raises_output_parser_exception():
    chain, _ = make_chain("not json")
    with pytest.raises(OutputParserException):
        chain.invoke(TEXT)


async def test_ainvoke():
    chain, model = make_chain(FACTS, TRIPLES)
    triples = await chain.ainvoke({"text": TEXT})
    assert [t.relation for t in triples] == ["was_born_in", "won"]
    assert len(model.calls) == 2


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("  the  Eiffel   Tower. ", "Eiffel Tower"), ("An apple", "apple"), ("Paris's", "Paris"),
     ("The", "The"), ("\"Acme Corp\"", "Acme Corp"), ("Theodore", "Theodore")],
)  # fmt: skip
def test_normalize_entity(raw, clean):
    assert normalize_entity(raw) == clean


def test_entity_key_casefolds():
    assert entity_key("The STRASSE") == entity_key("strasse") == "strasse"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("Was Born In", "was_born_in"), ("works-for", "works_for"), (" CEO of ", "ceo_of"),
     ("is_a", "is_a"), ("!!", "")],
)  # fmt: skip
def test_normalize_relation(raw, clean):
    assert normalize_relation(raw) == clean


def test_aliases_merge_only_when_unambiguous():
    triples = normalize_triples(
        [
            Triple(subject="John Smith", relation="lives in", object="London"),
            Triple(subject="Jane Smith", relation="lives in", object="Paris"),
            Triple(subject="Smith", relation="owns", object="a dog"),  # two Smiths: kept apart
            Triple(subject="Obama", relation="visited", object="London"),
            Triple(subject="Barack Obama", relation="visited", object="London"),
            Triple(subject="London", relation="is", object="the london"),  # self-loop dropped
            Triple(subject="x", relation="?!", object="y"),  # empty relation dropped
        ]
    )
    assert [(t.subject, t.relation, t.object) for t in triples] == [
        ("John Smith", "lives_in", "London"),
        ("Jane Smith", "lives_in", "Paris"),
        ("Smith", "owns", "dog"),
        ("Barack Obama", "visited", "London"),
    ]


def test_score_triples_matches_on_normalised_keys():
    predicted = [
        Triple(subject="The Danube", relation="Flows through", object="vienna"),
        Triple(subject="Danube", relation="passes", object="Budapest"),
        Triple(subject="Budapest", relation="is in", object="Europe"),
    ]
    gold = [["Danube", "flows_through", "Vienna"], ["Danube", "flows_through", "Budapest"]]
    strict = score_triples(predicted, gold)
    assert (strict["tp"], strict["precision"], strict["recall"]) == (1, 1 / 3, 1 / 2)
    pairs = score_triples(predicted, gold, relation=False)
    assert (pairs["tp"], pairs["precision"], pairs["recall"]) == (2, 2 / 3, 1.0)
    assert score_triples([], gold)["f1"] == 0.0


def test_repeated_facts_are_sent_once():
    facts = {"facts": ["Ada was born in London.", "1903", "1903", "ada  was born in London."]}
    chain, model = make_chain(facts, {"triples": []})
    assert chain.invoke(TEXT) == []
    assert model.calls[1].messages[-1].content == "Facts:\n- Ada was born in London.\n- 1903"
