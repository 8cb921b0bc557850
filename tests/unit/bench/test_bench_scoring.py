"""The benches' scoring: the BFCL checker port, the peer's reply parser, the agent answer check."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._scripts import load_script

BENCH = Path(__file__).resolve().parents[3] / "bench"


def _load(name: str):
    return load_script(BENCH / f"{name}.py", f"bench_{name}")


tc = _load("tool_calling")
agent_tasks = _load("agent_tasks")

AREA = {
    "name": "geometry.area",
    "description": "Area of a triangle.",
    "parameters": {
        "type": "dict",
        "properties": {
            "base": {"type": "integer", "description": "Base."},
            "height": {"type": "float", "description": "Height."},
            "unit": {"type": "string", "description": "Unit."},
            "tags": {"type": "array", "items": {"type": "string"}, "description": "Tags."},
        },
        "required": ["base", "height"],
    },
}
WEATHER = {
    "name": "weather",
    "description": "Weather in a city.",
    "parameters": {
        "type": "dict",
        "properties": {"city": {"type": "string", "description": "City."}},
        "required": ["city"],
    },
}
AREA_ANSWER = {
    "geometry.area": {"base": [10], "height": [5.0], "unit": ["cm", ""], "tags": [["a", "b"], ""]}
}


def _case(category, functions, answers):
    return tc.Case("x", category, [{"role": "user", "content": "q"}], functions, answers)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"base": 10, "height": 5}, None),  # an int is accepted for a float
        ({"base": 10, "height": 5.0, "unit": "C.M."}, None),  # strings are standardised
        ({"base": 10, "height": 5.0, "tags": ["A", "b"]}, None),
        ({"base": 10.0, "height": 5.0}, "type_error"),  # but a float is not an int
        ({"base": "10", "height": 5.0}, "type_error"),
        ({"base": 10}, "missing_required"),
        ({"base": 10, "height": 5.0, "colour": "red"}, "unexpected_param"),
        ({"base": 11, "height": 5.0}, "value_error"),
        ({"base": 10, "height": 5.0, "unit": "m"}, "value_error:string"),
        ({"base": 10, "height": 5.0, "tags": ["b", "a"]}, "value_error:list"),
    ],
)
def test_simple_category_follows_bfcl_rules(args, error):
    case = _case("simple_python", [AREA], [AREA_ANSWER])
    result = tc.check_case(case, [{"geometry_area": args}])
    assert result is None if error is None else result.startswith(error)


def test_a_missing_optional_parameter_must_be_allowed_to_be_missing():
    answer = {"geometry.area": {"base": [10], "height": [5.0], "unit": ["cm"]}}
    case = _case("simple_python", [AREA], [answer])
    assert tc.check_case(case, [{"geometry_area": {"base": 10, "height": 5.0}}]).startswith(
        "missing_optional"
    )


def test_wrong_function_and_wrong_count_fail():
    case = _case("multiple", [AREA, WEATHER], [AREA_ANSWER])
    assert tc.check_case(case, [{"weather": {"city": "Oslo"}}]).startswith("wrong_func_name")
    two = [{"geometry_area": {"base": 10, "height": 5}}] * 2
    assert tc.check_case(case, two).startswith("wrong_count")
    assert tc.check_case(case, []).startswith("wrong_count")


def test_parallel_calls_match_in_any_order():
    answers = [AREA_ANSWER, {"weather": {"city": ["Oslo"]}}]
    case = _case("parallel_multiple", [AREA, WEATHER], answers)
    calls = [{"weather": {"city": "oslo"}}, {"geometry_area": {"base": 10, "height": 5}}]
    assert tc.check_case(case, calls) is None
    assert tc.check_case(case, calls[:1]).startswith("wrong_count")
    wrong = [{"weather": {"city": "Rome"}}, calls[1]]
    assert tc.check_case(case, wrong).startswith("cannot_find_match")


def test_irrelevance_passes_only_without_a_call():
    case = _case("irrelevance", [WEATHER], [])
    assert tc.check_case(case, []) is None
    assert tc.check_case(case, [{"weather": {"city": "Oslo"}}]) is not None


def test_tools_are_given_as_bfcl_gives_them_to_function_calling_models():
    (tool,) = tc.openai_tools([AREA])
    function = tool["function"]
    assert function["name"] == "geometry_area"
    assert function["parameters"]["type"] == "object"
    assert function["parameters"]["properties"]["height"]["type"] == "number"
    assert "float type" in function["parameters"]["properties"]["height"]["description"]
    assert AREA["parameters"]["type"] == "dict"  # the source is left alone


@pytest.mark.parametrize(
    ("text", "calls", "unparseable"),
    [
        ('<tool_call>[{"name": "f", "arguments": {"x": 1}}]</tool_call>', [{"f": {"x": 1}}], False),
        ('<tool_call>{"name": "f", "arguments": {"x": 1}}', [{"f": {"x": 1}}], False),
        ('[{"name": "f", "arguments": {}}, {"name": "g"}]', [{"f": {}}, {"g": {}}], False),
        ("<tool_call>[]</tool_call>", [], False),
        ("The function cannot answer that.", [], False),
        ('<tool_call>[{"name": "f", "argu', [], True),
        ('{"answer": 3}', [], True),
    ],
)
def test_peer_replies_are_read_as_a_user_would(text, calls, unparseable):
    assert tc.parse_peer_reply(text) == (calls, unparseable)


def test_subsamples_are_fixed_by_the_seed(tmp_path):
    rows = [f'{{"id": "irrelevance_{i}", "question": [[]], "function": []}}' for i in range(30)]
    (tmp_path / "BFCL_v4_irrelevance.json").write_text("\n".join(rows))
    first = [c.id for c in tc.load_cases(tmp_path, "irrelevance", 5, seed=1)]
    assert first == [c.id for c in tc.load_cases(tmp_path, "irrelevance", 5, seed=1)]
    assert first != [c.id for c in tc.load_cases(tmp_path, "irrelevance", 5, seed=2)]
    assert len(tc.load_cases(tmp_path, "irrelevance", 0, seed=1)) == 30


@pytest.mark.parametrize(
    ("answer", "expected", "right"),
    [
        ("The total is 1,250.00 euros.", 1250, True),
        ("About 283.3 meteors a month.", 3400 / 12, True),
        ("It is 290.", 3400 / 12, False),
        ("Nordlys Labs is in norway.", "Norway", True),
        ("It was born in Tromsø.", "Tromso", True),
        ("", 12, False),
    ],
)
def test_agent_answers_are_checked_by_number_or_name(answer, expected, right):
    assert agent_tasks.is_right(answer, expected) is right


def test_agent_world_answers_come_from_the_database_it_writes(tmp_path):
    paths = agent_tasks.build_world(tmp_path)
    assert sorted(p.name for p in paths["docs"].iterdir()) == sorted(agent_tasks.DOCS)
    tasks = {t.id: t for t in agent_tasks.TASKS}
    assert len(tasks) == len(agent_tasks.TASKS) >= 30
    assert tasks["sql-spent"].expected(paths["db"]) == 2 * 35 + 220 + 80 + 55
    assert tasks["sql-lyon-orders"].expected(paths["db"]) == 6
    assert tasks["mix-falcon-orders"].expected(paths["db"]) == 3


def test_langchain_agent_contender_runs_the_loop_and_counts_steps():
    from langchain_core.messages import AIMessage

    from localchain.models.fake import FakeChatModel
    from localchain.tools import calculator

    call = {"name": "calculator", "args": {"expression": "17 * 23"}, "id": "c1"}
    model = FakeChatModel(responses=[AIMessage("", tool_calls=[call]), "It is 391."])
    outcome = agent_tasks.langchain_runner(model, max_steps=4)("What is 17*23?", [calculator])
    assert (outcome.answer, outcome.steps, outcome.tool_calls, outcome.note) == (
        "It is 391.",
        2,
        1,
        "",
    )
    assert agent_tasks.is_right(outcome.answer, 17 * 23)


def test_langchain_agent_contender_stops_after_max_steps():
    from langchain_core.messages import AIMessage

    from localchain.models.fake import FakeChatModel
    from localchain.tools import calculator

    call = {"name": "calculator", "args": {"expression": "1 + 1"}, "id": "c1"}
    model = FakeChatModel(fn=lambda messages, options: AIMessage("", tool_calls=[call]))
    outcome = agent_tasks.langchain_runner(model, max_steps=3)("Loop", [calculator])
    assert outcome.note == "max steps" and outcome.answer == ""
    assert outcome.steps <= 3


SPENT_BY = (
    "SELECT SUM(o.quantity * o.unit_price) FROM orders o JOIN customers c "
    "ON c.id = o.customer_id WHERE c.name = '{}'"
)
RIGHT_CALLS = {  # a sequence of calls that shows every fact each task needs
    "sql-spent": [("sql", {"query": SPENT_BY.format("Alice Moreau")})],
    "sql-lyon-orders": [
        (
            "sql",
            {
                "query": "SELECT COUNT(*) FROM orders o JOIN customers c "
                "ON c.id = o.customer_id WHERE c.city = 'Lyon'"
            },
        )
    ],
    "sql-most-orders": [
        (
            "sql",
            {
                "query": "SELECT c.name, COUNT(*) AS n FROM orders o JOIN customers c "
                "ON c.id = o.customer_id GROUP BY c.name ORDER BY n DESC LIMIT 1"
            },
        )
    ],
    "sql-avg-lamp": [
        ("sql", {"query": "SELECT AVG(unit_price) FROM orders WHERE product = 'lamp'"})
    ],
    "sql-march": [
        (
            "sql",
            {
                "query": "SELECT SUM(quantity * unit_price) FROM orders "
                "WHERE order_date LIKE '2024-03-%'"
            },
        )
    ],
    "sql-chen-products": [
        ("sql", {"query": "SELECT COUNT(DISTINCT product) FROM orders WHERE customer_id = 3"})
    ],
    "sql-tax": [("sql", {"query": SPENT_BY.format("Bruno Keller")})],
    "sql-dana-days": [("sql", {"query": "SELECT order_date FROM orders WHERE customer_id = 4"})],
    "sql-share": [("sql", {"query": "SELECT SUM(quantity * unit_price) FROM orders"})],
    "sql-chairs": [("sql", {"query": "SELECT SUM(quantity) FROM orders WHERE product = 'chair'"})],
    "kg-country": [("graph", {"entity": "Nordlys Labs"})],
    "kg-founder-born": [("graph", {"entity": "Nordlys Labs", "relation": "born_in"})],
    "kg-sibling": [("graph", {"entity": "Kestrel Orchard"})],
    "kg-payroll": [("graph", {"entity": "Nordlys Labs"})],
    "kg-town": [("graph", {"entity": "Brindle Library", "other": "Harrow Hill Observatory"})],
    "kg-population": [("graph", {"entity": "Mara Okoye", "relation": "population"})],
    "mix-founder-spent": [
        ("graph", {"entity": "Nordlys Labs"}),
        ("sql", {"query": SPENT_BY.format("Ines Varga")}),
    ],
    "mix-falcon-orders": [
        ("read_file", {"path": "falcon.md"}),
        ("sql", {"query": "SELECT COUNT(*) FROM orders WHERE customer_id = 6"}),
    ],
    "mix-falcon-country": [("read_file", {"path": "falcon.md"}), ("graph", {"entity": "Tromso"})],
}


def test_each_task_s_facts_are_what_the_right_calls_show(tmp_path):
    from localchain.chains import KnowledgeGraph, Triple
    from localchain.tools import knowledge_graph_tool, read_file_tool, sql_tool

    paths = agent_tasks.build_world(tmp_path)
    triples = [Triple(subject=s, relation=r, object=o) for s, r, o in agent_tasks.FACTS]
    tools = {  # the bench's own tools, but the search (it needs the embedding model)
        "sql": sql_tool(paths["db"]),
        "read_file": read_file_tool(paths["docs"]),
        "graph": knowledge_graph_tool(KnowledgeGraph(triples), hops=2),
    }
    assert set(agent_tasks.NEEDED) == {t.id for t in agent_tasks.TASKS}
    for task in agent_tasks.TASKS:
        calls = RIGHT_CALLS.get(task.id)
        if calls is None:  # the document tasks: reading the one note the question is about
            name = next(n for n in agent_tasks.DOCS if agent_tasks.NEEDED[task.id][0] in
                        agent_tasks.DOCS[n])  # fmt: skip
            calls = [("read_file", {"path": name})]
        elif task.id == "sql-most-orders":  # one customer has the most orders
            counts = tools["sql"].invoke({"query": "SELECT COUNT(*) AS n FROM orders GROUP BY "
                                          "customer_id ORDER BY n DESC LIMIT 2"})  # fmt: skip
            assert counts.splitlines()[1] != counts.splitlines()[2], counts
        results = [(tools[tool].name, tools[tool].invoke(args)) for tool, args in calls]
        assert agent_tasks.facts_found(task, results, paths["db"]), (task.id, results)
        missing = [*results[:-1], (results[-1][0], "nothing")]
        assert not agent_tasks.facts_found(task, missing, paths["db"])
    # A number counts only where a query showed it.
    chairs = next(t for t in agent_tasks.TASKS if t.id == "sql-chairs")
    assert not agent_tasks.facts_found(chairs, [("read_file", "8 hours a day")], paths["db"])
    assert agent_tasks.facts_found(chairs, [("sql_query", "SUM(quantity)\n8")], paths["db"])
