"""Conversation memory: what of a conversation goes into the next prompt, and where it is kept.

```python
from localchain.memory import SQLiteChatMessageHistory, WindowMemory

memory = WindowMemory(k=4, history=SQLiteChatMessageHistory("ada", "chats.sqlite3"))
chain = memory.wrap(prompt | model)  # prompt has MessagesPlaceholder("history")
chain.invoke({"input": "Hi, I am Ada."})
```

Memories: ``BufferMemory`` (everything), ``WindowMemory`` (last k turns), ``TokenBudgetMemory``
(newest turns within a token budget), ``SummaryMemory`` (running summary plus recent turns),
``KnowledgeGraphMemory`` (facts about entities the input mentions) and ``VectorStoreMemory``
(older turns relevant to the input). Storage: any langchain-core chat history, such as
``SQLiteChatMessageHistory`` (per-session, crash-safe), which also plugs into
``RunnableWithMessageHistory``.
"""

from __future__ import annotations

from localchain.memory.base import ConversationMemory, Turn, split_turns
from localchain.memory.knowledge_graph import Fact, KnowledgeGraphMemory
from localchain.memory.sqlite_history import HistoryStoreError, SQLiteChatMessageHistory
from localchain.memory.summary import SUMMARY_PROMPT, SummaryMemory
from localchain.memory.vector import VectorStoreMemory
from localchain.memory.windows import BufferMemory, TokenBudgetMemory, WindowMemory

__all__ = [
    "SUMMARY_PROMPT",
    "BufferMemory",
    "ConversationMemory",
    "Fact",
    "HistoryStoreError",
    "KnowledgeGraphMemory",
    "SQLiteChatMessageHistory",
    "SummaryMemory",
    "TokenBudgetMemory",
    "Turn",
    "VectorStoreMemory",
    "WindowMemory",
    "split_turns",
]
