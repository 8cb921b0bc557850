"""Multi-step agent tasks over the built-in tools: localchain's agent against LangChain's.

Run by hand (not a test; it loads the embedded models)::

    HF_HUB_OFFLINE=1 nice -n 10 .venv/bin/python bench/agent_tasks.py --limit 5
    HF_HUB_OFFLINE=1 nice -n 10 .venv/bin/python bench/agent_tasks.py --contenders langchain

The bench builds its own small world in a scratch folder (``--workdir``, a temporary one by
default), all of it invented so that no model can answer from memory:

* ``docs/``: six short notes (a robot project, an orchard, a library, a ferry, an observatory,
  a bakery), searched by ``retriever_tool`` (FAISS + the embedded MiniLM) and read by
  ``read_file_tool``;
* ``shop.sqlite``: customers and orders, queried by ``sql_tool``;
* a ``KnowledgeGraph`` of people, organisations and places, for ``knowledge_graph_tool``;
* ``calculator`` and ``python_tool()`` for the arithmetic and the dates.

Each of the 32 tasks needs at least one tool call and usually two or three (look up, then
compute), and has one checkable final answer: a number (right within 0.5 %, any number in the
final message counts) or a name (found in the final message, case and accents ignored). The
expected values of the shop tasks are computed from the database the bench writes.

Contenders get the same ``ChatLocal`` (greedy), the same tools (all of them, or only the ones
a task needs with ``--task-tools``) and the same system prompt:

* ``langchain``: ``langchain.agents.create_agent(ChatLocal(...), tools)``, LangChain 1.x's own
  agent loop, stopped after ``--max-steps`` model calls; a run that raises (LangChain's loop
  does not catch a call cut off by the token limit, which ``ChatLocal`` raises) is a failed
  task, noted by the exception's name;
* ``localchain``: ``localchain.agents.create_agent(model, tools, max_steps=...)`` with its
  small-model settings (``first_tool_choice="route"``: the first calls go to the tools whose
  data holds the request's words, ``--first-tool-choice any`` for any tool; one call per
  reply, a best-effort answer when the steps run out or a call repeats; tool preselection by
  embedding similarity when more than ``--tool-k`` tools are offered, 5 by default; with
  ``--step-adapter DIR``, its steps with tools on that adapter, e.g. one made by ``make
  agent-steps-adapter``, trained on invented worlds that share no name or question with this
  bench).

Printed: per contender the success rate (overall, and apart on the 21 tasks of a kind the
agent-steps adapter's data has, ``SEEN_KINDS``, and the 11 others), model calls ("steps") and
tool calls per task, seconds per task, then the ratio localchain / langchain on the success
rate.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Run as a script, import the localchain of this checkout (not another editable install's).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MODEL = "smollm2-135m-instruct"
SYSTEM_PROMPT = (
    "You are a helpful assistant. Use the tools to look facts up and to compute; do not guess. "
    "When you have the result, answer in one short sentence that states it."
)

# -- the world ---------------------------------------------------------------------------------

DOCS = {
    "falcon.md": (
        "# Project Falcon\n\nProject Falcon builds small robots that clean rivers. The project "
        "started on 2019-03-14 in Tromso. Its lead engineer is Ines Varga. By the end of 2023 "
        "the project had built 42 robots. Each robot costs 1250 euros to build."
    ),
    "orchard.md": (
        "# Kestrel Orchard\n\nKestrel Orchard grows three apple varieties: Rubinette, Topaz and "
        "Santana. The orchard has 860 trees. It was founded in 1987 by Tomas Lind. The harvest "
        "festival was held on 2022-09-17."
    ),
    "library.md": (
        "# Brindle Library\n\nThe Brindle Library opened on 2001-06-02. It holds 15400 books "
        "and 320 maps. The head librarian is Mara Okoye. The library is open from 9:00 to 17:00, "
        "Monday to Saturday (8 hours a day, 6 days a week)."
    ),
    "ferry.md": (
        "# Selje ferry\n\nThe Selje ferry crosses the fjord in 25 minutes. It makes 14 crossings "
        "a day, every day of the week. A ticket costs 6 euros for an adult and 3 euros for a "
        "child. The ferry was built in 1998."
    ),
    "observatory.md": (
        "# Harrow Hill Observatory\n\nThe observatory opened on 2010-11-05. Its main telescope "
        "has a mirror 1.2 metres wide. It records about 3400 meteors a year. The director is "
        "Paul Achebe."
    ),
    "bakery.md": (
        "# Lumen Bakery\n\nLumen Bakery was founded on 2015-04-01 by Anna Berg. It bakes 480 "
        "loaves a day and sells each loaf for 3.5 euros."
    ),
}

CUSTOMERS = [
    (1, "Alice Moreau", "Lyon"),
    (2, "Bruno Keller", "Zurich"),
    (3, "Chen Wei", "Oslo"),
    (4, "Dana Ruiz", "Lyon"),
    (5, "Emil Novak", "Prague"),
    (6, "Ines Varga", "Bergen"),
]
ORDERS = [  # id, customer_id, product, quantity, unit_price, order_date
    (1, 1, "lamp", 2, 35.0, "2024-01-05"),
    (2, 1, "desk", 1, 220.0, "2024-02-11"),
    (3, 2, "chair", 4, 55.0, "2024-01-20"),
    (4, 3, "lamp", 1, 35.0, "2024-03-02"),
    (5, 3, "shelf", 2, 80.0, "2024-03-15"),
    (6, 3, "chair", 1, 55.0, "2024-03-28"),
    (7, 4, "desk", 1, 210.0, "2024-02-03"),
    (8, 4, "lamp", 3, 32.0, "2024-04-19"),
    (9, 5, "shelf", 1, 85.0, "2024-03-09"),
    (10, 6, "chair", 2, 60.0, "2024-01-28"),
    (11, 6, "lamp", 1, 35.0, "2024-03-21"),
    (12, 6, "desk", 1, 230.0, "2024-05-06"),
    (13, 1, "shelf", 1, 80.0, "2024-03-30"),
    (14, 2, "lamp", 2, 34.0, "2024-04-02"),
    (15, 1, "chair", 1, 55.0, "2024-05-20"),  # Alice Moreau: the most orders, alone
]

FACTS = [
    ("Nordlys Labs", "located_in", "Bergen"),
    ("Bergen", "in_country", "Norway"),
    ("Nordlys Labs", "founded_by", "Ines Varga"),
    ("Ines Varga", "born_in", "Tromso"),
    ("Tromso", "in_country", "Norway"),
    ("Nordlys Labs", "number_of_employees", "57"),
    ("Kestrel Orchard", "owned_by", "Tomas Lind"),
    ("Tomas Lind", "sibling_of", "Ines Varga"),
    ("Brindle Library", "located_in", "Dunmore"),
    ("Harrow Hill Observatory", "located_in", "Dunmore"),
    ("Dunmore", "in_country", "Ireland"),
    ("Dunmore", "population", "12800"),
    ("Mara Okoye", "works_at", "Brindle Library"),
    ("Paul Achebe", "director_of", "Harrow Hill Observatory"),
    ("Lumen Bakery", "located_in", "Lyon"),
    ("Anna Berg", "founded", "Lumen Bakery"),
]


def build_world(root: Path) -> dict[str, Path]:
    """Write the documents and the shop database under ``root``; return their paths."""
    docs = root / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for name, text in DOCS.items():
        (docs / name).write_text(text + "\n", encoding="utf-8")
    db = root / "shop.sqlite"
    db.unlink(missing_ok=True)
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, city TEXT)")
        conn.execute(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES "
            "customers(id), product TEXT, quantity INTEGER, unit_price REAL, order_date TEXT)"
        )
        conn.executemany("INSERT INTO customers VALUES (?, ?, ?)", CUSTOMERS)
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)", ORDERS)
    conn.close()
    return {"docs": docs, "db": db}


def query_one(db: Path, sql: str) -> Any:
    """The single value ``sql`` returns (used to compute the shop tasks' answers)."""
    with sqlite3.connect(db) as conn:
        value = conn.execute(sql).fetchone()[0]
    conn.close()
    return value


def days_between(a: str, b: str) -> int:
    """Whole days from ISO date ``a`` to ``b``."""
    return (datetime.date.fromisoformat(b) - datetime.date.fromisoformat(a)).days


# -- tasks -------------------------------------------------------------------------------------


@dataclass
class Task:
    """One question, the tools it needs, and its expected answer."""

    id: str
    question: str
    tools: tuple[str, ...]
    expected: float | str | Callable[[Path], float | str]
    """A number, a name, or a function of the database path giving one."""


SPENT = "SELECT SUM(o.quantity * o.unit_price) FROM orders o JOIN customers c ON c.id = "
SPENT += "o.customer_id WHERE c.name = '{}'"

TASKS = [
    # The shop database (sql, with a calculator or python step in some).
    Task(
        "sql-spent",
        "How much has Alice Moreau spent in the shop in total (quantity times "
        "unit price over all her orders)?",
        ("sql",),
        lambda db: query_one(db, SPENT.format("Alice Moreau")),
    ),
    Task(
        "sql-lyon-orders",
        "How many orders were placed by customers who live in Lyon?",
        ("sql",),
        lambda db: query_one(
            db,
            "SELECT COUNT(*) FROM orders o JOIN customers c ON "
            "c.id = o.customer_id WHERE c.city = 'Lyon'",
        ),
    ),
    Task(
        "sql-most-orders",
        "Which customer placed the most orders? Give the name.",
        ("sql",),
        "Alice Moreau",
    ),
    Task(
        "sql-avg-lamp",
        "What is the average unit price of the lamps sold in the shop?",
        ("sql",),
        lambda db: query_one(db, "SELECT AVG(unit_price) FROM orders WHERE product = 'lamp'"),
    ),
    Task(
        "sql-march",
        "What is the total value (quantity times unit price) of the orders placed in March 2024?",
        ("sql",),
        lambda db: query_one(
            db, "SELECT SUM(quantity * unit_price) FROM orders WHERE order_date LIKE '2024-03-%'"
        ),
    ),
    Task(
        "sql-chen-products",
        "How many different products has Chen Wei ordered?",
        ("sql",),
        lambda db: query_one(
            db, "SELECT COUNT(DISTINCT product) FROM orders WHERE customer_id = 3"
        ),
    ),
    Task(
        "sql-tax",
        "What do Bruno Keller's orders come to in total once 20% tax is added?",
        ("sql", "calculator"),
        lambda db: query_one(db, SPENT.format("Bruno Keller")) * 1.2,
    ),
    Task(
        "sql-dana-days",
        "How many days passed between Dana Ruiz's first and last order?",
        ("sql", "python"),
        days_between("2024-02-03", "2024-04-19"),
    ),
    Task(
        "sql-share",
        "What is 17% of the total value of all orders in the shop?",
        ("sql", "calculator"),
        lambda db: query_one(db, "SELECT SUM(quantity * unit_price) FROM orders") * 0.17,
    ),
    Task(
        "sql-chairs",
        "How many chairs were sold in total, and what would they cost at 50 euros "
        "each? Give the cost.",
        ("sql", "calculator"),
        lambda db: query_one(db, "SELECT SUM(quantity) FROM orders WHERE product = 'chair'") * 50,
    ),
    # The documents (search or read, then compute).
    Task(
        "doc-falcon-days",
        "How many days passed between the start of Project Falcon and 2024-01-01?",
        ("search", "python"),
        days_between("2019-03-14", "2024-01-01"),
    ),
    Task(
        "doc-falcon-cost",
        "What did all the robots built by Project Falcon cost together, in euros?",
        ("search", "calculator"),
        42 * 1250,
    ),
    Task(
        "doc-library-items",
        "How many books and maps does the Brindle Library hold altogether?",
        ("search", "calculator"),
        15400 + 320,
    ),
    Task(
        "doc-ferry-week",
        "How many crossings does the Selje ferry make in one week?",
        ("search", "calculator"),
        14 * 7,
    ),
    Task(
        "doc-ferry-tickets",
        "How much do Selje ferry tickets cost for 2 adults and 3 children?",
        ("search", "calculator"),
        2 * 6 + 3 * 3,
    ),
    Task(
        "doc-ferry-age",
        "How many years old was the Selje ferry in 2024?",
        ("search", "calculator"),
        2024 - 1998,
    ),
    Task(
        "doc-bakery-month",
        "How many loaves does Lumen Bakery bake in 30 days?",
        ("search", "calculator"),
        480 * 30,
    ),
    Task(
        "doc-bakery-revenue",
        "How much money does Lumen Bakery make in a day if it sells all its loaves?",
        ("search", "calculator"),
        480 * 3.5,
    ),
    Task(
        "doc-meteors",
        "On average, how many meteors does the Harrow Hill Observatory record per month?",
        ("search", "calculator"),
        3400 / 12,
    ),
    Task(
        "doc-trees",
        "On average, how many trees per apple variety does Kestrel Orchard have?",
        ("search", "calculator"),
        860 / 3,
    ),
    Task(
        "file-ferry-seconds",
        "Read the file ferry.md: how long does a crossing take, in seconds?",
        ("read_file", "calculator"),
        25 * 60,
    ),
    Task(
        "file-library-hours",
        "Read the file library.md: how many hours a week is the Brindle Library open?",
        ("read_file", "calculator"),
        8 * 6,
    ),
    Task(
        "file-observatory-days",
        "Read the file observatory.md: how many days passed between "
        "the observatory's opening and 2020-11-05?",
        ("read_file", "python"),
        days_between("2010-11-05", "2020-11-05"),
    ),
    # The knowledge graph (follow facts, sometimes compute).
    Task("kg-country", "In which country is Nordlys Labs located?", ("graph",), "Norway"),
    Task("kg-founder-born", "Where was the founder of Nordlys Labs born?", ("graph",), "Tromso"),
    Task(
        "kg-sibling",
        "Who is the sibling of the owner of Kestrel Orchard?",
        ("graph",),
        "Ines Varga",
    ),
    Task(
        "kg-payroll",
        "Nordlys Labs pays each employee 4000 euros a month. What is its monthly payroll?",
        ("graph", "calculator"),
        57 * 4000,
    ),
    Task(
        "kg-town",
        "In which town are both the Brindle Library and the Harrow Hill Observatory?",
        ("graph",),
        "Dunmore",
    ),
    Task(
        "kg-population",
        "What is the population of the town where Mara Okoye works, divided by 4?",
        ("graph", "calculator"),
        12800 / 4,
    ),
    # Across sources.
    Task(
        "mix-founder-spent",
        "How much has the founder of Nordlys Labs spent in the shop "
        "(quantity times unit price over all orders)?",
        ("graph", "sql"),
        lambda db: query_one(db, SPENT.format("Ines Varga")),
    ),
    Task(
        "mix-falcon-orders",
        "How many orders has the lead engineer of Project Falcon placed in the shop?",
        ("search", "sql"),
        lambda db: query_one(db, "SELECT COUNT(*) FROM orders WHERE customer_id = 6"),
    ),
    Task(
        "mix-falcon-country",
        "In which country did Project Falcon start?",
        ("search", "graph"),
        "Norway",
    ),
]


SEEN_KINDS = {
    "sql-spent", "sql-lyon-orders", "sql-avg-lamp", "sql-march", "sql-tax",
    "doc-falcon-days", "doc-falcon-cost", "doc-library-items", "doc-ferry-week",
    "doc-ferry-tickets", "doc-ferry-age", "doc-bakery-month", "doc-bakery-revenue", "doc-meteors",
    "file-ferry-seconds", "file-library-hours", "file-observatory-days",
    "kg-country", "kg-founder-born", "kg-sibling", "kg-payroll",
}  # fmt: skip
"""Tasks of a kind the agent-steps adapter's training data has (in other worlds and words:
``examples/agent_steps/make_data.py``); the others (a GROUP BY, a COUNT DISTINCT, two sources,
three graph hops, a list to count) have no such template. The table scores both groups."""


Fact = str | float | Callable[[Path], float]
"""A fact a task's answer rests on: text a tool result holds (case and spacing ignored), or a
number one shows (within 0.5 %; a function of the database path gives it)."""


def _total(name: str) -> Callable[[Path], float]:
    return lambda db: query_one(db, SPENT.format(name))


def _answer(task_id: str) -> Callable[[Path], float]:
    """The task's own expected number (the answer a right query shows)."""
    return lambda db: float(_expected(task_id, db))


NEEDED: dict[str, tuple[Fact, ...]] = {
    "sql-spent": (_answer("sql-spent"),),
    "sql-lyon-orders": (_answer("sql-lyon-orders"),),
    "sql-most-orders": ("Alice Moreau",),
    "sql-avg-lamp": (_answer("sql-avg-lamp"),),
    "sql-march": (_answer("sql-march"),),
    "sql-chen-products": (_answer("sql-chen-products"),),
    "sql-tax": (_total("Bruno Keller"),),
    "sql-dana-days": ("2024-02-03", "2024-04-19"),
    "sql-share": (lambda db: query_one(db, "SELECT SUM(quantity * unit_price) FROM orders"),),
    "sql-chairs": (
        lambda db: query_one(db, "SELECT SUM(quantity) FROM orders WHERE product = 'chair'"),
    ),
    "doc-falcon-days": ("2019-03-14",),
    "doc-falcon-cost": ("42 robots", "1250 euros"),
    "doc-library-items": ("15400 books and 320 maps",),
    "doc-ferry-week": ("14 crossings a day",),
    "doc-ferry-tickets": ("6 euros for an adult and 3 euros for a child",),
    "doc-ferry-age": ("built in 1998",),
    "doc-bakery-month": ("480 loaves",),
    "doc-bakery-revenue": ("480 loaves", "3.5 euros"),
    "doc-meteors": ("3400 meteors a year",),
    "doc-trees": ("860 trees", "Rubinette, Topaz and Santana"),
    "file-ferry-seconds": ("25 minutes",),
    "file-library-hours": ("8 hours a day, 6 days a week",),
    "file-observatory-days": ("2010-11-05",),
    "kg-country": ("Nordlys Labs --located_in--> Bergen", "Bergen --in_country--> Norway"),
    "kg-founder-born": (
        "Nordlys Labs --founded_by--> Ines Varga",
        "Ines Varga --born_in--> Tromso",
    ),
    "kg-sibling": (
        "Kestrel Orchard --owned_by--> Tomas Lind",
        "Tomas Lind --sibling_of--> Ines Varga",
    ),
    "kg-payroll": ("Nordlys Labs --number_of_employees--> 57",),
    "kg-town": (
        "Brindle Library --located_in--> Dunmore",
        "Harrow Hill Observatory --located_in--> Dunmore",
    ),
    "kg-population": ("Mara Okoye --works_at--> Brindle Library", "Dunmore --population--> 12800"),
    "mix-founder-spent": ("Nordlys Labs --founded_by--> Ines Varga", _total("Ines Varga")),
    "mix-falcon-orders": ("lead engineer is Ines Varga", _answer("mix-falcon-orders")),
    "mix-falcon-country": ("in Tromso", "Tromso --in_country--> Norway"),
}
"""The facts each task's answer rests on, which the agent's tools must have shown for the
model to answer right: what the framework controls (the right tool, with arguments that find
the facts), apart from what the model must then do with them (compute, read, answer)."""


def _expected(task_id: str, db: Path) -> float | str:
    task = next(t for t in TASKS if t.id == task_id)
    return task.expected(db) if callable(task.expected) else task.expected


def facts_found(task: Task, results: Sequence[tuple[str, str]], db: Path) -> bool:
    """Whether the tool ``results`` of a run (``(tool name, text)`` pairs) show every fact
    ``task`` needs (``NEEDED``); a number counts only in a database query's result (the
    number of chairs sold is not the ``8 hours a day`` of a document)."""
    shown = "\n".join(text for _, text in results)
    queried = "\n".join(text for name, text in results if name == "sql_query")
    for fact in NEEDED[task.id]:
        value = fact(db) if callable(fact) else fact
        if isinstance(value, str):
            if _fold(value) not in _fold(shown):
                return False
        elif not is_right(queried, float(value)):
            return False
    return True


# -- tools -------------------------------------------------------------------------------------


def build_tools(paths: dict[str, Path]) -> dict[str, Any]:
    """The built-in tools over the world, keyed by the short names tasks use."""
    from localchain.chains import KnowledgeGraph, Triple
    from localchain.index import FaissStore
    from localchain.models.embeddings import LocalEmbeddings
    from localchain.tools import (
        calculator,
        knowledge_graph_tool,
        python_tool,
        read_file_tool,
        retriever_tool,
        sql_tool,
    )

    texts = [(paths["docs"] / name).read_text(encoding="utf-8") for name in DOCS]
    store = FaissStore.from_texts(texts, LocalEmbeddings(), metadatas=[{"source": n} for n in DOCS])
    graph = KnowledgeGraph([Triple(subject=s, relation=r, object=o) for s, r, o in FACTS])
    return {
        "calculator": calculator,
        "python": python_tool(),
        "search": retriever_tool(
            store,
            k=2,
            name="search_documents",
            description="Search the notes about local projects and places. Input: a short query.",
        ),
        "read_file": read_file_tool(paths["docs"]),
        "graph": knowledge_graph_tool(graph, hops=2),
        "sql": sql_tool(paths["db"]),
    }


# -- scoring -----------------------------------------------------------------------------------

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


_LETTERS = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "ł": "l", "đ": "d"})


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    text = text.encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", text).strip().casefold()


