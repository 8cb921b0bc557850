"""Property-based tests over the public entry points that take user data.

Each generated input must end in a right answer or one of our errors (a ``LocalchainError``
subclass, or langchain's ``OutputParserException`` for a reply that does not parse) with a
message: never another exception type, a hang or a partial result. Example counts are small so
the whole file runs in well under a minute; in CI the examples are fixed (see conftest.py).
"""

from __future__ import annotations

import json
import math
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.embeddings import Embeddings
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, HumanMessage

from localchain.errors import ConfigError, LocalchainError

FEW = settings(max_examples=40)
VERY_FEW = settings(max_examples=10)


def _ours(err: BaseException) -> None:
    """Fail unless ``err`` is one of the errors localchain means to raise, with a message."""
    assert isinstance(err, LocalchainError | OutputParserException), f"{type(err).__name__}: {err}"
    assert str(err).strip(), f"{type(err).__name__} without a message"


def _outcome(call: Any) -> tuple[Any, BaseException | None]:
    """Run ``call()``: its value and None, or None and the error (checked to be ours)."""
    try:
        return call(), None
    except Exception as err:  # noqa: BLE001 - the property under test: only our errors
        _ours(err)
        return None, err


@pytest.fixture(scope="module")
def chat(tiny_decoder_path):
    from localchain.models.chat import ChatLocal

    model = ChatLocal(model=str(tiny_decoder_path), device="cpu", max_tokens=3, truncation="left")
    model._get_engine()  # load once, outside the examples
    return model


# --- generation settings -------------------------------------------------------------------------

numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
)
words = st.text(alphabet=string.ascii_letters + string.digits + ":_- ", max_size=12)
settings_values = st.fixed_dictionaries(
    {},
    optional={
        "max_tokens": numbers,
        "temperature": numbers,
        "top_p": numbers,
        "top_k": numbers,
        "seed": numbers,
        "stop": st.one_of(st.lists(st.text(max_size=4), max_size=3), st.none()),
        "truncation": st.one_of(st.sampled_from(["error", "left"]), words),
        "device": st.one_of(st.sampled_from(["auto", "cpu", "cuda:0"]), words),
        "dtype": st.one_of(st.sampled_from(["auto", "float32", "bfloat16"]), words),
        "quantization": st.one_of(st.sampled_from([None, "int8", "nf4"]), words),
        "engine": st.one_of(st.sampled_from(["transformers", "llama_cpp"]), words),
        "model": st.one_of(words, st.just("")),
    },
)


@FEW
@given(values=settings_values)
def test_model_settings_are_accepted_or_refused_clearly(values):
    from localchain.models.chat import ChatLocal
    from localchain.models.llm import LocalLLM

    for cls in (ChatLocal, LocalLLM):
        model, err = _outcome(lambda cls=cls: cls(**values))
        if err is not None:
            assert isinstance(err, ConfigError)
            continue
        config = model._generation_config(None)
        assert config.max_new_tokens >= 1 and config.temperature >= 0
        assert math.isfinite(config.temperature) and 0 < config.top_p <= 1


call_options = st.fixed_dictionaries(
    {},
    optional={
        "max_tokens": st.one_of(st.integers(min_value=-5, max_value=3), st.floats(), st.text()),
        "max_new_tokens": st.integers(min_value=-2, max_value=3),
        "temperature": st.one_of(st.floats(min_value=-1, max_value=3), st.just(float("nan"))),
        "top_p": st.floats(min_value=-0.5, max_value=1.5),
        "top_k": st.integers(min_value=-3, max_value=50),
        "seed": st.one_of(st.integers(min_value=-(2**65), max_value=2**65), st.none()),
        "stop": st.lists(st.text(max_size=3), max_size=2),
        "truncation": st.sampled_from(["error", "left", "right"]),
        "frequency_penalty": st.floats(min_value=0, max_value=1),
    },
)


@VERY_FEW
@given(options=call_options)
def test_per_call_options_generate_or_fail_clearly(chat, options):
    try:
        reply = chat.invoke("hello", **options)
    except Exception as err:  # noqa: BLE001
        _ours(err)
        return
    assert isinstance(reply, AIMessage) and isinstance(reply.content, str)
    rest = dict(options)
    limit = chat._generation_config(rest.pop("stop", None), **rest).max_new_tokens
    assert reply.usage_metadata["output_tokens"] <= limit


# --- messages ------------------------------------------------------------------------------------

