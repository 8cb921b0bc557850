"""``call_patterns``: the schema a model sees holds it to a shape; the tool still takes anything.

The calculator's expression may use only numbers, operators and its own names; the SQL tool's
query must start a SELECT. ``ChatLocal``'s grammar enforces the pattern, so a 135M model writes
``SELECT ...`` rather than a sentence; the tools keep answering other input with their own
messages.
"""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from langchain_core.utils.function_calling import convert_to_openai_tool

from localchain.models.tool_calling import tool_call_schema, tools_system_prompt
from localchain.tools import calculator, sql_tool
from localchain.tools.arithmetic import EXPRESSION_PATTERN
from localchain.tools.sql import SQL_QUERY_PATTERN


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "shop.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (name TEXT, n INTEGER)")
        conn.execute("INSERT INTO t VALUES ('Al', 2)")
    conn.close()
    return path


def _parameters(tool) -> dict:
    return convert_to_openai_tool(tool)["function"]["parameters"]


def test_models_see_the_patterns(db):
    assert _parameters(calculator)["properties"]["expression"]["pattern"] == EXPRESSION_PATTERN
    assert _parameters(sql_tool(db))["properties"]["query"]["pattern"] == SQL_QUERY_PATTERN
    # The rest of the schema is unchanged (description, required).
    query = _parameters(sql_tool(db))
    assert query["required"] == ["query"]
    assert query["properties"]["query"]["description"] == "One SQLite SELECT statement."


def test_the_tools_still_take_anything_and_answer_with_their_own_messages(db):
    assert "not a valid expression" in calculator.invoke({"expression": "the number"})
    refused = sql_tool(db).invoke({"query": "DELETE FROM t"})
    assert refused.startswith("Refused: the database is read-only")


@pytest.mark.parametrize(
    ("pattern", "good", "bad"),
    [
        (
            EXPRESSION_PATTERN,
            ["17 * 23", "15% of 80", "sqrt(2) * 10", "round(1234 * 0.07, 2)", "2^10 - pi", "6÷3"],
            ["The number is 5", "Marie Curie", "range(1, 5)", "x + 1", ""],
        ),
        (
            SQL_QUERY_PATTERN,
            ["SELECT name FROM t WHERE name = 'Al'", "select 1", "WITH x AS (SELECT 1) SELECT 2"],
            ["Marie Curie", "100", "SELECT a}}", 'SELECT "name" FROM t', "SELECT a\nFROM t"],
        ),
    ],
)
def test_patterns_accept_the_tool_language_only(pattern, good, bad):
    assert all(re.search(pattern, text) for text in good)
    assert not any(re.search(pattern, text) for text in bad)


def test_the_grammar_enforces_the_patterns(tiny_decoder_path, db):
    """xgrammar holds a reply to the pattern exactly where the regex does (same verdicts)."""
    import xgrammar as xgr
    from transformers import AutoTokenizer

    from localchain.models.constrained import compile_json_schema

    tokenizer = AutoTokenizer.from_pretrained(tiny_decoder_path)
    cases = [
        (calculator, "expression", ["17 * 23", "15% of 80"], ["The number is 5", "range(1)"]),
        (sql_tool(db), "query", ["SELECT n FROM t WHERE name = 'Al'"], ["Marie Curie", "100"]),
    ]
    for tool, arg, good, bad in cases:
        schema = tool_call_schema([convert_to_openai_tool(tool)], tool.name)
        grammar = compile_json_schema(tokenizer, schema)
        for value, expected in [(v, True) for v in good] + [(v, False) for v in bad]:
            matcher = xgr.GrammarMatcher(grammar)
            reply = json.dumps({"name": tool.name, "arguments": {arg: value}})
            complete = matcher.accept_string(reply) and matcher.accept_token(tokenizer.eos_token_id)
            assert complete is expected, (tool.name, value)


def test_the_prompt_leaves_the_regex_out(db):
    prompt = tools_system_prompt([convert_to_openai_tool(sql_tool(db))], "auto")
    assert "sql_query" in prompt and "One SQLite SELECT statement." in prompt
    assert "pattern" not in prompt and "[^{}" not in prompt


def test_a_pattern_for_an_argument_the_schema_lacks_is_ignored():
    from localchain.tools.arithmetic import CalculatorTool

    class Other(CalculatorTool):
        call_patterns = {"nothing": "^x$"}

    params = _parameters(Other())
    assert "pattern" not in params["properties"]["expression"]
