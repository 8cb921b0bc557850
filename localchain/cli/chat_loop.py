"""The terminal chat loop shared by ``localchain chat``: history, streaming, slash commands.

It works on any LangChain chat model, so tests drive it with ``FakeChatModel``. Replies go to
``stdout`` and everything else (prompts, notices, errors) to ``stderr``, so
``echo question | localchain chat > answer.txt`` captures just the answer.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from localchain.errors import LocalchainError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

HELP = "Commands: /reset clears the conversation, /exit quits (or Ctrl-D); Ctrl-C stops a reply."


class ChatSession:
    """A conversation with a chat model, kept as LangChain messages.

    Example:
        .. code-block:: python

            session = ChatSession(ChatLocal(), system="Answer in one sentence.")
            session.send("What is the capital of France?", on_token=print)
    """

    def __init__(self, model: BaseChatModel, *, system: str | None = None) -> None:
        """Start an empty conversation.

        Args:
            model: Any LangChain chat model (``ChatLocal``, ``FakeChatModel``...).
            system: A system message kept at the head of the conversation, across resets.
        """
        self.model = model
        self.system = system
        self.messages: list[BaseMessage] = []
        self.reset()

    def reset(self) -> None:
        """Forget every turn (the system message stays)."""
        from langchain_core.messages import SystemMessage

        self.messages = [SystemMessage(self.system)] if self.system else []

    def send(
        self, text: str, *, stream: bool = True, on_token: Callable[[str], None] | None = None
    ) -> str:
        """Add a user turn, generate the reply, add it to the history and return its text.

        Args:
            text: What the user said.
            stream: Generate token by token (calling ``on_token`` for each piece) or at once.
            on_token: Called with each piece of the reply as it arrives (once with the
                whole reply when ``stream`` is False).

        Raises:
            KeyboardInterrupt: The reply was interrupted; the turn is dropped from the history.
            LocalchainError: Generation failed (e.g. the conversation outgrew the context
                window); the turn is dropped from the history.
        """
        from langchain_core.messages import AIMessage, HumanMessage

        emit = on_token or (lambda _piece: None)
        self.messages.append(HumanMessage(text))
        try:
            if stream:
                pieces: list[str] = []
                chunks = self.model.stream(self.messages)
                try:
                    for chunk in chunks:
                        piece = str(chunk.text)
                        if piece:
                            pieces.append(piece)
                            emit(piece)
                finally:
                    close = getattr(chunks, "close", None)
                    if close is not None:
                        close()
                reply = "".join(pieces)
            else:
                message = self.model.invoke(self.messages)
                reply = str(message.text)
                emit(reply)
        except BaseException:
            self.messages.pop()  # a failed or interrupted turn leaves no trace
            raise
        self.messages.append(AIMessage(reply))
        return reply


def run_chat(
    session: ChatSession,
    *,
    stream: bool = True,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Read lines, answer them, until ``/exit`` or end of input.

    When both ``stdin`` and ``stdout`` are terminals the loop prompts with ``you> `` (with line
    editing); otherwise it reads plain lines, so piped input works.

    Args:
        session: The conversation to continue.
        stream: Print replies token by token.
        stdin: Where lines come from (default ``sys.stdin``).
        stdout: Where replies go (default ``sys.stdout``).
        stderr: Where prompts, notices and errors go (default ``sys.stderr``).

    Returns:
        0, or 1 when some turn failed while reading non-interactive input.
    """
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    interactive = _isatty(stdin) and _isatty(stdout)
    failed = False

    def write(piece: str) -> None:
        stdout.write(piece)
        stdout.flush()

    if interactive:
        print(HELP, file=stderr)
    while True:
        try:
            line = _read_line(stdin, interactive)
        except KeyboardInterrupt:  # at the prompt: drop the line, like Python's REPL
            print("\n(Ctrl-D or /exit to quit)", file=stderr)
            continue
        if line is None:  # EOF / Ctrl-D
            if interactive:
                print(file=stderr)
            return 1 if failed else 0
        text = line.strip()
        if not text:
            continue
        if text in ("/exit", "/quit"):
            return 1 if failed else 0
        if text == "/reset":
            session.reset()
            print("(conversation cleared)", file=stderr)
            continue
        if text in ("/help", "/?"):
            print(HELP, file=stderr)
            continue
        try:
            reply = session.send(text, stream=stream, on_token=write)
        except KeyboardInterrupt:
            stdout.write("\n")
            print("(reply interrupted)", file=stderr)
            continue
        except LocalchainError as err:
            print(f"\nlocalchain: error: {err}", file=stderr)
            if not interactive:
                failed = True
            continue
        if not reply.endswith("\n"):
            write("\n")


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _read_line(stdin: TextIO, interactive: bool) -> str | None:
    if interactive and stdin is sys.stdin:
        try:
            return input("you> ")  # input() gives readline editing and history
        except EOFError:
            return None
    line = stdin.readline()
    return line or None


__all__ = ["HELP", "ChatSession", "run_chat"]