blocks = st.one_of(
    st.text(max_size=8),
    st.fixed_dictionaries({"type": st.just("text"), "text": st.text(max_size=8)}),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["image_url", "image", "input_audio", "file", "video", "x"])}
    ),
    st.dictionaries(st.sampled_from(["type", "text", "data"]), st.text(max_size=5), max_size=3),
)
contents = st.one_of(st.text(max_size=10), st.none(), st.lists(blocks, max_size=3), st.integers())
roles = st.sampled_from(["user", "assistant", "system", "human", "ai", "tool", "robot", ""])
message_like = st.one_of(
    st.text(max_size=10),
    st.tuples(roles, contents),
    st.fixed_dictionaries({"role": roles, "content": contents}),
    st.builds(HumanMessage, content=st.text(max_size=10)),
    st.integers(),
    st.none(),
)
chat_inputs = st.one_of(st.text(max_size=20), st.lists(message_like, max_size=4), st.integers())


@FEW
@given(value=chat_inputs)
def test_messages_render_or_fail_clearly(chat, value):
    from localchain.models.tool_calling import render_tool_messages

    try:
        messages = chat._convert_input(value).to_messages()
        rendered = render_tool_messages(messages)
    except Exception as err:  # noqa: BLE001
        _ours(err)
        return
    assert all(isinstance(m["content"], str) for m in rendered)


@VERY_FEW
@given(value=chat_inputs)
def test_messages_generate_or_fail_clearly(chat, value):
    try:
        reply = chat.invoke(value)
    except Exception as err:  # noqa: BLE001
        _ours(err)
        return
    assert isinstance(reply, AIMessage)


# --- JSON schemas and tool specs -----------------------------------------------------------------

PATTERNS = [r"^[a-z]{1,4}$", r"^(?=.*\d)[a-z0-9]{3,8}$", r"(a)\1", r"[", r"\p{L}+", r"^\d+$"]
FORMATS = ["email", "date-time", "date", "uri", "uuid", "ipv4", "nonsense"]
leaf_schemas = st.one_of(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["string", "integer", "number", "boolean", "null", "strin", 3])},
        optional={
            "pattern": st.sampled_from(PATTERNS),
            "format": st.sampled_from(FORMATS),
            "minLength": st.integers(min_value=-1, max_value=5),
            "maxLength": st.integers(min_value=0, max_value=5),
            "minimum": st.integers(min_value=-5, max_value=5),
            "maximum": st.integers(min_value=-5, max_value=5),
            "enum": st.lists(st.one_of(st.text(max_size=4), st.integers()), max_size=4),
            "description": st.text(max_size=10),
        },
    ),
    st.just({}),
    st.just({"$ref": "#/$defs/Missing"}),
)
field_names = st.text(alphabet=string.ascii_letters + "_", min_size=1, max_size=6)
schemas = st.recursive(
    leaf_schemas,
    lambda inner: st.one_of(
        st.fixed_dictionaries(
            {
                "type": st.just("object"),
                "properties": st.dictionaries(field_names, inner, max_size=3),
            },
            optional={
                "required": st.lists(field_names, max_size=2),
                "additionalProperties": st.booleans(),
                "title": field_names,
            },
        ),
        st.fixed_dictionaries(
            {"type": st.just("array"), "items": inner},
            optional={"minItems": st.integers(min_value=0, max_value=2)},
        ),
        st.fixed_dictionaries({"anyOf": st.lists(inner, min_size=1, max_size=2)}),
    ),
    max_leaves=5,
)


@FEW
@given(schema=schemas, method=st.sampled_from(["json_schema", "function_calling", "json_mode"]))
def test_structured_output_schemas_compile_or_fail_clearly(chat, schema, method):
    from localchain.models.constrained import compile_json_schema

    try:
        titled = {"title": "Reply", **schema}
        chat.with_structured_output(titled, method=method)
        compile_json_schema(chat._get_engine().loaded.tokenizer, titled)
    except Exception as err:  # noqa: BLE001
        _ours(err)


tool_specs = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.just("function"),
            "function": st.fixed_dictionaries(
                {"name": st.one_of(field_names, st.integers())},
                optional={"description": st.text(max_size=10), "parameters": schemas},
            ),
        }
    ),
    st.dictionaries(st.sampled_from(["name", "type", "parameters"]), st.text(max_size=4)),
    st.integers(),
    st.text(max_size=5),
)


@FEW
@given(
    tools=st.lists(tool_specs, max_size=3),
    tool_choice=st.one_of(
        st.sampled_from(["auto", "any", "required", "none", True, False, None]), field_names
    ),
)
def test_tool_specs_bind_or_fail_clearly(chat, tools, tool_choice):
    from localchain.models.constrained import compile_json_schema
    from localchain.models.tool_calling import tool_call_schema, tools_system_prompt

    try:
        bound = chat.bind_tools(tools, tool_choice=tool_choice)
        formatted = bound.kwargs["tools"]
        if formatted and tool_choice != "none":
            schema = tool_call_schema(formatted, tool_choice)
            tools_system_prompt(formatted, tool_choice)
            compile_json_schema(chat._get_engine().loaded.tokenizer, schema)
    except Exception as err:  # noqa: BLE001
        _ours(err)


