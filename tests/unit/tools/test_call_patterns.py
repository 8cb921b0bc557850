"""``call_patterns`` and ``call_schema_extras``: the schema a model sees holds it to a shape and
to names that exist; the tool still takes anything.

The calculator's expression may use only numbers, operators and its own names; the SQL tool's
query must start a SELECT and use the database's own tables and columns; a file path names a
file under the folder, an entity one of the graph's. ``ChatLocal``'s grammar enforces them, so
a 135M model writes ``SELECT ...`` rather than a sentence and ``falcon.md`` rather than an
invented ``notes.txt``; the tools keep answering other input with their own messages.
"""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from langchain_core.utils.function_calling import convert_to_openai_tool

from localchain.chains import KnowledgeGraph, Triple
from localchain.models.tool_calling import SHOWN_ENUM, tool_call_schema, tools_system_prompt
from localchain.tools import calculator, knowledge_graph_tool, read_file_tool, sql_tool
from localchain.tools._builtin import json_safe_names
from localchain.tools.arithmetic import EXPRESSION_PATTERN
from localchain.tools.sql import (
    GAP_CHARS,
    SELECT_WORDS,
    SQL_QUERY_PATTERN,
    TAIL_WORDS,
    grounded_query_pattern,
)


@pytest.fixture
def docs(tmp_path):
    root = tmp_path / "docs"
    (root / "sub").mkdir(parents=True)
    (root / "a.md").write_text("alpha")
    (root / "sub" / "b.txt").write_text("beta")
    (root / ".hidden").write_text("not listed")
    (root / "out").symlink_to(tmp_path)  # links are not offered either
    return root


def _graph(*extra: tuple[str, str, str]) -> KnowledgeGraph:
    facts = [("Nordlys Labs", "located_in", "Bergen"), *extra]
    return KnowledgeGraph([Triple(subject=s, relation=r, object=o) for s, r, o in facts])


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
    grounded = grounded_query_pattern({"t": ["name TEXT", "n INTEGER"]})
    assert _parameters(sql_tool(db))["properties"]["query"]["pattern"] == grounded
    # The rest of the schema is unchanged (description, required).
    query = _parameters(sql_tool(db))
    assert query["required"] == ["query"]
    assert query["properties"]["query"]["description"] == "One SQLite SELECT statement."


def test_the_plain_patterns_cap_the_length():
    # A model that starts repeating itself closes its call (xgrammar ignores maxLength next to
    # a pattern, so the cap is in the pattern; the grounded SQL pattern has none: bounding its
    # words makes the grammar slow to compile).
    assert re.search(EXPRESSION_PATTERN, "1+" * 100 + "1") is None
    assert re.search(EXPRESSION_PATTERN, "1+" * 99 + "1")
    assert re.search(SQL_QUERY_PATTERN, "SELECT " + "a" * 300)
    assert re.search(SQL_QUERY_PATTERN, "SELECT " + "a" * 301) is None


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


