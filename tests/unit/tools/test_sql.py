"""sql_tool / sql_schema_tool: reads work, every kind of write is refused, limits hold."""

from __future__ import annotations

import sqlite3
import time

import pytest

from localchain.errors import ConfigError
from localchain.tools import SQLSchemaTool, SQLTool, sql_schema_tool, sql_tool


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "shop.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, city TEXT)")
        connection.execute(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INT, total REAL)"
        )
        connection.executemany(
            "INSERT INTO customers (name, city) VALUES (?, ?)",
            [("Ada", "London"), ("Grace", "New York"), ("Linus", "Helsinki")],
        )
        connection.executemany(
            "INSERT INTO orders (customer_id, total) VALUES (?, ?)",
            [(1 + i % 3, 10.0 + i) for i in range(200)],
        )
        connection.execute("CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100")
    connection.close()
    return path


def call(tool, query):
    return tool.invoke(
        {"name": tool.name, "args": {"query": query}, "id": "s1", "type": "tool_call"}
    )


def rows_in(path):
    with sqlite3.connect(path) as connection:
        count = connection.execute("SELECT COUNT(*) FROM customers").fetchone()[0]
    connection.close()
    return count


def test_select_returns_rows_with_a_header(db):
    message = call(sql_tool(db), "SELECT name, city FROM customers ORDER BY id")
    assert message.status == "success"
    assert (
        message.content == "name | city\nAda | London\nGrace | New York\nLinus | Helsinki\n(3 rows)"
    )


def test_aggregates_joins_ctes_and_views(db):
    tool = sql_tool(db)
    assert tool.invoke({"query": "SELECT COUNT(*) AS n FROM orders"}) == "n\n200\n(1 row)"
    joined = tool.invoke(
        {
            "query": "SELECT c.name, ROUND(SUM(o.total), 1) FROM customers c JOIN orders o "
            "ON o.customer_id = c.id GROUP BY c.name ORDER BY c.name"
        }
    )
    assert joined.splitlines()[1].startswith("Ada | ")
    cte = tool.invoke({"query": "WITH t AS (SELECT total FROM big_orders) SELECT COUNT(*) FROM t"})
    assert cte.splitlines()[1] == "109"
    pragma = tool.invoke({"query": "PRAGMA table_info(customers)"}).splitlines()
    assert pragma[0].startswith("cid | name | type") and pragma[-1] == "(3 rows)"


def test_description_lists_tables_and_columns(db):
    tool = sql_tool(db)
    assert isinstance(tool, SQLTool) and tool.name == "sql_query"
    assert "customers(id, name, city)" in tool.description
    assert "orders(id, customer_id, total)" in tool.description


def test_rows_are_capped_and_the_cut_is_said(db):
    text = sql_tool(db, max_rows=5).invoke({"query": "SELECT * FROM orders"})
    lines = text.splitlines()
    assert len(lines) == 7  # header, 5 rows, note
    assert "first 5 rows shown; the query returned more" in lines[-1]


def test_characters_are_capped(db):
    text = sql_tool(db, max_rows=1000, max_chars=300).invoke({"query": "SELECT * FROM orders"})
    assert len(text) < 450 and "output cut at 300 characters" in text


def test_long_cells_and_blobs_are_shortened(db):
    text = sql_tool(db).invoke({"query": "SELECT printf('%.500c', 'x'), randomblob(16), NULL"})
    cells = text.splitlines()[1].split(" | ")
    assert cells[0].endswith("...") and len(cells[0]) < 250
    assert cells[1:] == ["<16 bytes>", "NULL"]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("INSERT INTO customers (name) VALUES ('Eve')", "insert rows into customers"),
        ("REPLACE INTO customers (id, name) VALUES (1, 'Eve')", "insert rows into customers"),
        ("UPDATE customers SET city = 'Paris'", "update customers"),
        ("DELETE FROM customers", "delete rows from customers"),
        ("DROP TABLE customers", "change the schema"),
        ("CREATE TABLE evil (x)", "change the schema"),
        ("CREATE TEMP TABLE evil (x)", "change the schema"),
        ("ALTER TABLE customers ADD COLUMN x", "alter a table"),
        ("CREATE INDEX i ON orders (total)", "change the schema"),
        ("ATTACH DATABASE ':memory:' AS other", "attach another database"),
        ("VACUUM INTO '/tmp/localchain-copy.sqlite'", "attach another database"),
        ("PRAGMA journal_mode = DELETE", "run PRAGMA journal_mode"),
        ("PRAGMA user_version = 7", "run PRAGMA user_version"),
        ("PRAGMA writable_schema = ON", "run PRAGMA writable_schema"),
        ("BEGIN IMMEDIATE", "start or end a transaction"),
        ("SAVEPOINT s", "use a savepoint"),
        ("SELECT load_extension('x')", "call load_extension()"),
    ],
)
def test_writes_and_escapes_are_refused_with_a_clear_message(db, query, words):
    message = call(sql_tool(db), query)
    assert message.status == "error"
    assert message.content.startswith("Refused: the database is read-only")
    assert words in message.content
    assert "Only SELECT queries" in message.content
    assert rows_in(db) == 3


