"""Make training data for the agent-steps LoRA adapter: multi-step runs over the built-in tools.

The shipped tool-calling adapter (``examples/tool_calls``) teaches one reply: a call, several
calls, a text answer, or an answer written from one tool result. An agent needs more: after a
result, call the next tool with a value taken from that result (look a number up, then
compute with it; find an entity, then look that entity up) and answer only once the result
holds the answer. This script writes such runs, step by step, as ``localchain.agents`` renders
them to the model, over the built-in tools (``retriever_tool``, ``read_file_tool``,
``knowledge_graph_tool``, ``sql_tool``, ``calculator``, ``python_tool``).

Everything is invented here: small random worlds (notes about made-up places, a knowledge
graph of made-up people, organisations and towns, a small SQLite database with varying table
and column names), questions about them written from templates, and the steps that answer
them. The tools really run on each world, so every result a record shows is what the tool
returns. No name, question or database of ``bench/agent_tasks.py`` (or any other evaluation
set) is used: the bench measures the adapter on a world it has never seen.

Each step is one chat record (``messages`` ends with the reply to learn), rendered exactly as
``ChatLocal.bind_tools`` renders the agent's request: the agent's system prompt merged with
``tools_system_prompt`` (``tool_choice="any"`` on the first step, ``"auto"`` after it, one call
per reply), the history with calls as JSON and results as ``Tool result (name, id): ...`` user
turns. Each record also keeps its ``kind`` (``agent_step_N``), ``tools`` and ``tool_choice``
(extra keys the loader keeps and tuning ignores). A share of the records are the tool-calling
adapter's own training records (single, choose, parallel, no-call, answer;
``examples/tool_calls/make_data.py``), so that the adapter keeps working with any tools,
not only the built-in ones.

Deterministic (seeded)::

    python examples/agent_steps/make_data.py            # build/agent_steps/{train,val}.jsonl
    python examples/agent_steps/make_data.py --runs 40 --out /tmp/as
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from localchain.agents.graph import default_system_prompt
from localchain.models.tool_calling import render_tool_messages, tools_system_prompt

SEED = 2468
OUT = Path(__file__).resolve().parents[2] / "build" / "agent_steps"
N_RUNS, N_VAL_RUNS = 240, 12
MAX_TOOLS = 5
"""Tools offered in one run at most (the agent preselects 5 by default)."""
GENERIC_SHARE = 0.3
"""Share of the training records taken from the tool-calling adapter's data."""
SYSTEMS = [
    None,  # the agent's default prompt (it names the tools)
    "You are a helpful assistant.",
    "You are a careful assistant. Look facts up with the tools before you answer.",
    "You answer questions about local records. Use the tools; answer in one sentence.",
]

# -- invented vocabulary (none of it appears in bench/agent_tasks.py) ---------------------------

PLACE_NAMES = [
    "Amberly", "Corrin", "Valdane", "Ostrava Vale", "Pinecrest", "Marlow Bay", "Thessaly Row",
    "Greyfold", "Wrenfield", "Copperton", "Silvan Reach", "Halden", "Quarry Hill", "Nettlebed",
    "Eastmere", "Rookwood", "Farrow", "Kilbride", "Lowick", "Saltcombe", "Ashby Cross",
    "Bramwell", "Cindermoor", "Dovecote",
]  # fmt: skip
PEOPLE = [
    "Rosa Lindqvist", "Jonas Abara", "Mei Takeda", "Oskar Brandt", "Leila Haddad",
    "Tariq Osei", "Helga Sorensen", "Pedro Alves", "Nadia Petrova", "Kofi Mensah",
    "Elin Dahl", "Marco Bellini", "Aiko Mori", "Samir Khan", "Vera Kowalski", "Lucas Ferreira",
    "Ingrid Holm", "Dmitri Orlov", "Fatima Zahra", "Hannes Weber", "Chloe Martin",
    "Ruben Diaz", "Yara Nilsen", "Tobias Meyer",
]  # fmt: skip
TOWNS = [
    "Caldera", "Westholm", "Brackley", "Fennick", "Marisol", "Ostend Cove", "Raventhorpe",
    "Sundby", "Tarrow", "Ullapine", "Vesterby", "Windmere",
]  # fmt: skip
COUNTRIES = ["Portugal", "Finland", "Canada", "Chile", "Austria", "Japan", "Kenya", "Scotland"]
ORGS = [
    "Polaris Works", "Bluefin Systems", "Cedar Guild", "Mosaic Foundry", "Tidewater Co",
    "Northwind Studio", "Granite Labs", "Lantern Trust", "Harbor Textiles", "Quill Press",
    "Summit Dairy", "Orbit Cycles",
]  # fmt: skip
PRODUCTS = ["kettle", "bench", "rug", "mirror", "vase", "stool", "clock", "basket", "sofa"]
MONTHS = ["01", "02", "03", "04", "05", "06"]


