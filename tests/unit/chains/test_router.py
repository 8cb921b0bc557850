"""RouterChain: by a constrained classifier call and by embedding similarity."""

from __future__ import annotations

import pytest
from langchain_core.embeddings import Embeddings
from langchain_core.exceptions import OutputParserException
from langchain_core.runnables import RunnableLambda

from localchain.chains import Route, RouterChain
from localchain.errors import ConfigError
from localchain.models import FakeChatModel

ROUTES = [
    ("physics", "Questions about physics, forces and energy", RunnableLambda(lambda x: "P")),
    ("cooking", "Recipes, baking and cooking", RunnableLambda(lambda x: "C")),
]
DEFAULT = RunnableLambda(lambda x: "D")


class TopicEmbeddings(Embeddings):
    WORDS = ["physics", "force", "energy", "cook", "bak", "recipe"]

    def _embed(self, text):
        text = text.lower()
        return [float(text.count(w)) for w in self.WORDS] + [0.05]

    def embed_documents(self, texts):
        return [self._embed(t) for t in texts]

    def embed_query(self, text):
        return self._embed(text)


def test_classifier_routes_with_a_constrained_schema():
    model = FakeChatModel(responses=['{"destination": "cooking"}'])
    router = RouterChain.from_model(model, ROUTES)
    assert router.invoke({"input": "How do I bake bread?"}) == "C"
    call = model.calls[0]
    schema = call.options["response_format"]
    assert "physics" in str(schema) and "cooking" in str(schema)
    assert "Recipes, baking and cooking" in call.messages[0].text


async def test_classifier_async_batch_and_route_name():
    model = FakeChatModel(fn=lambda m, o: '{"destination": "physics"}')
    router = RouterChain.from_model(model, {n: (d, r) for n, d, r in ROUTES})
    assert await router.ainvoke("What is energy?") == "P"
    assert router.batch(["a", "b"]) == ["P", "P"]
    assert await router.abatch(["a"]) == ["P"]
    assert router.route("x") == "physics"
    assert await router.aroute("x") == "physics"


@pytest.mark.parametrize("reply", ["not json", '{"destination": "astrology"}', "{}"])
def test_malformed_classifier_output_uses_default_or_raises(reply):
    router = RouterChain.from_model(FakeChatModel(fn=lambda m, o: reply), ROUTES, default=DEFAULT)
    assert router.invoke("x") == "D"
    strict = RouterChain.from_model(FakeChatModel(fn=lambda m, o: reply), ROUTES)
    with pytest.raises(OutputParserException, match="no default route"):
        strict.invoke("x")


def test_embedding_router_picks_the_closest_description_and_streams():
    router = RouterChain.from_embeddings(TopicEmbeddings(), ROUTES)
    assert router.invoke("a recipe for baking") == "C"
    assert router.invoke({"input": "force and energy"}) == "P"
    assert list(router.stream("physics")) == ["P"]


async def test_embedding_router_threshold_and_default():
    router = RouterChain.from_embeddings(TopicEmbeddings(), ROUTES, default=DEFAULT, threshold=0.5)
    assert await router.ainvoke("the weather today") == "D"
    assert await router.ainvoke("energy") == "P"
    assert router.route("the weather today") is None


def test_bad_routes_and_inputs():
    with pytest.raises(ConfigError, match="at least one route"):
        RouterChain.from_model(FakeChatModel(responses=[]), [])
    with pytest.raises(ConfigError, match="unique"):
        RouterChain.from_model(FakeChatModel(responses=[]), ROUTES + [ROUTES[0]])
    with pytest.raises(ConfigError, match="description"):
        RouterChain.from_model(FakeChatModel(responses=[]), [Route("a", " ", DEFAULT)])
    with pytest.raises(ConfigError, match="Route 0"):
        RouterChain.from_model(FakeChatModel(responses=[]), ["physics"])
    with pytest.raises(ConfigError, match="threshold needs a default"):
        RouterChain.from_embeddings(TopicEmbeddings(), ROUTES, threshold=0.5)
    router = RouterChain.from_embeddings(TopicEmbeddings(), ROUTES)
    with pytest.raises(ConfigError, match="key 'input'"):
        router.invoke({"question": "x"})
