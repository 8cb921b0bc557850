"""Per-session chat history in SQLite, durable across crashes, for RunnableWithMessageHistory.

Each message is one row (``session_id``, JSON from langchain's ``message_to_dict``). The database
runs in WAL mode with ``synchronous=FULL`` and every ``add_messages`` call is one committed
transaction, so a process killed mid-conversation loses no message whose ``add`` returned, and a
batch is stored whole or not at all.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage, message_to_dict, messages_from_dict

from localchain.errors import ConfigError, HistoryStoreError

_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class SQLiteChatMessageHistory(BaseChatMessageHistory):
    """The messages of one session, stored in a SQLite file that many sessions can share.

    Example:
        .. code-block:: python

            from langchain_core.runnables.history import RunnableWithMessageHistory

            chain = RunnableWithMessageHistory(
                prompt | model,
                SQLiteChatMessageHistory.factory("chats.sqlite3"),
                input_messages_key="input",
                history_messages_key="history",
            )
            chain.invoke({"input": "Hi"}, {"configurable": {"session_id": "ada"}})

    Args:
        session_id: Names the conversation; sessions in one file never see each other's rows.
        path: The database file (created with its parent directories), or ":memory:".
        table: The table name (letters, digits and underscores).
        timeout: Seconds to wait for another writer's lock before failing.

    Raises:
        ConfigError: An empty ``session_id`` or a bad table name.
        HistoryStoreError: The file cannot be opened as a SQLite database.
    """

    def __init__(
        self,
        session_id: str,
        path: str | Path = "chat_history.sqlite3",
        *,
        table: str = "message_store",
        timeout: float = 30.0,
    ) -> None:
        if not isinstance(session_id, str) or not session_id.strip():
            msg = f"session_id must be a non-empty string, got {session_id!r}."
            raise ConfigError(msg)
        if not _TABLE_NAME.match(table):
            msg = f"table must be letters, digits and underscores, got {table!r}."
            raise ConfigError(msg)
        self.session_id = session_id
        self.path = str(path) if str(path) == ":memory:" else Path(path)
        self.table = table
        self._lock = threading.Lock()
        try:
            if isinstance(self.path, Path):
                self.path.parent.mkdir(parents=True, exist_ok=True)
            # autocommit mode: transactions are opened and committed explicitly below
            self._conn = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                "session_id TEXT NOT NULL, message TEXT NOT NULL)"
            )
            self._conn.execute(
                f"CREATE INDEX IF NOT EXISTS {table}_session ON {table} (session_id, id)"
            )
        except (sqlite3.Error, OSError) as err:
            raise self._error(err, "open") from err

    def _error(self, err: Exception, action: str) -> HistoryStoreError:
        msg = (
            f"Cannot {action} chat history {str(self.path)!r} (session {self.session_id!r}): "
            f"{err}. Check that the path is a writable SQLite file, or pick another path."
        )
        return HistoryStoreError(msg)

    @classmethod
    def factory(cls, path: str | Path, **kwargs: Any) -> Callable[[str], SQLiteChatMessageHistory]:
        """A ``get_session_history(session_id)`` function for ``RunnableWithMessageHistory``.

        Args:
            path: The database file every session shares.
            **kwargs: ``table`` and ``timeout``, as for the constructor.
        """

        def get_session_history(session_id: str) -> SQLiteChatMessageHistory:
            return cls(session_id, path, **kwargs)

        return get_session_history

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """This session's messages, oldest first.

        Raises:
            HistoryStoreError: The database cannot be read, or a stored row does not parse.
        """
        try:
            with self._lock:
                rows = self._conn.execute(
                    f"SELECT id, message FROM {self.table} WHERE session_id = ? ORDER BY id",
                    (self.session_id,),
                ).fetchall()
        except sqlite3.Error as err:
            raise self._error(err, "read") from err
        messages = []
        for row_id, text in rows:
            try:
                messages.extend(messages_from_dict([json.loads(text)]))
            except (ValueError, KeyError, TypeError) as err:
                msg = (
                    f"Row {row_id} of chat history {str(self.path)!r} (session "
                    f"{self.session_id!r}) is not a stored message: {text!r:.80}. Delete or "
                    "fix that row."
                )
                raise HistoryStoreError(msg) from err
        return messages

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Store messages in one committed transaction: all of them are durable, or none.

        Raises:
            ConfigError: An item is not a langchain message.
            HistoryStoreError: The database cannot be written.
        """
        messages = list(messages)
        for message in messages:
            if not isinstance(message, BaseMessage):
                msg = f"Chat history stores langchain messages, got {message!r:.80}."
                raise ConfigError(msg)
        rows = [(self.session_id, json.dumps(message_to_dict(m))) for m in messages]
        if not rows:
            return
        try:
            with self._lock:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    self._conn.executemany(
                        f"INSERT INTO {self.table} (session_id, message) VALUES (?, ?)", rows
                    )
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
        except sqlite3.Error as err:
            raise self._error(err, "write") from err

    def clear(self) -> None:
        """Delete this session's messages (other sessions are untouched)."""
        try:
            with self._lock:
                self._conn.execute(
                    f"DELETE FROM {self.table} WHERE session_id = ?", (self.session_id,)
                )
        except sqlite3.Error as err:
            raise self._error(err, "clear") from err

    def sessions(self) -> list[str]:
        """Every session id stored in this file, sorted."""
        try:
            with self._lock:
                rows = self._conn.execute(
                    f"SELECT DISTINCT session_id FROM {self.table} ORDER BY session_id"
                ).fetchall()
        except sqlite3.Error as err:
            raise self._error(err, "read") from err
        return [row[0] for row in rows]

    def close(self) -> None:
        """Close the database connection (the data is already committed)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SQLiteChatMessageHistory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["HistoryStoreError", "SQLiteChatMessageHistory"]