def num(value: float) -> str:
    """A number as people write it: no trailing ``.0``, two decimals at most."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def a_date(rng: random.Random, first: int = 1990, last: int = 2022) -> str:
    """A random ISO date."""
    return f"{rng.randint(first, last)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


# -- notes: a place, its facts, and questions that need them -----------------------------------


@dataclass
class Question:
    """A question, the steps that answer it, and the answer sentence."""

    text: str
    steps: list[tuple[str, dict[str, Any]]]
    """(tool key, arguments) for each call, in order."""
    answer: Callable[[list[str]], str]
    """The final answer, from the tool results (each the text a tool returned)."""
    found: str = ""
    """Text the first result must hold (a search that missed the note is not a run to learn)."""


@dataclass
class Note:
    """A made-up place: its note's text and the questions it can answer."""

    name: str
    file: str
    text: str
    questions: list[Question] = field(default_factory=list)


def _calc(expression: str) -> tuple[str, dict[str, Any]]:
    return ("calculator", {"expression": expression})


def _days_code(start: str, end: str) -> tuple[str, dict[str, Any]]:
    y1, m1, d1 = (int(p) for p in start.split("-"))
    y2, m2, d2 = (int(p) for p in end.split("-"))
    code = (
        "def solution():\n    from datetime import date\n"
        f"    return (date({y2}, {m2}, {d2}) - date({y1}, {m1}, {d1})).days"
    )
    return ("python", {"code": code})


def _last_number(results: list[str]) -> str:
    """The number in the last result (the calculator's, or python's ``result: N``)."""
    return results[-1].replace("result:", "").strip().splitlines()[0]


