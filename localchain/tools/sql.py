"""``sql_tool`` and ``sql_schema_tool``: read-only SQL on a SQLite file, with every limit on.

Defence in depth, each layer enough on its own for writes:

1. The file is opened read-only (``file:...?mode=ro`` URI), one fresh connection per call.
2. An authorizer allows reads only: SELECT, reading columns, functions (but not
   ``load_extension``), recursive CTEs and a list of pragmas that only report (``table_info``
   and kin). Writes, ``ATTACH``, transactions and every other pragma are denied, and the
   refusal says what the statement tried to do.
3. A progress handler stops a query past its time or step budget; string and blob sizes are
   capped (so ``zeroblob(1e9)`` fails), and no database can be attached.
4. Results are capped in rows and characters, and say so when cut.
"""

from __future__ import annotations

import re
import sqlite3
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from localchain.errors import ConfigError, ToolError
from localchain.tools._builtin import KNOWN_TEXT_CHARS, MAX_NAMES, BuiltinTool, cut_text

READ_PRAGMAS = frozenset(
    {
        "table_info",
        "table_xinfo",
        "table_list",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
        "collation_list",
    }
)
"""Pragmas that only report the schema; every other pragma is refused."""
DENIED_FUNCTIONS = frozenset({"load_extension"})
_ALLOWED_ACTIONS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)
_WRITE_WORDS = {
    sqlite3.SQLITE_INSERT: "insert rows into {arg1}",
    sqlite3.SQLITE_UPDATE: "update {arg1}",
    sqlite3.SQLITE_DELETE: "delete rows from {arg1}",
    sqlite3.SQLITE_ATTACH: "attach another database",
    sqlite3.SQLITE_DETACH: "detach a database",
    sqlite3.SQLITE_PRAGMA: "run PRAGMA {arg1}",
    sqlite3.SQLITE_TRANSACTION: "start or end a transaction",
    sqlite3.SQLITE_SAVEPOINT: "use a savepoint",
    sqlite3.SQLITE_ALTER_TABLE: "alter a table",
    sqlite3.SQLITE_ANALYZE: "run ANALYZE",
    sqlite3.SQLITE_REINDEX: "rebuild an index",
    sqlite3.SQLITE_FUNCTION: "call {arg2}()",
}
_MAX_CELL_CHARS = 200
_MAX_VALUE_BYTES = 1_000_000
_PROGRESS_EVERY = 1000
"""SQLite virtual-machine steps between two checks of the budget."""


def _database_path(path: str | Path) -> Path:
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_file():
        msg = f"No SQLite database at {resolved}; pass the path of an existing .sqlite/.db file."
        raise ConfigError(msg)
    return resolved


