"""Secrets out of the logs: a logging filter that redacts the bot token and the webhook secret
(tracebacks included) and shortens network-error tracebacks to one line."""

from __future__ import annotations

import logging

from telegram.error import BadRequest, InvalidToken, NetworkError


class RedactSecrets(logging.Filter):
    """Replaces secrets (the bot token, the webhook secret) in log records, tracebacks included.

    PTB's InvalidToken message contains the token; its traceback is dropped altogether, and
    so is that of a network error (the error's own line says what happened).
    """

    def __init__(self, secrets_: list[str]):
        super().__init__()
        self.secrets = [s for s in secrets_ if s]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], InvalidToken):
            record.exc_info, record.exc_text = None, None
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
            # an unreachable or failing Bot API is a condition, not a bug: one line, no
            # traceback (PTB logs its start-up retries with one of 100 lines)
            record.msg = f"{record.getMessage()} ({type(error).__name__}: {error})"
            record.args, record.exc_info, record.exc_text = None, None, None
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def install_redaction(secrets_: list[str]) -> RedactSecrets:
    """Attach the filter to every root handler (and route warnings through logging)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    redactor = RedactSecrets(secrets_)
    for handler in root.handlers:
        handler.addFilter(redactor)
    logging.captureWarnings(True)
    return redactor
