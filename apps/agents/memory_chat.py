"""A chat agent with memory: the conversation lives in a SQLite file and resumes after a restart.

Run it with ``python apps/agents/memory_chat.py --db chat.sqlite``, type messages (or pipe them
in, one per line), quit, run it again with the same ``--db`` and ``--thread``: the agent
continues the same conversation. Every step is saved as it finishes, so even a killed process
loses no finished step. The agent has a calculator; each step is printed as it happens.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from localchain import ChatLocal, LocalchainError
from localchain.agents import create_agent
from localchain.tools import calculator


def main(argv: list[str] | None = None) -> int:
    """Answer each message (arguments, or lines of stdin) in the saved conversation."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("messages", nargs="*", help="messages to send (default: read stdin)")
    parser.add_argument("--db", type=Path, default=Path("chat.sqlite"), help="SQLite memory")
    parser.add_argument("--thread", default="default", help="conversation id")
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--max-steps", type=int, default=3)
    parser.add_argument("--first-tool-choice", default=None, help='e.g. "any": use a tool first')
    args = parser.parse_args(argv)

    try:
        agent = create_agent(
            ChatLocal(model=args.model, max_tokens=args.max_tokens),
            [calculator],
            checkpointer=args.db,
            max_steps=args.max_steps,
            on_max_steps="answer",
            on_repeated_call="answer",
            # One call per reply: asked for a list, the 135M model keeps listing calls until
            # it runs out of tokens.
            parallel_tool_calls=False,
            first_tool_choice=args.first_tool_choice,
        )
        earlier = agent.get_messages(args.thread)
        if earlier:
            print(f"resumed conversation {args.thread!r}: {len(earlier)} earlier messages")
            print(f"  last: {earlier[-1].type}: {earlier[-1].text[:80]}", flush=True)
        else:
            print(f"new conversation {args.thread!r} in {args.db}", flush=True)
        lines = args.messages or (line.strip() for line in sys.stdin)
        for line in lines:
            if not line:
                continue
            print(f"you> {line}", flush=True)
            result = agent.invoke(
                line, thread_id=args.thread, on_event=lambda event: print(event, flush=True)
            )
            print(f"agent> {result.output}", flush=True)
    except LocalchainError as err:
        print(f"error: {err}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
