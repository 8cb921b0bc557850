"""The web chat app's conversations, kept on the server in SQLite.

One table: a conversation has an id, a title, the model it talks to, its messages (a JSON list
of OpenAI-style message dicts) and timestamps. The store is shared by the request threads, so
one connection is used behind a lock; :meth:`ConversationStore.close` closes it cleanly.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from localchain.errors import HistoryStoreError

MAX_TITLE = 200
"""Longest title kept (longer ones are cut)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    model TEXT,
    messages TEXT NOT NULL DEFAULT '[]',
    created REAL NOT NULL,
    updated REAL NOT NULL
)
"""


class ConversationStore:
    """Conversations in one SQLite file (or in memory for ``":memory:"``)."""

    def __init__(self, path: str | Path) -> None:
        """Open (creating if needed) the database at ``path``.

        Raises:
            HistoryStoreError: The file cannot be opened or is not a database.
        """
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
        except sqlite3.Error as err:
            msg = f"Cannot open the conversations database {self.path!r}: {err}. Pass another --db."
            raise HistoryStoreError(msg) from err

    def list(self) -> list[dict[str, Any]]:
        """Every conversation without its messages, the most recently updated first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, title, model, created, updated FROM conversations ORDER BY updated DESC"
            ).fetchall()
        return [_summary(row) for row in rows]

    def get(self, conversation_id: str) -> dict[str, Any] | None:
        """One conversation with its messages, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, title, model, created, updated, messages FROM conversations "
                "WHERE id = ?",
                (conversation_id,),
            ).fetchone()
        if row is None:
            return None
        return {**_summary(row[:5]), "messages": json.loads(row[5])}

    def create(
        self, title: str, model: str | None = None, messages: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """Add a conversation and return it."""
        now = time.time()
        conversation_id = uuid.uuid4().hex
        with self._lock:
            self._db.execute(
                "INSERT INTO conversations (id, title, model, messages, created, updated) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (conversation_id, title[:MAX_TITLE], model, json.dumps(messages or []), now, now),
            )
        created = self.get(conversation_id)
        assert created is not None
        return created

    def update(
        self,
        conversation_id: str,
        *,
        title: str | None = None,
        model: str | None = None,
        messages: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any] | None:
        """Change a conversation's title, model or messages; None when there is no such id."""
        sets, values = ["updated = ?"], [time.time()]
        for column, value in (("title", title), ("model", model)):
            if value is not None:
                sets.append(f"{column} = ?")
                values.append(value[:MAX_TITLE] if column == "title" else value)
        if messages is not None:
            sets.append("messages = ?")
            values.append(json.dumps(messages))
        with self._lock:
            cursor = self._db.execute(
                f"UPDATE conversations SET {', '.join(sets)} WHERE id = ?",  # noqa: S608
                (*values, conversation_id),
            )
        return self.get(conversation_id) if cursor.rowcount else None

    def delete(self, conversation_id: str) -> bool:
        """Remove a conversation; False when there was none."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        return cursor.rowcount > 0

    def close(self) -> None:
        """Close the database (later calls fail)."""
        with self._lock:
            self._db.close()


def _summary(row: tuple[Any, ...]) -> dict[str, Any]:
    return {"id": row[0], "title": row[1], "model": row[2], "created": row[3], "updated": row[4]}


__all__ = ["MAX_TITLE", "ConversationStore"]