def is_right(answer: str, expected: float | str) -> bool:
    """Whether the final ``answer`` holds ``expected`` (a number within 0.5 %, or a name)."""
    if isinstance(expected, str):
        return _fold(expected) in _fold(answer)
    for raw in _NUMBER.findall(answer):
        try:
            value = float(raw.replace(",", ""))
        except ValueError:
            continue
        if abs(value - expected) <= max(0.01, 0.005 * abs(expected)):
            return True
    return False


# -- contenders --------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One task run by one contender."""

    answer: str
    steps: int
    """Model calls (AI messages in the transcript)."""
    tool_calls: int
    seconds: float
    note: str = ""
    called: list[str] = field(default_factory=list)
    """The tools called, in order."""
    calls: list[str] = field(default_factory=list)
    """The calls with their arguments (``name({...})``), in order, for the ``--json`` file."""
    results: list[tuple[str, str]] = field(default_factory=list)
    """The tools' answers as (tool name, text), errors left out, in order."""
    found: bool = False
    """Whether the results showed every fact the task needs (``facts_found``)."""


Runner = Callable[[str, Sequence[Any]], Outcome]


class Unavailable(Exception):
    """A contender cannot run here (its code does not exist yet)."""


def _outcome(messages: Sequence[Any], seconds: float, note: str = "") -> Outcome:
    from langchain_core.messages import AIMessage, ToolMessage

    ai = [m for m in messages if isinstance(m, AIMessage)]
    called = [call["name"] for m in ai for call in m.tool_calls]
    calls = [
        f"{call['name']}({json.dumps(call['args'], ensure_ascii=False)})"
        for m in ai
        for call in m.tool_calls
    ]
    final = ai[-1] if ai and not ai[-1].tool_calls else None
    answer = final.text if final is not None else ""
    results = [
        (m.name or "", m.text)
        for m in messages
        if isinstance(m, ToolMessage) and getattr(m, "status", "") != "error"
    ]
    return Outcome(answer, len(ai), len(called), seconds, note, called, calls, results)