@FEW
@given(schema=schemas, text=st.one_of(st.text(max_size=30), st.just('{"a": 1'), st.just("[1, 2]")))
def test_replies_parse_fully_or_fail_clearly(schema, text):
    import jsonschema

    from localchain.models.chat import StructuredOutputParser

    message = AIMessage(text, response_metadata={"finish_reason": "stop"})
    try:
        value = StructuredOutputParser(reply_schema=schema).invoke(message)
    except Exception as err:  # noqa: BLE001
        _ours(err)
        return
    # Never a partial object: what comes back is the whole reply, valid against the schema.
    assert value == json.loads(text, strict=False)
    jsonschema.validate(value, schema)


@VERY_FEW
@given(schema=schemas)
def test_structured_output_generates_or_fails_clearly(chat, schema):
    try:
        value = chat.with_structured_output({"title": "Reply", **schema}).invoke("hi")
    except Exception as err:  # noqa: BLE001
        _ours(err)
        return
    import jsonschema

    jsonschema.validate(value, schema)


# --- sandbox limits ------------------------------------------------------------------------------


@FEW
@given(
    values=st.fixed_dictionaries(
        {},
        optional={
            "timeout_s": numbers,
            "memory_mb": numbers,
            "max_output_bytes": numbers,
            "max_source_chars": st.one_of(numbers, st.integers(0, 20_000_000)),
        },
    )
)
def test_sandbox_limits_are_accepted_or_refused_clearly(values):
    from localchain.sandbox import SandboxLimits

    limits, err = _outcome(lambda: SandboxLimits(**values))
    if err is not None:
        assert isinstance(err, ConfigError)
        return
    assert 0 < limits.timeout_s <= 3600 and limits.max_source_chars <= 2_000_000


@FEW
@given(code=st.text(max_size=60))
def test_programs_are_validated_or_refused_clearly(code):
    from localchain.sandbox import validate_program

    try:
        validate_program(code)
    except Exception as err:  # noqa: BLE001
        _ours(err)


# --- vector-store files --------------------------------------------------------------------------


class _Embeddings(Embeddings):
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return [1.0 + text.count("a"), 1.0 + text.count("e"), 1.0 + len(text) % 3]


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 10), st.text(max_size=5)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
documents = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "id": json_values,
            "int_id": st.one_of(st.integers(-1, 4), json_values),
            "page_content": st.one_of(st.text(max_size=5), json_values),
            "metadata": json_values,
        },
    ),
    max_size=4,
)
docstores = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"format": st.just("localchain-faiss"), "version": st.sampled_from([1, 2, "1"])},
        optional={
            "dimension": st.one_of(st.none(), st.integers(0, 4), st.text(max_size=2)),
            "next_int_id": st.one_of(st.integers(-2, 5), st.text(max_size=2)),
            "documents": st.one_of(documents, json_values),
            "metric": st.text(max_size=6),
        },
    ),
)


@pytest.fixture(scope="module")
def good_index(tmp_path_factory) -> bytes:
    from localchain.index import FaissStore

    folder = FaissStore.from_texts(["a", "ee"], _Embeddings(), ids=["x", "y"]).save_local(
        tmp_path_factory.mktemp("store")
    )
    return (folder / "index.faiss").read_bytes()


@FEW
@given(
    docstore=docstores,
    index=st.one_of(st.none(), st.binary(max_size=64), st.just(b"good")),
)
def test_vector_store_files_load_or_fail_clearly(tmp_path_factory, good_index, docstore, index):
    from localchain.errors import VectorStoreError
    from localchain.index import FaissStore

    folder: Path = tmp_path_factory.mktemp("fuzzed")
    (folder / "docstore.json").write_text(json.dumps(docstore), encoding="utf-8")
    if index is not None:
        (folder / "index.faiss").write_bytes(good_index if index == b"good" else index)
    store, err = _outcome(lambda: FaissStore.load_local(folder, _Embeddings()))
    if err is not None:
        assert isinstance(err, VectorStoreError)
        assert "docstore.json" in str(err) or "index.faiss" in str(err), str(err)
        return
    # A store that loads answers queries.
    results: list[Any] = store.similarity_search("a", k=2)
    assert len(results) == min(2, len(store))