def make_note(rng: random.Random, name: str) -> Note:
    """One note of a random kind about the place ``name``, with its questions."""
    kind = rng.choice(["workshop", "museum", "farm", "bus", "station", "club"])
    year = rng.randint(1950, 2015)
    opened = a_date(rng, 1980, 2016)
    person = rng.choice(PEOPLE)
    later = rng.choice([2023, 2024, 2025])
    qs: list[Question] = []
    look = ("search", {"query": name})

    def q(text: str, steps: list[tuple[str, dict[str, Any]]], answer: str) -> None:
        qs.append(Question(text, [look, *steps], lambda r, a=answer: a.format(n=_last_number(r))))

    def fact(text: str, answer: str) -> None:
        qs.append(Question(text, [look], lambda r, a=answer: a))

    if kind == "workshop":
        made, price, workers = rng.randint(5, 90), rng.randint(12, 400), rng.randint(3, 40)
        thing = rng.choice(["chairs", "boats", "lamps", "bicycles", "tables", "guitars"])
        period = rng.choice(["week", "month"])
        text = (
            f"{name} Workshop builds {made} {thing} a {period}. Each one sells for {price} "
            f"euros. It was founded in {year} by {person} and has {workers} workers."
        )
        k = rng.choice([3, 4, 6, 10, 12])
        q(
            f"How many {thing} does {name} Workshop build in {k} {period}s?",
            [_calc(f"{made} * {k}")],
            f"{name} Workshop builds {{n}} {thing} in {k} {period}s.",
        )
        q(
            f"How much money does {name} Workshop make in a {period} if it sells all it builds?",
            [_calc(f"{made} * {price}")],
            f"It makes {{n}} euros a {period}.",
        )
        q(
            f"How old was {name} Workshop in {later}, in years?",
            [_calc(f"{later} - {year}")],
            f"It was {{n}} years old in {later}.",
        )
        fact(f"Who founded {name} Workshop?", f"{name} Workshop was founded by {person}.")
    elif kind == "museum":
        paintings, statues = rng.randint(100, 5000), rng.randint(10, 900)
        adult, child = rng.randint(5, 25), rng.randint(1, 9)
        hours, days = rng.randint(5, 10), rng.randint(4, 7)
        text = (
            f"The {name} Museum opened on {opened}. It shows {paintings} paintings and "
            f"{statues} statues. A ticket costs {adult} euros for an adult and {child} euros "
            f"for a child. It is open {hours} hours a day, {days} days a week."
        )
        na, nc = rng.randint(1, 4), rng.randint(1, 5)
        q(
            f"How many paintings and statues does the {name} Museum show in all?",
            [_calc(f"{paintings} + {statues}")],
            "The museum shows {n} works in all.",
        )
        q(
            f"What do tickets to the {name} Museum cost for {na} adults and {nc} children?",
            [_calc(f"{na} * {adult} + {nc} * {child}")],
            "The tickets cost {n} euros.",
        )
        q(
            f"How many hours a week is the {name} Museum open?",
            [_calc(f"{hours} * {days}")],
            "It is open {n} hours a week.",
        )
        end = a_date(rng, 2018, 2025)
        q(
            f"How many days passed between the opening of the {name} Museum and {end}?",
            [_days_code(opened, end)],
            "{n} days passed.",
        )
    elif kind == "farm":
        cows, goats, litres = rng.randint(10, 300), rng.randint(5, 200), rng.randint(8, 30)
        text = (
            f"{name} Farm keeps {cows} cows and {goats} goats. Each cow gives {litres} litres "
            f"of milk a day. The farm was founded in {year} by {person}."
        )
        k = rng.choice([7, 10, 30, 365])
        q(
            f"How many animals does {name} Farm keep altogether?",
            [_calc(f"{cows} + {goats}")],
            f"{name} Farm keeps {{n}} animals.",
        )
        q(
            f"How much milk do the cows of {name} Farm give in a day?",
            [_calc(f"{cows} * {litres}")],
            "They give {n} litres a day.",
        )
        q(
            f"How many litres of milk does one cow at {name} Farm give in {k} days?",
            [_calc(f"{litres} * {k}")],
            f"One cow gives {{n}} litres in {k} days.",
        )
        fact(f"In which year was {name} Farm founded?", f"{name} Farm was founded in {year}.")
    elif kind == "bus":
        trips, minutes, fare = rng.randint(6, 40), rng.randint(10, 90), rng.randint(2, 9)
        text = (
            f"The {name} bus line runs {trips} trips a day, every day of the week. A trip "
            f"takes {minutes} minutes. A ticket costs {fare} euros. The line opened in {year}."
        )
        q(
            f"How many trips does the {name} bus line run in a week?",
            [_calc(f"{trips} * 7")],
            "It runs {n} trips a week.",
        )
        q(
            f"How long is one trip on the {name} bus line, in seconds?",
            [_calc(f"{minutes} * 60")],
            "A trip takes {n} seconds.",
        )
        k = rng.randint(2, 9)
        q(
            f"What do {k} tickets for the {name} bus line cost?",
            [_calc(f"{k} * {fare}")],
            f"{k} tickets cost {{n}} euros.",
        )
        q(
            f"How many years had the {name} bus line been running in {later}?",
            [_calc(f"{later} - {year}")],
            "It had been running for {n} years.",
        )
    elif kind == "station":
        count = rng.randint(200, 9000)
        events = rng.choice(["storms", "earthquakes", "bird sightings", "visitors", "floods"])
        text = (
            f"The {name} weather station opened on {opened}. It records about {count} "
            f"{events} a year. Its head is {person}."
        )
        q(
            f"On average, how many {events} does the {name} weather station record per month?",
            [_calc(f"{count} / 12")],
            f"About {{n}} {events} a month.",
        )
        q(
            f"On average, how many {events} does the {name} weather station record per week?",
            [_calc(f"{count} / 52")],
            f"About {{n}} {events} a week.",
        )
        end = a_date(rng, 2018, 2025)
        q(
            f"How many days passed between the opening of the {name} weather station and {end}?",
            [_days_code(opened, end)],
            "{n} days passed.",
        )
        fact(f"Who is the head of the {name} weather station?", f"The head is {person}.")
    else:
        members, fee, teams = rng.randint(20, 900), rng.randint(10, 120), rng.randint(2, 9)
        text = (
            f"The {name} Rowing Club has {members} members in {teams} teams. Each member "
            f"pays {fee} euros a year. The club was founded in {year}."
        )
        q(
            f"How much do the members of the {name} Rowing Club pay in a year altogether?",
            [_calc(f"{members} * {fee}")],
            "They pay {n} euros a year.",
        )
        q(
            f"On average, how many members does each team of the {name} Rowing Club have?",
            [_calc(f"{members} / {teams}")],
            "About {n} members per team.",
        )
        q(
            f"How old was the {name} Rowing Club in {later}?",
            [_calc(f"{later} - {year}")],
            "It was {n} years old.",
        )
    file = name.lower().replace(" ", "_") + ".md"
    title = {"workshop": f"{name} Workshop", "museum": f"{name} Museum", "farm": f"{name} Farm",
             "bus": f"{name} bus line", "station": f"{name} weather station",
             "club": f"{name} Rowing Club"}[kind]  # fmt: skip
    for question in qs:
        question.found = text
    return Note(name, file, f"# {title}\n\n{text}", qs)