def langchain_runner(chat: Any, max_steps: int) -> Callable[[str, Sequence[Any]], Outcome]:
    """Contender: ``langchain.agents.create_agent(ChatLocal(...), tools)``."""
    from langchain.agents import create_agent
    from langchain_core.messages import HumanMessage
    from langgraph.errors import GraphRecursionError

    def run(question: str, tools: Sequence[Any]) -> Outcome:
        agent = create_agent(chat, list(tools), system_prompt=SYSTEM_PROMPT)
        # Each step is a model node then a tools node: 2 graph steps per model call, so at most
        # max_steps model calls (the last may answer, or call tools that then run).
        config = {"recursion_limit": 2 * max_steps}
        messages: list[Any] = [HumanMessage(question)]
        start = time.perf_counter()
        try:
            for state in agent.stream({"messages": messages}, config, stream_mode="values"):
                messages = state["messages"]
        except GraphRecursionError:
            return _outcome(messages, time.perf_counter() - start, "max steps")
        except Exception as err:  # noqa: BLE001 - e.g. a reply cut off mid-call: the task failed
            return _outcome(messages, time.perf_counter() - start, type(err).__name__)
        return _outcome(messages, time.perf_counter() - start)

    return run


def localchain_runner(
    chat: Any,
    max_steps: int,
    tool_k: int | None = 5,
    step_adapter: str | None = None,
    first_tool_choice: str = "route",
    focus_arguments: bool = True,
) -> Callable[[str, Sequence[Any]], Outcome]:
    """Contender: ``localchain.agents.create_agent(chat, tools, max_steps=...)``.

    Written against the API issue 8 describes (a LangGraph agent that takes
    ``{"messages": [...]}`` and raises ``AgentMaxStepsError`` carrying the transcript); it
    raises :class:`Unavailable` until ``localchain.agents`` has ``create_agent``.
    """
    try:
        from localchain.agents import create_agent
    except ImportError as err:
        msg = f"localchain.agents.create_agent is not available yet ({err})"
        raise Unavailable(msg) from err
    from langchain_core.messages import HumanMessage

    def run(question: str, tools: Sequence[Any]) -> Outcome:
        # What localchain's agent adds for small models: the first step consults a tool (in
        # "auto" mode a 135M model answers from memory; "route": the tools whose data holds
        # the request's words, "any": any tool), one
        # call per reply, a best-effort answer when the steps run out or a call repeats, and
        # (with --step-adapter) the steps with tools on that adapter.
        agent = create_agent(
            chat,
            list(tools),
            system_prompt=SYSTEM_PROMPT,
            max_steps=max_steps,
            first_tool_choice=first_tool_choice,
            parallel_tool_calls=False,
            on_max_steps="answer",
            on_repeated_call="answer",
            tool_k=tool_k,
            step_adapter=step_adapter,
            focus_arguments=focus_arguments,
        )
        start = time.perf_counter()
        try:
            state = agent.invoke({"messages": [HumanMessage(question)]})
        except Exception as err:  # AgentMaxStepsError and kin: score the transcript it carries
            transcript = getattr(err, "transcript", None) or getattr(err, "messages", None) or []
            return _outcome(transcript, time.perf_counter() - start, type(err).__name__)
        messages = state["messages"] if isinstance(state, dict) else state.messages
        return _outcome(messages, time.perf_counter() - start)

    return run


