from __future__ import annotations

import pytest
from langchain_core.prompts import ChatPromptTemplate, PromptTemplate

from localchain.errors import ConfigError
from localchain.prompts import (
    StrictChatPromptTemplate,
    StrictPromptTemplate,
    get_prompt,
    validated_prompt,
)


def test_get_prompt_checks_declared_variables():
    prompt = get_prompt("qa", variables=["question", "context"])
    assert sorted(prompt.input_variables) == ["context", "question"]
    with pytest.raises(ConfigError, match=r"needs variables 'context'.*declared: 'question'"):
        get_prompt("qa", variables=["question"])
    with pytest.raises(ConfigError, match=r"no variables 'query'"):
        get_prompt("qa", variables=["question", "context", "query"])


def test_declared_variables_account_for_bound_values():
    get_prompt("classify", variables=["text"], values={"options": ["a", "b"]})
    get_prompt("classify", variables=["text", "options"], values={"options": ["a", "b"]})
    with pytest.raises(ConfigError, match="'text'"):
        get_prompt("classify", variables=[], values={"options": ["a"]})


@pytest.mark.parametrize("kind", ["chat", "seq2seq"])
def test_invoke_missing_and_unknown_are_config_errors(kind):
    prompt = get_prompt("qa", kind=kind)
    with pytest.raises(ConfigError, match="missing variables 'context'"):
        prompt.invoke({"question": "Q?"})
    with pytest.raises(ConfigError, match="unknown variables 'extra'"):
        prompt.invoke({"question": "Q?", "context": "C.", "extra": 1})
    with pytest.raises(ConfigError, match="unknown variables 'extra'"):
        prompt.format(question="Q?", context="C.", extra=1)
    with pytest.raises(ConfigError, match="missing"):
        prompt.format(question="Q?")


async def test_ainvoke_checks_too():
    prompt = get_prompt("qa")
    with pytest.raises(ConfigError, match="unknown variables 'x'"):
        await prompt.ainvoke({"question": "Q?", "context": "C.", "x": 1})
    value = await prompt.ainvoke({"question": "Q?", "context": "C."})
    assert "Question: Q?" in value.to_string()


def test_allow_extra_ignores_unknown_keys():
    prompt = get_prompt("summarize", kind="seq2seq", allow_extra=True)
    assert prompt.invoke({"text": "T", "session": 1}).to_string().endswith("T")


def test_validated_prompt_from_string():
    prompt = validated_prompt("Q: {question}\nA:", input_variables=["question"])
    assert isinstance(prompt, StrictPromptTemplate)
    assert prompt.invoke({"question": "why?"}).to_string() == "Q: why?\nA:"
    assert prompt.invoke("why?").to_string() == "Q: why?\nA:"  # one variable: bare input
    with pytest.raises(ConfigError, match=r"needs variables 'question'"):
        validated_prompt("Q: {question}", input_variables=[])
    with pytest.raises(ConfigError, match=r"no variables 'topic'"):
        validated_prompt("Q: {question}", input_variables=["question", "topic"])


def test_validated_prompt_from_templates():
    chat = ChatPromptTemplate.from_messages([("system", "Be {tone}."), ("human", "{input}")])
    strict = validated_prompt(chat, input_variables=["tone", "input"])
    assert isinstance(strict, StrictChatPromptTemplate)
    assert len(strict.invoke({"tone": "brief", "input": "hi"}).to_messages()) == 2
    with pytest.raises(ConfigError, match="'tone'"):
        validated_prompt(chat, input_variables=["input"])
    partial = PromptTemplate.from_template("{a} {b}").partial(b="B")
    assert validated_prompt(partial, input_variables=["a"]).format(a="A") == "A B"
    assert validated_prompt(partial, input_variables=["a", "b"]).format(a="A", b="C") == "A C"
    with pytest.raises(ConfigError, match="not int"):
        validated_prompt(3, input_variables=[])


def test_strict_partial_keeps_checking():
    prompt = get_prompt("translate", kind="seq2seq").partial(target_language="German")
    assert isinstance(prompt, StrictPromptTemplate)
    with pytest.raises(ConfigError, match="unknown variables 'lang'"):
        prompt.invoke({"text": "Hi", "lang": "x"})


def test_nesting_a_strict_chat_prompt_is_not_blocked():
    inner = validated_prompt(
        ChatPromptTemplate.from_messages([("human", "{a}")]), input_variables=["a"]
    )
    outer = ChatPromptTemplate.from_messages([("system", "{b}"), inner])
    assert len(outer.invoke({"a": "A", "b": "B"}).to_messages()) == 2