def as_file_question(rng: random.Random, note: Note, question: Question) -> Question:
    """The same question, asked about a named file: read it instead of searching."""
    lead = rng.choice(["Read the file {f}: ", "Open {f} and tell me: ", "In the file {f}, "])
    text = lead.format(f=note.file) + question.text[0].lower() + question.text[1:]
    steps = [("read_file", {"path": note.file}), *question.steps[1:]]
    return Question(text, steps, question.answer, question.found)


# -- the knowledge graph ----------------------------------------------------------------------


def make_graph(rng: random.Random) -> tuple[list[tuple[str, str, str]], list[Question]]:
    """Random facts about organisations, people and towns, and questions that follow them."""
    facts: list[tuple[str, str, str]] = []
    questions: list[Question] = []
    towns = rng.sample(TOWNS, 4)
    countries = rng.sample(COUNTRIES, 3)
    for town in towns:
        facts.append((town, "in_country", rng.choice(countries)))
        facts.append((town, "population", str(rng.randint(2, 90) * 100)))
    people = rng.sample(PEOPLE, 8)
    orgs = rng.sample(ORGS, 4)
    country_of = {s: o for s, r, o in facts if r == "in_country"}
    population = {s: int(o) for s, r, o in facts if r == "population"}
    for i, org in enumerate(orgs):
        town, founder, owner_sibling = rng.choice(towns), people[i], people[i + 4]
        born = rng.choice([t for t in towns if t != town])
        staff = rng.randint(8, 400)
        facts += [
            (org, "located_in", town),
            (org, "founded_by", founder),
            (founder, "born_in", born),
            (founder, "sibling_of", owner_sibling),
            (org, "number_of_employees", str(staff)),
        ]
        g = "graph"
        questions += [
            Question(
                f"In which town is {org}?",
                [(g, {"entity": org})],
                lambda r, t=town, o=org: f"{o} is in {t}.",
            ),
            Question(
                f"In which country is {org} located?",
                [(g, {"entity": org}), (g, {"entity": town})],
                lambda r, c=country_of[town], o=org: f"{o} is located in {c}.",
            ),
            Question(
                f"Where was the founder of {org} born?",
                [(g, {"entity": org}), (g, {"entity": founder})],
                lambda r, b=born, f=founder: f"{f} was born in {b}.",
            ),
            Question(
                f"Who is the sibling of the founder of {org}?",
                [(g, {"entity": org}), (g, {"entity": founder})],
                lambda r, s=owner_sibling: f"The sibling is {s}.",
            ),
        ]
        pay = rng.choice([2500, 3000, 3200, 4500, 5000])
        questions.append(
            Question(
                f"{org} pays each employee {pay} euros a month. What is its monthly payroll?",
                [(g, {"entity": org}), _calc(f"{staff} * {pay}")],
                lambda r: f"The monthly payroll is {_last_number(r)} euros.",
            )
        )
        k = rng.choice([2, 4, 5, 10])
        questions.append(
            Question(
                f"What is the population of the town where {org} is located, divided by {k}?",
                [(g, {"entity": org}), (g, {"entity": town}), _calc(f"{population[town]} / {k}")],
                lambda r: f"It is {_last_number(r)}.",
            )
        )
        questions.append(
            Question(
                f"How are {founder} and {org} connected?",
                [(g, {"entity": founder, "other": org})],
                lambda r, f=founder, o=org: f"{f} founded {o}.",
            )
        )
    return facts, questions