CONTENDERS = {"localchain": localchain_runner, "langchain": langchain_runner}


# -- the run -----------------------------------------------------------------------------------


@dataclass
class Row:
    """One contender's results."""

    name: str
    outcomes: list[tuple[Task, Outcome, bool]] = field(default_factory=list)

    def rate(self) -> float:
        """Share of tasks answered right."""
        return sum(ok for _, _, ok in self.outcomes) / len(self.outcomes) if self.outcomes else 0.0

    def mean(self, attribute: str) -> float:
        """Mean of an ``Outcome`` attribute over the tasks."""
        return statistics.fmean(getattr(o, attribute) for _, o, _ in self.outcomes)


def run_contender(
    name: str,
    runner: Runner,
    tasks: list[Task],
    tools: dict[str, Any],
    task_tools: bool,
    db: Path,
    concurrency: int = 1,
) -> Row:
    """Run every task (``concurrency`` at once through the one model), one line per task."""
    row = Row(name)

    def attempt(task: Task) -> tuple[Task, Outcome, bool, Any]:
        offered = [tools[t] for t in task.tools] if task_tools else list(tools.values())
        expected = task.expected(db) if callable(task.expected) else task.expected
        outcome = runner(task.question, offered)
        outcome.found = facts_found(task, outcome.results, db)
        return task, outcome, is_right(outcome.answer, expected), expected

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for task, outcome, ok, expected in pool.map(attempt, tasks):
            row.outcomes.append((task, outcome, ok))
            print(  # noqa: T201
                f"  {name:10} {task.id:22} {'ok ' if ok else 'no '} steps={outcome.steps} "
                f"calls={outcome.tool_calls} facts={'yes' if outcome.found else 'no '} "
                f"{outcome.seconds:5.1f}s expected={expected!r} "
                f"answer={outcome.answer[:80]!r} called={outcome.called} {outcome.note}",
                flush=True,
            )
    return row


