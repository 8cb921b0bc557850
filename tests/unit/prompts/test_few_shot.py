from __future__ import annotations

import pytest
from langchain_core.embeddings import Embeddings
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.prompts import FewShotChatMessagePromptTemplate, FewShotPromptTemplate

from localchain.errors import ConfigError
from localchain.prompts import (
    LengthExampleSelector,
    SimilarityExampleSelector,
    StrictChatPromptTemplate,
    few_shot_prompt,
)

TOPICS = {
    "plus": 0, "sum": 0, "add": 0, "minus": 0, "number": 0,
    "capital": 1, "city": 1, "country": 1, "france": 1, "paris": 1,
    "dog": 2, "cat": 2, "pet": 2, "bark": 2,
    "meow": 3,
}  # fmt: skip


class TopicEmbeddings(Embeddings):
    """Bag of topic words: texts about the same topic point the same way."""

    def __init__(self):
        self.documents = 0

    def _embed(self, text):
        vector = [0.0, 0.0, 0.0, 0.0, 0.01]
        for word in text.lower().replace("?", " ").split():
            if word in TOPICS:
                vector[TOPICS[word]] += 1.0
        return vector

    def embed_documents(self, texts):
        self.documents += len(texts)
        return [self._embed(t) for t in texts]

    def embed_query(self, text):
        return self._embed(text)


EXAMPLES = [
    {"question": "what is two plus two", "answer": "4"},
    {"question": "which city is the capital of france", "answer": "Paris"},
    {"question": "does a dog bark", "answer": "yes"},
    {"question": "what is the sum of one and one", "answer": "2"},
]


def test_similarity_picks_same_topic():
    embeddings = TopicEmbeddings()
    prompt = few_shot_prompt(
        EXAMPLES,
        ("{question}", "{answer}"),
        selector="similarity",
        k=2,
        embeddings=embeddings,
        system="Answer briefly.",
        suffix="{question}",
    )
    assert isinstance(prompt, StrictChatPromptTemplate)
    messages = prompt.invoke({"question": "add three plus one"}).to_messages()
    assert [type(m) for m in messages] == [
        SystemMessage, HumanMessage, AIMessage, HumanMessage, AIMessage, HumanMessage
    ]  # fmt: skip
    assert [m.content for m in messages[1:5:2]] == [
        "what is two plus two",
        "what is the sum of one and one",
    ]
    messages = prompt.invoke({"question": "is a cat a pet"}).to_messages()
    assert messages[1].content == "does a dog bark"
    assert embeddings.documents == len(EXAMPLES)  # example vectors computed once


def test_similarity_selector_direct_and_add_example():
    selector = SimilarityExampleSelector(examples=list(EXAMPLES), embeddings=TopicEmbeddings(), k=1)
    assert selector.select_examples({"question": "paris country"}) == [EXAMPLES[1]]
    assert selector.select_examples({"question": "cat says meow"}) == [EXAMPLES[2]]
    selector.add_example({"question": "my cat says meow", "answer": "meow"})
    assert selector.select_examples({"question": "cat says meow"})[0]["answer"] == "meow"
    with pytest.raises(ConfigError, match="input_keys"):
        selector.select_examples({"query": "x"})


def test_length_selector_budget_in_characters():
    selector = LengthExampleSelector(examples=EXAMPLES, max_length=60)
    # input "hi" (2 chars) leaves 58; example texts are question + newline + answer
    sizes = [len(f"{e['question']}\n{e['answer']}") for e in EXAMPLES]
    assert sizes[0] <= 58 < sizes[0] + sizes[1]
    assert selector.select_examples({"question": "hi"}) == EXAMPLES[:1]
    assert selector.select_examples({"question": "x" * 60}) == []


def test_length_selector_with_token_counter():
    words = LengthExampleSelector(
        examples=EXAMPLES, max_length=12, length_function=lambda s: len(s.split())
    )
    # 2 words of input; examples are 5, 7, ... words
    assert words.select_examples({"question": "two words"}) == EXAMPLES[:1]
    assert (
        LengthExampleSelector(examples=EXAMPLES, max_length=999, k=3).select_examples({})
        == (EXAMPLES[:3])
    )


def test_few_shot_length_string_form():
    prompt = few_shot_prompt(
        EXAMPLES,
        ("Q: {question}", "A: {answer}"),
        kind="seq2seq",
        selector="length",
        max_length=80,  # 2 for the input, 27 + 47 for two examples; the third does not fit
        system="Answer the questions.",
        suffix="Q: {question}\nA:",
    )
    assert isinstance(prompt, FewShotPromptTemplate)
    assert prompt.format(question="hi") == (
        "Answer the questions.\n\nQ: what is two plus two\nA: 4\n\n"
        "Q: which city is the capital of france\nA: Paris\n\nQ: hi\nA:"
    )


def test_few_shot_all_and_k_without_suffix():
    prompt = few_shot_prompt(EXAMPLES, ("{question}", "{answer}"), k=2)
    assert isinstance(prompt, FewShotChatMessagePromptTemplate)
    assert [m.content for m in prompt.format_messages()] == ["what is two plus two", "4"] + [
        "which city is the capital of france",
        "Paris",
    ]


def test_few_shot_build_errors():
    with pytest.raises(ConfigError, match=r"Example 1 lacks \['answer'\]"):
        few_shot_prompt([EXAMPLES[0], {"question": "q"}], ("{question}", "{answer}"))
    with pytest.raises(ConfigError, match="max_length"):
        few_shot_prompt(EXAMPLES, ("{question}", "{answer}"), selector="length")
    with pytest.raises(ConfigError, match="Unknown example selector"):
        few_shot_prompt(EXAMPLES, ("{question}", "{answer}"), selector="random")
    with pytest.raises(ConfigError, match="pair"):
        few_shot_prompt(EXAMPLES, "{question} {answer}")


def test_few_shot_checks_invoke_variables():
    prompt = few_shot_prompt(EXAMPLES, ("{question}", "{answer}"), suffix="{question}")
    with pytest.raises(ConfigError, match="unknown variables 'topic'"):
        prompt.invoke({"question": "q", "topic": "t"})
