"""Agents a small local model can drive, built on LangGraph.

```python
from localchain import ChatLocal
from localchain.agents import create_agent
from localchain.tools import calculator

agent = create_agent(ChatLocal(), [calculator], checkpointer="chat.sqlite")
result = agent.invoke("What is 17 * 23?")
result.output, result.steps  # the answer, and each step with tokens and seconds
```

``langchain.agents.create_agent(ChatLocal(), tools)`` works too; this one adds what small
models need: several calls per reply, tool preselection, routing by data, loop guards,
bounded retries, human approval, step-by-step streaming and SQLite memory. Names load on
first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from localchain._lazy import lazy_getattr
from localchain.errors import AgentMaxStepsError

if TYPE_CHECKING:
    from localchain.agents.agent import LocalAgent, create_agent, requires_approval
    from localchain.agents.selection import ToolSelector, route_by_data
    from localchain.agents.state import AgentEvent, AgentResult, AgentState, AgentStep

_LAZY = {
    "LocalAgent": "localchain.agents.agent",
    "create_agent": "localchain.agents.agent",
    "requires_approval": "localchain.agents.agent",
    "ToolSelector": "localchain.agents.selection",
    "route_by_data": "localchain.agents.selection",
    "AgentEvent": "localchain.agents.state",
    "AgentResult": "localchain.agents.state",
    "AgentState": "localchain.agents.state",
    "AgentStep": "localchain.agents.state",
}

__all__ = [
    "AgentEvent",
    "AgentMaxStepsError",
    "AgentResult",
    "AgentState",
    "AgentStep",
    "LocalAgent",
    "ToolSelector",
    "create_agent",
    "requires_approval",
    "route_by_data",
]

__getattr__ = lazy_getattr(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