def table(rows: list[Row]) -> str:
    """Markdown table of the rows, and the localchain / langchain ratio when both ran."""
    lines = [
        "| contender | tasks | success | facts found | seen kinds | other kinds | steps/task "
        "| tool calls/task | s/task |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        seen = [ok for t, _, ok in row.outcomes if t.id in SEEN_KINDS]
        other = [ok for t, _, ok in row.outcomes if t.id not in SEEN_KINDS]
        lines.append(
            f"| {row.name} | {len(row.outcomes)} | {row.rate():.2f} "
            f"| {sum(o.found for _, o, _ in row.outcomes)}/{len(row.outcomes)} "
            f"| {sum(seen)}/{len(seen)} "
            f"| {sum(other)}/{len(other)} | {row.mean('steps'):.1f} "
            f"| {row.mean('tool_calls'):.1f} | {row.mean('seconds'):.1f} |"
        )
    by_name = {row.name: row for row in rows}
    if "localchain" in by_name and "langchain" in by_name:
        ours, theirs = by_name["localchain"].rate(), by_name["langchain"].rate()
        ratio = f"{ours / theirs:.2f}x" if theirs else ("inf" if ours else "n/a")
        lines.append(f"\nsuccess rate localchain / langchain: {ratio}")
    return "\n".join(lines)


def routing_table(tasks: list[Task], tools: dict[str, Any]) -> str:
    """For each task, the first-step tools that ``route_by_data`` offers and the one nearest by
    embedding (``ToolSelector``, k=1), and whether a tool the task needs is among them."""
    from localchain.agents import ToolSelector, route_by_data

    offered = list(tools.values())
    selector = ToolSelector(offered, None, k=1)
    lines, routed_ok, nearest_ok = [], 0, 0
    for task in tasks:
        needed = {tools[name].name for name in task.tools}
        routed = route_by_data(task.question, offered)
        nearest = selector.select(task.question)
        routed_ok += bool(needed & set(routed))
        nearest_ok += bool(needed & set(nearest))
        lines.append(f"  {task.id:22} needs={sorted(needed)} routed={routed} nearest={nearest}")
    lines.append(
        f"a needed tool among those routed: {routed_ok}/{len(tasks)}; "
        f"nearest by embedding: {nearest_ok}/{len(tasks)}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Parse options, build the world and the tools, run the contenders, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contenders", default="localchain,langchain", help="comma-separated")
    parser.add_argument("--limit", type=int, default=0, help="run only the first N tasks")
    parser.add_argument("--tasks", help="comma-separated task ids to run")
    parser.add_argument("--max-steps", type=int, default=6, help="model calls per task")
    parser.add_argument("--max-tokens", type=int, default=128, help="tokens per model call")
    parser.add_argument(
        "--task-tools", action="store_true", help="offer only the tools a task needs"
    )
    parser.add_argument("--workdir", help="where to write the docs and database (default: temp)")
    parser.add_argument("--json", help="write every answer and the scores to this file")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="tasks in flight at once (the model's scheduler batches their calls; s/task is "
        "then each task's own wall time, longer than alone)",
    )
    parser.add_argument(
        "--tool-k",
        type=int,
        default=5,
        help="localchain's agent offers the k tools nearest the request (default 5 of 6)",
    )
    parser.add_argument(
        "--routing",
        action="store_true",
        help="only print which tools routing by data and the embedding preselection pick for "
        "each task's first step (no model runs)",
    )
    parser.add_argument(
        "--first-tool-choice",
        default="route",
        help="localchain's agent: create_agent(first_tool_choice=...) until a tool answers: "
        "'route' (default: the tools whose data holds the request's words) or 'any'",
    )
    parser.add_argument(
        "--no-focus",
        action="store_true",
        help="localchain's agent: create_agent(focus_arguments=False), the built-in tools' "
        "arguments not narrowed to what the request names",
    )
    parser.add_argument(
        "--step-adapter",
        help="localchain's agent: create_agent(step_adapter=...), an adapter name or directory "
        "for its steps with tools (e.g. build/agent-steps-smollm2); default: the model's own",
    )
    parser.add_argument(
        "--tool-adapter",
        help="ChatLocal(tool_adapter=...) for every contender: 'auto' (the shipped tool-calling "
        "adapter) or a path; default none (the plain model)",
    )
    args = parser.parse_args(argv)

    tasks = list(TASKS)
    if args.tasks:
        wanted = set(args.tasks.split(","))
        tasks = [t for t in tasks if t.id in wanted]
    if args.limit:
        tasks = tasks[: args.limit]
    if args.routing:
        with tempfile.TemporaryDirectory() as scratch:
            print(routing_table(tasks, build_tools(build_world(Path(scratch)))))  # noqa: T201
        return
    names = [n.strip() for n in args.contenders.split(",") if n.strip()]
    unknown = sorted(set(names) - set(CONTENDERS))
    if unknown:
        parser.error(f"unknown contenders {unknown}; choose from {', '.join(CONTENDERS)}")

    from localchain.models.chat import ChatLocal

    with tempfile.TemporaryDirectory() as scratch:
        paths = build_world(Path(args.workdir or scratch))
        tools = build_tools(paths)
        chat = ChatLocal(
            model=MODEL, max_new_tokens=args.max_tokens, tool_adapter=args.tool_adapter
        )
        rows = []
        for name in names:
            try:
                if name == "localchain":
                    runner = localchain_runner(
                        chat,
                        args.max_steps,
                        args.tool_k,
                        args.step_adapter,
                        args.first_tool_choice,
                        not args.no_focus,
                    )
                else:
                    runner = CONTENDERS[name](chat, args.max_steps)
            except Unavailable as err:
                print(f"{name}: skipped: {err}", flush=True)  # noqa: T201
                continue
            rows.append(
                run_contender(
                    name, runner, tasks, tools, args.task_tools, paths["db"], args.concurrency
                )
            )

    date = datetime.date.today().isoformat()
    offered = "the tools each task needs" if args.task_tools else "all tools"
    print(  # noqa: T201
        f"\nAgent tasks, {MODEL}, {date}, {len(tasks)} tasks, {offered}, "
        f"max {args.max_steps} steps, tool adapter {args.tool_adapter or 'none'}, "
        f"localchain tool_k {args.tool_k}, first_tool_choice {args.first_tool_choice}, "
        f"focus_arguments {not args.no_focus}, "
        f"step adapter {args.step_adapter or 'none'}\n"
    )
    print(table(rows))  # noqa: T201
    if args.json:
        report = {
            "date": date,
            "argv": sys.argv[1:],
            "rows": [
                {
                    "name": row.name,
                    "success": row.rate(),
                    "tasks": [{"id": t.id, "ok": ok, **o.__dict__} for t, o, ok in row.outcomes],
                }
                for row in rows
            ],
        }
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