# -- the database ------------------------------------------------------------------------------

SCHEMAS = [  # (people table, its name/city columns, rows table, its columns)
    ("customers", "name", "city", "orders", "customer_id", "product", "quantity", "unit_price",
     "order_date"),
    ("clients", "full_name", "town", "purchases", "client_id", "item", "amount", "price",
     "bought_on"),
    ("members", "name", "home_town", "sales", "member_id", "article", "qty", "price_each",
     "sold_on"),
]  # fmt: skip


def make_db(rng: random.Random, path: Path) -> list[Question]:
    """A small database with random table names and rows, and questions about it."""
    people_t, name_c, city_c, rows_t, fk, prod_c, qty_c, price_c, date_c = rng.choice(SCHEMAS)
    people = rng.sample(PEOPLE, 5)
    towns = rng.sample(TOWNS, 3)
    with sqlite3.connect(path) as conn:
        conn.execute(
            f"CREATE TABLE {people_t} (id INTEGER PRIMARY KEY, {name_c} TEXT, {city_c} TEXT)"
        )
        conn.execute(
            f"CREATE TABLE {rows_t} (id INTEGER PRIMARY KEY, {fk} INTEGER, {prod_c} TEXT, "
            f"{qty_c} INTEGER, {price_c} REAL, {date_c} TEXT)"
        )
        for i, person in enumerate(people, 1):
            conn.execute(f"INSERT INTO {people_t} VALUES (?, ?, ?)", (i, person, rng.choice(towns)))
        for j in range(1, rng.randint(10, 16)):
            day = f"2024-{rng.choice(MONTHS)}-{rng.randint(1, 28):02d}"
            conn.execute(
                f"INSERT INTO {rows_t} VALUES (?, ?, ?, ?, ?, ?)",
                (j, rng.randint(1, 5), rng.choice(PRODUCTS[:5]), rng.randint(1, 5),
                 float(rng.randint(10, 300)), day),
            )  # fmt: skip
    conn.close()
    person, town, product = rng.choice(people), rng.choice(towns), rng.choice(PRODUCTS[:5])
    month = rng.choice(MONTHS)
    join = f"FROM {rows_t} o JOIN {people_t} c ON c.id = o.{fk}"
    questions = [
        Question(
            f"How much has {person} spent in total (quantity times price over all orders)?",
            [
                (
                    "sql",
                    {
                        "query": f"SELECT SUM(o.{qty_c} * o.{price_c}) {join} WHERE "
                        f"c.{name_c} = '{person}'"
                    },
                )
            ],
            lambda r, p=person: f"{p} has spent {_sql_value(r)}.",
        ),
        Question(
            f"How many orders were placed by people who live in {town}?",
            [("sql", {"query": f"SELECT COUNT(*) {join} WHERE c.{city_c} = '{town}'"})],
            lambda r, t=town: f"{_sql_value(r)} orders came from {t}.",
        ),
        Question(
            f"What is the average price of a {product}?",
            [
                (
                    "sql",
                    {"query": f"SELECT AVG({price_c}) FROM {rows_t} WHERE {prod_c} = '{product}'"},
                )
            ],
            lambda r, p=product: f"The average price of a {p} is {_sql_value(r)}.",
        ),
        Question(
            f"How many {product}s were sold in total?",
            [("sql", {"query": f"SELECT SUM({qty_c}) FROM {rows_t} WHERE {prod_c} = '{product}'"})],
            lambda r, p=product: f"{_sql_value(r)} {p}s were sold.",
        ),
        Question(
            f"What is the total value of the orders placed in 2024-{month}?",
            [
                (
                    "sql",
                    {
                        "query": f"SELECT SUM({qty_c} * {price_c}) FROM {rows_t} WHERE "
                        f"{date_c} LIKE '2024-{month}-%'"
                    },
                )
            ],
            lambda r: f"The total value is {_sql_value(r)}.",
        ),
    ]
    rate = rng.choice([10, 15, 20, 25])
    spent = questions[0].steps[0]
    questions.append(
        Question(
            f"What do {person}'s orders come to once {rate}% tax is added?",
            [spent, ("calculator", {"expression": "{sql} * " + num(1 + rate / 100)})],
            lambda r: f"With tax they come to {_last_number(r)}.",
        )
    )
    return questions