def test_file_is_opened_read_only_even_without_the_authorizer(db, monkeypatch):
    from localchain.tools import sql as module

    monkeypatch.setattr(module._Session, "_authorize", lambda self, *args: sqlite3.SQLITE_OK)
    message = call(sql_tool(db), "DELETE FROM customers")
    assert message.status == "error" and "readonly" in message.content.replace("-", "")
    assert rows_in(db) == 3


def test_runaway_query_is_stopped_by_time(db):
    tool = sql_tool(db, timeout_s=0.3)
    started = time.monotonic()
    message = call(
        tool,
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT COUNT(*) FROM n",
    )
    assert time.monotonic() - started < 3
    assert message.status == "error" and "stopped after 0.3 s" in message.content
    assert "LIMIT" in message.content


def test_runaway_query_is_stopped_by_steps(db):
    tool = sql_tool(db, max_steps=10_000, timeout_s=60)
    message = call(tool, "SELECT COUNT(*) FROM orders a, orders b, orders c")
    assert message.status == "error" and "stopped" in message.content


def test_huge_values_are_refused(db):
    message = call(sql_tool(db), "SELECT zeroblob(1000000000)")
    assert message.status == "error" and "too big" in message.content


def test_one_statement_per_call(db):
    message = call(sql_tool(db), "SELECT 1; DELETE FROM customers")
    assert message.status == "error" and "one SQL statement per call" in message.content
    assert rows_in(db) == 3


def test_sql_errors_point_at_the_schema(db):
    message = call(sql_tool(db), "SELECT * FROM customer")
    assert message.status == "error"
    assert "no such table: customer" in message.content and "sql_schema" in message.content


def test_bad_arguments(db):
    tool = sql_tool(db)
    assert call(tool, "   ").status == "error"
    message = tool.invoke(
        {"name": "sql_query", "args": {"sql": "SELECT 1"}, "id": "x", "type": "tool_call"}
    )
    assert message.status == "error" and "query: Field required" in message.content


def test_missing_database_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="No SQLite database"):
        sql_tool(tmp_path / "absent.sqlite")
    with pytest.raises(ConfigError, match="No SQLite database"):
        sql_schema_tool(tmp_path)
    assert not (tmp_path / "absent.sqlite").exists()


def test_schema_lists_tables_and_views(db):
    tool = sql_schema_tool(db)
    assert isinstance(tool, SQLSchemaTool) and tool.name == "sql_schema"
    assert tool.invoke({}).splitlines() == [
        "customers(id INTEGER, name TEXT, city TEXT)",
        "orders(id INTEGER, customer_id INT, total REAL)",
        "big_orders(id INTEGER, customer_id INT, total REAL)",
    ]


def test_schema_of_one_table_with_sample_rows(db):
    text = sql_schema_tool(db).invoke({"table": "CUSTOMERS"})
    assert text.splitlines()[:3] == [
        "customers(id INTEGER, name TEXT, city TEXT)",
        "sample rows:",
        "id | name | city",
    ]
    assert "1 | Ada | London" in text


def test_schema_of_an_unknown_table_lists_the_tables(db):
    message = sql_schema_tool(db).invoke(
        {"name": "sql_schema", "args": {"table": "clients"}, "id": "x", "type": "tool_call"}
    )
    assert message.status == "error"
    assert message.content == "No table 'clients'. Tables: customers, orders, big_orders."