def test_the_grammar_enforces_the_patterns(tiny_decoder_path, db, docs):
    """xgrammar holds a reply to the pattern exactly where the regex does (same verdicts)."""
    import xgrammar as xgr
    from transformers import AutoTokenizer

    from localchain.models.constrained import compile_json_schema

    tokenizer = AutoTokenizer.from_pretrained(tiny_decoder_path)
    cases = [
        (calculator, "expression", ["17 * 23", "15% of 80"], ["The number is 5", "range(1)"]),
        (
            sql_tool(db),
            "query",
            ["SELECT n FROM t WHERE name = 'Al'", "SELECT SUM(x.n) AS total FROM t x"],
            [
                "Marie Curie",
                "100",
                "SELECT price FROM t",
                "SELECT n FROM lamps",
                "SELECT n, n",
                "SELECT n FROM t WHERE n = ",
            ],
        ),
        (read_file_tool(docs), "path", ["a.md", "sub/b.txt", "."], ["notes.txt", "a.m"]),
        # Focused on a request about beta: the grammar offers that file only.
        (read_file_tool(docs).focused("What does beta say?"), "path", ["sub/b.txt"], ["a.md"]),
        (knowledge_graph_tool(_graph()), "entity", ["Nordlys Labs"], ["Nordlys", "Oslo"]),
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


def test_a_path_names_what_is_in_the_folder_now(docs):
    enum = _parameters(read_file_tool(docs))["properties"]["path"]["enum"]
    assert enum == [".", "a.md", "sub/", "sub/b.txt"]
    (docs / "c.md").write_text("gamma")  # read when the schema is asked for
    assert "c.md" in _parameters(read_file_tool(docs))["properties"]["path"]["enum"]
    # The tool itself still reads what the enum leaves out, and refuses what it always did.
    assert read_file_tool(docs).invoke({"path": ".hidden"}) == "not listed"


def test_too_many_names_leave_the_argument_free(docs, monkeypatch):
    import localchain.tools.files as files

    monkeypatch.setattr(files, "MAX_NAMES", 3)
    assert "enum" not in _parameters(read_file_tool(docs))["properties"]["path"]


def test_an_entity_names_one_of_the_graph(db):
    params = _parameters(knowledge_graph_tool(_graph()))["properties"]
    assert params["entity"]["enum"] == ["Bergen", "Nordlys Labs"]
    assert params["other"]["enum"] == ["Bergen", "Nordlys Labs"]
    assert params["relation"]["enum"] == ["located_in"]
    # A name JSON would escape cannot be held by the grammar: the argument stays free.
    assert json_safe_names(["Bergen", 'The "Ark"']) is None
    assert json_safe_names(["a\\b"]) is None and json_safe_names(["tab\there"]) is None
    assert json_safe_names(["b", "a", "b"]) == ["a", "b"] and json_safe_names([]) is None


def test_a_query_uses_the_database_s_names_read_again_when_it_changes(db):
    tool = sql_tool(db)
    pattern = _parameters(tool)["properties"]["query"]["pattern"]
    assert re.search(pattern, "select count(*) from t where name like 'A%'")
    assert re.search(pattern, "SELECT MAX(n) FROM (SELECT n FROM t)")
    assert not re.search(pattern, "SELECT price FROM orders")
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE orders (price REAL)")
    conn.close()
    assert re.search(
        _parameters(tool)["properties"]["query"]["pattern"], "SELECT price FROM orders"
    )


def test_a_grounded_query_is_bounded_in_words(db):
    pattern = _parameters(sql_tool(db))["properties"]["query"]["pattern"]
    # A model repeating a column reaches FROM within SELECT_WORDS words, or its call is refused.
    assert re.search(pattern, "SELECT " + ", ".join(["n"] * SELECT_WORDS) + " FROM t")
    assert not re.search(pattern, "SELECT " + ", ".join(["n"] * (SELECT_WORDS + 1)) + " FROM t")
    # Brackets, spaces and operators between two words: at most GAP_CHARS in a row.
    assert re.search(pattern, "SELECT n" + " " * GAP_CHARS + "FROM t")
    assert not re.search(pattern, "SELECT n" + " " * (GAP_CHARS + 1) + "FROM t")
    assert not re.search(pattern, "SELECT n FROM t WHERE n IN (1" + ")" * (GAP_CHARS + 1))
    # After FROM t: WHERE n 1, then 3 words per more condition (AND n 1): 3 per condition.
    conditions = TAIL_WORDS // 3
    assert re.search(pattern, "SELECT n FROM t WHERE " + " AND ".join(["n = 1"] * conditions))
    too_long = " AND ".join(["n = 1"] * (conditions + 1))
    assert not re.search(pattern, f"SELECT n FROM t WHERE {too_long}")


def test_names_that_need_quoting_fall_back_to_the_plain_pattern(tmp_path):
    path = tmp_path / "odd.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute('CREATE TABLE "order lines" (id INTEGER)')
    conn.close()
    assert grounded_query_pattern({"order lines": ["id INTEGER"]}) is None
    assert _parameters(sql_tool(path))["properties"]["query"]["pattern"] == SQL_QUERY_PATTERN


def test_the_prompt_shows_a_long_enum_cut():
    names = [f"E{i:03}" for i in range(SHOWN_ENUM + 5)]
    graph = KnowledgeGraph([Triple(subject=n, relation="r", object="Hub") for n in names])
    prompt = tools_system_prompt([convert_to_openai_tool(knowledge_graph_tool(graph))], "auto")
    assert "E000" in prompt and '"..."' in prompt and names[-1] not in prompt
