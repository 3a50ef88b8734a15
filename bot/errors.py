"""Errors shared by the channels (the CLI and the Telegram bot), so neither imports the other."""

from __future__ import annotations


class CliError(Exception):
    """A problem to report in one line (no traceback), with exit status 2."""


__all__ = ["CliError"]
