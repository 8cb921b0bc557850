"""SequentialChain: wiring checked at build time, LCEL behaviour at run time."""

from __future__ import annotations

import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import PromptTemplate
from langchain_core.runnables import RunnableLambda

from localchain.chains import SequentialChain, Step
from localchain.errors import ConfigError
from localchain.models import FakeChatModel
from localchain.prompts import get_prompt


def _echo(messages, options):
    return "summary of: " + messages[-1].text.splitlines()[-1]


def _chain(model):
    title = PromptTemplate.from_template("Title for {summary}")
    return SequentialChain(
        [
            ("summary", get_prompt("summarize", kind="chat") | model | StrOutputParser()),
            ("title", title | model | StrOutputParser()),
            Step("shout", RunnableLambda(lambda d: d["title"].upper()), inputs=("title",)),
        ],
        input_variables=["text"],
    )


def test_runs_steps_in_order_passing_named_outputs():
    chain = _chain(FakeChatModel(fn=_echo))
    out = chain.invoke({"text": "cats sleep"})
    assert out["summary"] == "summary of: cats sleep"
    assert out["title"] == "summary of: Title for summary of: cats sleep"
    assert out["shout"] == out["title"].upper()


async def test_batch_async_and_stream():
    chain = _chain(FakeChatModel(fn=_echo))
    outs = chain.batch([{"text": "a"}, {"text": "b"}])
    assert [o["summary"] for o in outs] == ["summary of: a", "summary of: b"]
    out = await chain.ainvoke({"text": "c"})
    assert out["summary"] == "summary of: c"
    outs = await chain.abatch([{"text": "d"}])
    assert outs[0]["summary"] == "summary of: d"
    chunks = list(chain.stream({"text": "e"}))
    assert chunks[-1]["summary"] == "summary of: e"
    assert chain.invoke("f")["summary"] == "summary of: f"  # one input variable: bare value


def test_missing_variables_are_named_at_build_time():
    prompt = PromptTemplate.from_template("{summary} in {language}")
    with pytest.raises(ConfigError, match=r"needs variables \['language'\]"):
        SequentialChain(
            [("summary", RunnableLambda(lambda d: "s")), ("out", prompt)],
            input_variables=["text"],
        )
    with pytest.raises(ConfigError, match=r"needs variables \['nope'\]"):
        SequentialChain([Step("x", RunnableLambda(len), ("nope",))], input_variables=["text"])


def test_other_build_errors():
    step = ("x", RunnableLambda(lambda d: 1))
    with pytest.raises(ConfigError, match="at least one step"):
        SequentialChain([], input_variables=["a"])
    with pytest.raises(ConfigError, match="already an input"):
        SequentialChain([("a", RunnableLambda(lambda d: 1))], input_variables=["a"])
    with pytest.raises(ConfigError, match="not produced"):
        SequentialChain([step], input_variables=["a"], output_variables=["y"])
    with pytest.raises(ConfigError, match="Step 0"):
        SequentialChain(["bad"], input_variables=["a"])
    with pytest.raises(ConfigError, match="list of names"):
        SequentialChain([step], input_variables="a")


def test_missing_input_at_run_time():
    chain = SequentialChain(
        [("x", RunnableLambda(lambda d: 1))], input_variables=["a", "b"], output_variables=["x"]
    )
    with pytest.raises(ConfigError, match=r"missing variables \['b'\]"):
        chain.invoke({"a": 1})
    with pytest.raises(ConfigError, match="takes a dict"):
        chain.invoke("text")
    assert chain.invoke({"a": 1, "b": 2}) == {"x": 1}
