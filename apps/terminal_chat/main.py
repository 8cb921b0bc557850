"""A terminal chat on a local model in about forty lines, using only ``localchain``'s public API.

Run it with ``python apps/terminal_chat/main.py`` (add ``--model flan-t5-base`` or a checkpoint
directory to change model), or pipe questions in: ``echo "What is the capital of France?" |
python apps/terminal_chat/main.py``. The full-featured version is ``localchain chat``.
"""

from __future__ import annotations

import argparse
import sys

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from localchain import ChatLocal, LocalchainError


def chat_loop(chat: ChatLocal, system: str | None = None) -> None:
    """Answer each line of stdin, streaming tokens, keeping the conversation as history."""
    history: list[BaseMessage] = [SystemMessage(system)] if system else []
    interactive = sys.stdin.isatty()
    while True:
        try:
            line = input("you> ") if interactive else sys.stdin.readline() or None
        except EOFError:
            line = None
        if line is None or line.strip() == "/exit":
            return
        if not line.strip():
            continue
        if line.strip() == "/reset":
            history = history[:1] if system else []
            continue
        history.append(HumanMessage(line.strip()))
        reply = ""
        for chunk in chat.stream(history):  # one AIMessageChunk per token
            reply += chunk.text
            print(chunk.text, end="", flush=True)
        print()
        history.append(AIMessage(reply))


def main() -> int:
    """Parse ``--model``/``--system``, then chat until /exit or end of input."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--system", default=None)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    args = parser.parse_args()
    try:
        chat_loop(ChatLocal(model=args.model, max_new_tokens=args.max_new_tokens), args.system)
    except LocalchainError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
