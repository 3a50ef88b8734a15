"""`python -m bot`: the Telegram bot, like `qabot serve` (other `qabot` commands work too)."""

from __future__ import annotations

import sys

from bot.cli import build_parser, main


def _argv(args: list[str]) -> list[str]:
    """`python -m bot [--data-dir DIR] [--index PATH]` serves; `python -m bot ask ...` is `qabot ask`."""
    commands = next(
        action.choices
        for action in build_parser()._actions  # noqa: SLF001 - argparse keeps subcommands here
        if hasattr(action, "choices") and isinstance(action.choices, dict)
    )
    if args and (args[0] in commands or args[0] in {"-h", "--help", "--version"}):
        return args
    return ["serve", *args]


if __name__ == "__main__":
    sys.exit(main(_argv(sys.argv[1:])))