def _sql_value(results: list[str]) -> str:
    """The single value of the last SQL result (header, value, row count)."""
    lines = results[-1].splitlines()
    value = lines[1].strip() if len(lines) > 1 else lines[0]
    try:
        return num(float(value))
    except ValueError:
        return value


# -- runs -> records ---------------------------------------------------------------------------


@dataclass
class World:
    """One random world and its tools."""

    tools: dict[str, BaseTool]
    questions: list[Question]


def make_world(rng: random.Random, root: Path, embeddings: Any) -> World:
    """Notes, graph and database under ``root``, the built-in tools over them, the questions."""
    from localchain.chains import KnowledgeGraph, Triple
    from localchain.index import FaissStore
    from localchain.tools import (
        calculator,
        knowledge_graph_tool,
        python_tool,
        read_file_tool,
        retriever_tool,
        sql_tool,
    )

    docs = root / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    notes = [make_note(rng, name) for name in rng.sample(PLACE_NAMES, 6)]
    for note in notes:
        (docs / note.file).write_text(note.text + "\n", encoding="utf-8")
    store = FaissStore.from_texts(
        [n.text for n in notes], embeddings, metadatas=[{"source": n.file} for n in notes]
    )
    facts, graph_questions = make_graph(rng)
    db_questions = make_db(rng, root / "records.sqlite")
    search_name, search_description = rng.choice(
        [
            ("search_documents", "Search the notes about local places. Input: a short query."),
            ("search_notes", "Search my notes. Input: a short query."),
            ("search_documents", "Search the documents and return matching passages."),
        ]
    )
    tools = {
        "calculator": calculator,
        "python": python_tool(),
        "search": retriever_tool(store, k=2, name=search_name, description=search_description),
        "read_file": read_file_tool(docs),
        "graph": knowledge_graph_tool(
            KnowledgeGraph([Triple(subject=s, relation=r, object=o) for s, r, o in facts])
        ),
        "sql": sql_tool(root / "records.sqlite"),
    }
    questions = [q for n in notes for q in n.questions]
    questions += [as_file_question(rng, n, q) for n in notes for q in n.questions[:2]]
    return World(tools, questions + graph_questions + db_questions)


def run_steps(world: World, question: Question, rng: random.Random) -> list[Any] | None:
    """Run the question's calls on the world's tools: the history, with the final answer.

    None when a call fails (a question that does not fit this world).
    """
    history: list[Any] = [HumanMessage(question.text)]
    results: list[str] = []
    for key, args in question.steps:
        tool = world.tools[key]
        if key == "calculator" and "{sql}" in args["expression"]:
            args = {"expression": args["expression"].replace("{sql}", _sql_value(results))}
        call_id = f"call_{rng.getrandbits(96):024x}"
        try:
            result = str(tool.invoke(args))
        except Exception:  # noqa: BLE001 - a question that does not fit: skip it
            return None
        if not results and question.found and question.found not in result:
            return None
        history.append(AIMessage("", tool_calls=[{"name": tool.name, "args": args, "id": call_id}]))
        history.append(ToolMessage(result, tool_call_id=call_id, name=tool.name))
        results.append(result)
    history.append(AIMessage(question.answer(results)))
    return history


