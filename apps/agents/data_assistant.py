"""A data assistant over a SQLite file: read-only SQL queries and sandboxed Python.

Run it with ``python apps/agents/data_assistant.py shop.sqlite "How many orders are there?"``;
``--demo`` first writes a small shop database (customers and orders) to that path. The SQL tool
opens the file read-only; the python tool runs ``solution()`` programs in localchain's sandbox.
Each step is printed as it happens: the model's calls, the tools' results, the answer.
"""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

from localchain import ChatLocal, LocalchainError
from localchain.agents import create_agent
from localchain.tools import python_tool, sql_tool

DEFAULT_QUESTION = "How many orders are there in the orders table?"

CUSTOMERS = [(1, "Ada", "Oslo"), (2, "Bob", "Lyon"), (3, "Chen", "Oslo")]
ORDERS = [(1, 1, 12.5), (2, 2, 30.0), (3, 1, 7.5), (4, 3, 50.0), (5, 3, 22.0), (6, 1, 3.0)]


def write_demo_database(path: Path) -> Path:
    """Write a small shop database: 3 customers, 6 orders (totals sum to 125.0)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, city TEXT)")
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total REAL)")
        db.executemany("INSERT INTO customers VALUES (?, ?, ?)", CUSTOMERS)
        db.executemany("INSERT INTO orders VALUES (?, ?, ?)", ORDERS)
    return path


def main(argv: list[str] | None = None) -> int:
    """Run the agent on the question over the database, printing each step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path, help="a SQLite file")
    parser.add_argument("question", nargs="?", default=DEFAULT_QUESTION)
    parser.add_argument("--demo", action="store_true", help="first write a demo shop database")
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--max-steps", type=int, default=4)
    args = parser.parse_args(argv)

    if args.demo:
        write_demo_database(args.database)
    try:
        chat = ChatLocal(model=args.model, max_tokens=args.max_tokens)
        agent = create_agent(
            chat,
            [sql_tool(args.database), python_tool()],
            max_steps=args.max_steps,
            on_max_steps="answer",
            on_repeated_call="answer",
            # One call per reply: asked for a list, the 135M model keeps listing calls until
            # it runs out of tokens.
            parallel_tool_calls=False,
            first_tool_choice="any",  # query the data before answering
        )
        print(f"question: {args.question}", flush=True)
        result = agent.invoke(args.question, on_event=lambda event: print(event, flush=True))
    except LocalchainError as err:
        print(f"error: {err}")
        return 1
    print(f"answer: {result.output}")
    calls, tokens = len(result.tool_calls), result.total_tokens
    print(f"({calls} tool calls, {tokens} tokens, {result.seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
