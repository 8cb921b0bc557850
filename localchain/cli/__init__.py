"""The ``localchain`` command line: ``localchain chat``, ``localchain models``, ``--version``.

>>> main(["models", "--json"])  # doctest: +SKIP
0
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from localchain import __version__
from localchain.cli.commands import COMMANDS
from localchain.errors import LocalchainError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one subparser per entry of ``COMMANDS``."""
    parser = argparse.ArgumentParser(
        prog="localchain", description="LangChain-style apps on local models, offline."
    )
    parser.add_argument("--version", action="version", version=f"localchain {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub = subparsers.add_parser(name, help=command.help, description=command.help)
        command.add_arguments(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``localchain`` command line.

    Args:
        argv: Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns:
        The exit status: 0 on success, 1 when localchain raised an error (its message is
        printed, without a traceback), 2 for bad usage.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version and usage errors
        return exit_.code if isinstance(exit_.code, int) else 0 if exit_.code is None else 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return COMMANDS[args.command].run(args)
    except LocalchainError as err:
        print(f"localchain: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130


__all__ = ["build_parser", "main"]