def records_of_run(
    rng: random.Random, world: World, question: Question, history: list[Any]
) -> list[dict[str, Any]]:
    """One record per model step of the run, as the agent renders each request."""
    needed = {key for key, _ in question.steps}
    others = [k for k in world.tools if k not in needed]
    extra = rng.randint(max(0, 3 - len(needed)), max(0, MAX_TOOLS - len(needed)))
    keys = sorted(needed | set(rng.sample(others, extra)))
    rng.shuffle(keys)
    tools = [world.tools[k] for k in keys]
    schemas = [convert_to_openai_tool(t) for t in tools]
    caller = rng.choice(SYSTEMS) or default_system_prompt([t.name for t in tools])
    records = []
    for i, message in enumerate(history):
        if not isinstance(message, AIMessage):
            continue
        choice = "any" if i == 1 else "auto"
        system = caller + "\n\n" + tools_system_prompt(schemas, choice, parallel_tool_calls=False)
        messages = render_tool_messages([SystemMessage(system), *history[:i]])
        if message.tool_calls:
            call = message.tool_calls[0]
            args = _ordered(schemas, call["name"], call["args"])
            reply = json.dumps({"name": call["name"], "arguments": args}, ensure_ascii=False)
        else:
            reply = json.dumps({"response": message.text}, ensure_ascii=False)
        messages.append({"role": "assistant", "content": reply})
        records.append(
            {
                "messages": messages,
                "kind": f"agent_step_{len(records) + 1}",
                "tools": schemas,
                "tool_choice": choice,
            }
        )
    return records


def _ordered(schemas: list[dict[str, Any]], name: str, args: dict[str, Any]) -> dict[str, Any]:
    """``args`` in the schema's property order (the grammar writes them in that order)."""
    for schema in schemas:
        function = schema["function"]
        if function["name"] == name:
            props = function["parameters"].get("properties", {})
            return {key: args[key] for key in props if key in args}
    return args


def generic_records(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` of the tool-calling adapter's training records (its generator, its tools)."""
    path = Path(__file__).resolve().parents[1] / "tool_calls" / "make_data.py"
    spec = importlib.util.spec_from_file_location("tool_calls_make_data", path)
    if spec is None or spec.loader is None:  # pragma: no cover
        msg = f"cannot load {path}"
        raise RuntimeError(msg)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    rng = random.Random(seed)
    return module.make_split(rng, n, module.TRAINING_TOOLS, slots=0, heldout_share=0.0)


def make_split(rng: random.Random, runs: int, embeddings: Any) -> list[dict[str, Any]]:
    """Records of ``runs`` runs, over worlds of about 30 questions each."""
    records: list[dict[str, Any]] = []
    done = 0
    with tempfile.TemporaryDirectory() as scratch:
        while done < runs:
            world = make_world(rng, Path(scratch) / f"w{done}", embeddings)
            for question in rng.sample(world.questions, min(len(world.questions), 30)):
                history = run_steps(world, question, rng)
                if history is None:
                    continue
                records += records_of_run(rng, world, question, history)
                done += 1
                if done >= runs:
                    break
    return records


def main(argv: list[str] | None = None) -> None:
    """Write the train and val splits."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="output folder")
    parser.add_argument("--runs", type=int, default=N_RUNS, help="training runs (questions)")
    parser.add_argument("--val-runs", type=int, default=N_VAL_RUNS)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    from localchain.models.embeddings import LocalEmbeddings

    embeddings = LocalEmbeddings()
    rng = random.Random(args.seed)
    train = make_split(rng, args.runs, embeddings)
    generic = round(len(train) * GENERIC_SHARE / (1 - GENERIC_SHARE))
    train += generic_records(generic, args.seed)
    rng.shuffle(train)
    val = make_split(random.Random(args.seed + 1), args.val_runs, embeddings)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, records in (("train", train), ("val", val)):
        path = args.out / f"{name}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        print(f"{path}: {len(records)} records")  # noqa: T201


if __name__ == "__main__":
    main()