class _Session:
    """One read-only connection with its authorizer, limits and budget, for one call."""

    def __init__(self, path: Path, *, timeout_s: float, max_steps: int) -> None:
        self.denied: list[str] = []
        self.stopped = False
        self.timeout_s = timeout_s
        self._deadline = time.monotonic() + timeout_s
        self._steps_left = max(max_steps // _PROGRESS_EVERY, 1)
        try:
            self.connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as err:
            msg = f"Cannot open the database {path.name} read-only: {err}."
            raise ToolError(msg) from err
        self.connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        self.connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, _MAX_VALUE_BYTES)
        self.connection.set_authorizer(self._authorize)
        self.connection.set_progress_handler(self._progress, _PROGRESS_EVERY)

    def _authorize(
        self, action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None
    ) -> int:
        if action in _ALLOWED_ACTIONS:
            if action != sqlite3.SQLITE_FUNCTION or (arg2 or "").lower() not in DENIED_FUNCTIONS:
                return sqlite3.SQLITE_OK
        elif action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in READ_PRAGMAS:
            return sqlite3.SQLITE_OK
        words = _WRITE_WORDS.get(action, "{what} {arg1}")
        if (arg1 or "") in ("sqlite_master", "sqlite_temp_master"):  # CREATE, DROP, ALTER...
            words = "change the schema (create, drop or alter a table, view or index)"
        text = words.format(arg1=arg1 or "", arg2=arg2 or "", what=_action_name(action))
        self.denied.append(text.strip())
        return sqlite3.SQLITE_DENY

    def _progress(self) -> int:
        self._steps_left -= 1
        if self._steps_left < 0 or time.monotonic() > self._deadline:
            self.stopped = True
            return 1  # interrupts the statement
        return 0

    def run(self, query: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        """Execute one statement; any failure becomes a ToolError the model can act on."""
        try:
            return self.connection.execute(query, params)
        except (sqlite3.Error, sqlite3.Warning) as err:
            raise self.explain(err) from None

    def explain(self, err: Exception) -> ToolError:
        """The message for a failed statement: refused, stopped, or SQLite's own words."""
        if self.denied:
            msg = (
                f"Refused: the database is read-only and this statement tries to "
                f"{self.denied[0]}. Only SELECT queries (WITH ... SELECT too) are allowed; "
                "use sql_schema to see the tables."
            )
        elif self.stopped:
            msg = (
                f"The query was stopped after {self.timeout_s:g} s (or its step budget): it "
                "does too much work. Add a WHERE clause or a LIMIT, or aggregate."
            )
        elif isinstance(err, sqlite3.ProgrammingError) and "one statement" in str(err):
            msg = "Send one SQL statement per call (no ';' between statements)."
        else:
            msg = f"SQL error: {err}. Check the table and column names with sql_schema."
        return ToolError(msg)

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


def _action_name(action: int) -> str:
    for name in dir(sqlite3):
        if name.startswith("SQLITE_") and getattr(sqlite3, name) == action and "LIMIT" not in name:
            return name.removeprefix("SQLITE_").lower().replace("_", " ")
    return f"action {action}"


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    text = str(value).replace("\n", " ")
    return text if len(text) <= _MAX_CELL_CHARS else text[:_MAX_CELL_CHARS] + "..."


def format_rows(
    columns: list[str], rows: list[tuple[Any, ...]], *, more: bool, max_chars: int
) -> str:
    """Rows as ``a | b`` lines under a header, with a note when rows or characters were cut."""
    lines = [" | ".join(columns)]
    size = len(lines[0])
    shown = 0
    for row in rows:
        line = " | ".join(_cell(value) for value in row)
        if size + len(line) + 1 > max_chars:
            break
        lines.append(line)
        size += len(line) + 1
        shown += 1
    if shown < len(rows):
        lines.append(
            f"({shown} rows shown; output cut at {max_chars} characters. Select fewer columns "
            "or add a LIMIT.)"
        )
    elif more:
        lines.append(
            f"(first {shown} rows shown; the query returned more. Add a LIMIT, a WHERE or "
            "aggregate with COUNT/SUM.)"
        )
    else:
        lines.append(f"({shown} row{'s' if shown != 1 else ''})")
    return "\n".join(lines)


SQL_QUERY_PATTERN = r'^(SELECT|WITH|select|with) [^{}"\n]{0,300}$'
"""What a model may write as a query: one line of at most 300 characters that starts a SELECT
(or WITH) statement, with no JSON braces or double quotes (string literals take single
quotes). It shapes the model's
output only; the tool takes any statement and refuses what is not a read with its own
message."""


SQL_WORDS = (  # noqa: SIM905 - a word list reads better as text
    "SELECT FROM WHERE AND OR NOT JOIN INNER LEFT OUTER CROSS ON USING GROUP BY ORDER HAVING "
    "LIMIT OFFSET AS DISTINCT ALL UNION INTERSECT EXCEPT LIKE GLOB IN IS NULL BETWEEN CASE "
    "WHEN THEN ELSE END DESC ASC EXISTS CAST WITH RECURSIVE COUNT SUM AVG MIN MAX ROUND ABS "
    "LENGTH LOWER UPPER SUBSTR TRIM COALESCE IFNULL NULLIF IIF REPLACE INSTR PRINTF DATE "
    "TIME DATETIME JULIANDAY STRFTIME GROUP_CONCAT INTEGER REAL TEXT TRUE FALSE"
).split()
"""SQLite keywords and functions a schema-grounded query may use (upper or lower case)."""
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


SELECT_WORDS = 8
"""The most words a grounded query has before its ``FROM`` (a small model otherwise lists
``order_date, order_date, ...`` until the token limit cuts the call off)."""
TAIL_WORDS = 16
"""The most words a grounded query has after ``FROM table``."""
GAP_CHARS = 6
"""The most spaces, brackets and operators in a row between two words of a grounded query
(bounds inside a word, such as a quoted string's length, made the grammar take 15 s to
compile, so they stay free)."""


def grounded_query_pattern(tables: dict[str, list[str]]) -> str | None:
    """A query pattern whose every word is a keyword, a table or column of ``tables`` (also
    ``table.column``), a one-letter alias (``o``, ``o.quantity``), a number or a
    single-quoted string; ``AS name`` may name a result column. It reads ``FROM`` one of the
    tables within :data:`SELECT_WORDS` words, has at most :data:`TAIL_WORDS` after it, and
    ends on a word or a closing bracket (the bounds cost the grammar about half a second to
    compile, once per tool set).

    So a small model writes ``SELECT AVG(unit_price) FROM orders``, never a table ``lamps``
    or a column ``price`` that the database lacks. None when a name needs quoting (the model
    then gets :data:`SQL_QUERY_PATTERN`) or there are more than ``MAX_NAMES`` names.
    """
    columns = {column.split(" ")[0] for cols in tables.values() for column in cols}
    names = set(tables) | columns
    names |= {
        f"{table}.{column.split(' ')[0]}" for table, cols in tables.items() for column in cols
    }
    if (
        not tables
        or len(names) > MAX_NAMES
        or not all(_PLAIN_NAME.fullmatch(n.replace(".", "_")) for n in names)
    ):
        return None
    words = names | set(SQL_WORDS) | {word.lower() for word in SQL_WORDS}
    by_length = sorted(words, key=lambda w: (-len(w), w))
    qualified = "|".join(sorted(columns, key=lambda c: (-len(c), c)))
    word = (
        "(?:"
        + "|".join(re.escape(w) for w in by_length)
        + rf"|[a-z][0-9]?(?:\.(?:{qualified}))?|(?:AS|as) [A-Za-z_][A-Za-z0-9_]*"
        + r"|[0-9]+(?:\.[0-9]+)?|'[^'\\\n]*')"
    )
    gap = rf"[ (),*+\-/<>=!%|]{{1,{GAP_CHARS}}}"  # a run of these ends too
    table = "|".join(re.escape(t) for t in sorted(tables, key=lambda t: (-len(t), t)))
    # FROM one of the tables soon, and the query ends on a word (or closing brackets): a
    # small model otherwise stops after the select list, or in the middle of a condition, or
    # repeats a column until the token limit.
    return (
        f"^(?:SELECT|WITH|select|with)(?:{gap}{word}){{0,{SELECT_WORDS}}}{gap}(?:FROM|from) "
        rf"(?:{table})(?:{gap}{word}){{0,{TAIL_WORDS}}}\){{0,{GAP_CHARS}}}$"
    )


class SQLQueryInput(BaseModel):
    """Arguments of the SQL query tool."""

    query: str = Field(description="One SQLite SELECT statement.")


class SQLTool(BuiltinTool):
    """Run read-only SQL (one SELECT) on a SQLite file; returns capped rows.

    Args:
        path: The database file (must exist; opened read-only).
        max_rows: The most rows returned.
        max_chars: The most characters returned.
        timeout_s: Seconds a query may run.
        max_steps: SQLite virtual-machine steps a query may take.
    """

    name: str = "sql_query"
    description: str = "Run one read-only SQLite SELECT query and get the rows."
    args_schema: type[BaseModel] = SQLQueryInput
    call_patterns: ClassVar[dict[str, str]] = {"query": SQL_QUERY_PATTERN}
    path: Path
    """The database file."""
    max_rows: int = Field(default=50, ge=1, le=10_000)
    max_chars: int = Field(default=4000, ge=200)
    timeout_s: float = Field(default=5.0, gt=0, le=600)
    max_steps: int = Field(default=50_000_000, ge=_PROGRESS_EVERY)

    def call_schema_extras(self) -> dict[str, dict[str, Any]]:
        """The query's pattern with the database's own table and column names
        (:func:`grounded_query_pattern`), read again when the file changes."""
        try:
            stat = self.path.stat()
            pattern = _grounded_pattern(self.path, stat.st_mtime_ns, stat.st_size)
        except (OSError, ToolError):
            pattern = None
        return {"query": {"pattern": pattern}} if pattern else super().call_schema_extras()

    def known_text(self, request: str) -> str | None:
        """The tables and columns (words split) and the text values of the database, read
        again when the file changes, up to ``KNOWN_TEXT_CHARS``."""
        try:
            stat = self.path.stat()
            return _known_text(self.path, stat.st_mtime_ns, stat.st_size)
        except (OSError, ToolError):
            return None

    def _run(self, query: str, **_: Any) -> str:
        if not query.strip():
            msg = "The query is empty; write one SELECT statement."
            raise ToolError(msg)
        session = _Session(self.path, timeout_s=self.timeout_s, max_steps=self.max_steps)
        try:
            cursor = session.run(query)
            if cursor.description is None:
                return "The statement ran and returned no rows."
            columns = [item[0] for item in cursor.description]
            try:
                rows = cursor.fetchmany(self.max_rows + 1)
            except (sqlite3.Error, sqlite3.Warning) as err:
                raise session.explain(err) from None
        finally:
            session.close()
        more = len(rows) > self.max_rows
        return format_rows(columns, rows[: self.max_rows], more=more, max_chars=self.max_chars)


@lru_cache(maxsize=32)
def _grounded_pattern(path: Path, _mtime_ns: int, _size: int) -> str | None:
    """The grounded pattern of the database at ``path`` as it is at that mtime and size."""
    return grounded_query_pattern(describe_tables(path))


@lru_cache(maxsize=32)
def _known_text(path: Path, _mtime_ns: int, _size: int) -> str:
    """Table and column names and distinct text values of the database at ``path``."""
    tables = describe_tables(path)
    parts: list[str] = []
    size = 0
    session = _Session(path, timeout_s=5.0, max_steps=10_000_000)
    try:
        for table, columns in tables.items():
            names = [column.split(" ")[0] for column in columns]
            parts.append(" ".join([table, *names]).replace("_", " "))
            for column in names:
                quoted_table = '"' + table.replace('"', '""') + '"'
                quoted = '"' + column.replace('"', '""') + '"'
                rows = session.run(
                    f"SELECT DISTINCT {quoted} FROM {quoted_table} "  # noqa: S608 - names quoted
                    f"WHERE typeof({quoted}) = 'text' LIMIT 500"
                ).fetchall()
                parts.extend(str(value) for (value,) in rows)
                size += sum(len(str(value)) for (value,) in rows)
                if size > KNOWN_TEXT_CHARS:
                    return "\n".join(parts)
    finally:
        session.close()
    return "\n".join(parts)


class SQLSchemaInput(BaseModel):
    """Arguments of the SQL schema tool."""

    table: str | None = Field(
        None, description="A table to describe with sample rows; leave empty to list all tables."
    )


def describe_tables(path: Path, *, timeout_s: float = 5.0) -> dict[str, list[str]]:
    """Each table and view of the database with its columns as ``name TYPE``, in file order."""
    session = _Session(path, timeout_s=timeout_s, max_steps=10_000_000)
    try:
        names = session.run(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
            "AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
        ).fetchall()
        tables = {}
        for (name,) in names:
            # The PRAGMA statement, not pragma_table_info(): the table-valued form asks the
            # authorizer to update sqlite_master when it first loads, which stays denied.
            quoted = '"' + name.replace('"', '""') + '"'
            info = session.run(f"PRAGMA table_info({quoted})").fetchall()
            tables[name] = [f"{row[1]} {row[2]}".strip() for row in info]
    finally:
        session.close()
    return tables


class SQLSchemaTool(BuiltinTool):
    """List the tables of a SQLite file with their columns, or describe one with sample rows.

    Args:
        path: The database file (must exist; opened read-only).
        sample_rows: Rows shown when one table is described.
        max_chars: The most characters returned.
    """

    name: str = "sql_schema"
    description: str = (
        "List the tables of the SQLite database with their columns; give a table name to "
        "see its columns and a few sample rows."
    )
    args_schema: type[BaseModel] = SQLSchemaInput
    path: Path
    sample_rows: int = Field(default=3, ge=0, le=50)
    max_chars: int = Field(default=4000, ge=200)

    def _run(self, table: str | None = None, **_: Any) -> str:
        tables = describe_tables(self.path)
        if not table or not table.strip():
            lines = [f"{name}({', '.join(columns)})" for name, columns in tables.items()]
            return cut_text("\n".join(lines) or "The database has no tables.", self.max_chars)
        match = {name.casefold(): name for name in tables}.get(table.strip().casefold())
        if match is None:
            msg = f"No table {table!r}. Tables: {', '.join(tables) or 'none'}."
            raise ToolError(msg)
        text = f"{match}({', '.join(tables[match])})"
        if self.sample_rows:
            quoted = '"' + match.replace('"', '""') + '"'
            session = _Session(self.path, timeout_s=5.0, max_steps=10_000_000)
            try:
                cursor = session.run(f"SELECT * FROM {quoted} LIMIT {self.sample_rows}")  # noqa: S608
                columns = [item[0] for item in cursor.description or []]
                rows = cursor.fetchall()
            finally:
                session.close()
            text += "\nsample rows:\n" + format_rows(
                columns, rows, more=False, max_chars=self.max_chars
            )
        return cut_text(text, self.max_chars)


def _summary(tables: dict[str, list[str]], limit: int = 600) -> str:
    text = "; ".join(
        f"{name}({', '.join(column.split(' ')[0] for column in columns)})"
        for name, columns in tables.items()
    )
    if len(text) > limit:
        text = text[:limit].rsplit(";", 1)[0] + "; ... (call sql_schema for the rest)"
    return text


def sql_tool(
    path: str | Path,
    *,
    name: str = "sql_query",
    max_rows: int = 50,
    max_chars: int = 4000,
    timeout_s: float = 5.0,
    max_steps: int = 50_000_000,
) -> SQLTool:
    """A tool that runs read-only SELECT queries on a SQLite file.

    Its description lists the tables and columns (cut for large schemas), so a small model
    can write a query without first calling :func:`sql_schema_tool`.

    Example:
        .. code-block:: python

            query = sql_tool("shop.sqlite")
            query.invoke({"query": "SELECT COUNT(*) FROM orders"})  # 'COUNT(*)\\n42\\n(1 row)'

    Args:
        path: An existing SQLite database file; it is opened read-only on every call.
        name: The tool's name, as the model calls it.
        max_rows: The most rows returned (the answer says when there were more).
        max_chars: The most characters returned.
        timeout_s: Seconds a query may run before it is stopped.
        max_steps: SQLite virtual-machine steps a query may take before it is stopped.

    Raises:
        ConfigError: There is no database file at ``path``.
    """
    resolved = _database_path(path)
    try:
        summary = _summary(describe_tables(resolved))
    except ToolError as err:
        msg = f"Cannot read the schema of {resolved}: {err}"
        raise ConfigError(msg) from err
    description = (
        "Run one read-only SQLite SELECT query and get the rows (at most "
        f"{max_rows}). Tables: {summary or 'none'}."
    )
    return SQLTool(
        path=resolved,
        name=name,
        description=description,
        max_rows=max_rows,
        max_chars=max_chars,
        timeout_s=timeout_s,
        max_steps=max_steps,
    )


def sql_schema_tool(path: str | Path, *, name: str = "sql_schema") -> SQLSchemaTool:
    """A tool that lists the tables and columns of a SQLite file, or samples one table.

    Args:
        path: An existing SQLite database file; it is opened read-only on every call.
        name: The tool's name, as the model calls it.

    Raises:
        ConfigError: There is no database file at ``path``.
    """
    return SQLSchemaTool(path=_database_path(path), name=name)


__all__ = [
    "DENIED_FUNCTIONS",
    "SQL_WORDS",
    "READ_PRAGMAS",
    "SQLQueryInput",
    "SQLSchemaInput",
    "SQLSchemaTool",
    "SQLTool",
    "describe_tables",
    "grounded_query_pattern",
    "format_rows",
    "sql_schema_tool",
    "sql_tool",
]
