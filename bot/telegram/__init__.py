"""The Telegram bot (python-telegram-bot 22): questions in, answers with their source out.

Re-exports the public names; `app` runs the bot, `handlers`/`admin` answer, `formatting`,
`limits`, `redaction` and `retry` hold the rest.
"""

from __future__ import annotations

from bot.telegram.app import ALLOWED_UPDATES, build_application, file_url_for, run_bot
from bot.telegram.formatting import (
    MAX_MESSAGE,
    MORE_LIMIT,
    MORE_PAGE,
    language,
    more_data,
    other_passages,
    parse_more,
    render_more,
    split_html,
    utf16_len,
)
from bot.telegram.handlers import QABot
from bot.telegram.limits import QuestionCache, RateLimit
from bot.telegram.redaction import RedactSecrets, install_redaction
from bot.telegram.retry import RetryingRateLimiter, not_sent

__all__ = [
    "ALLOWED_UPDATES",
    "MAX_MESSAGE",
    "MORE_LIMIT",
    "MORE_PAGE",
    "QABot",
    "QuestionCache",
    "RateLimit",
    "RedactSecrets",
    "RetryingRateLimiter",
    "build_application",
    "file_url_for",
    "install_redaction",
    "language",
    "more_data",
    "not_sent",
    "other_passages",
    "parse_more",
    "render_more",
    "run_bot",
    "split_html",
    "utf16_len",
]
