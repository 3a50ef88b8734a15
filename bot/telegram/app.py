"""Running the bot: `build_application` (PTB Application, defaults, limits, handlers) and
`run_bot` (`qabot serve`: redaction, index loading, polling or a webhook)."""

from __future__ import annotations

import logging
import secrets
import sys
from pathlib import Path
from urllib.parse import urlparse

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application, ApplicationBuilder, Defaults
from telegram.request import HTTPXRequest

from bot.errors import CliError
from bot.service import QAService
from bot.settings import Settings
from bot.telegram.handlers import QABot
from bot.telegram.journal import (
    JournalingApplication,
    JournalingBot,
    UpdateJournal,
    UpdateJournalUnavailable,
)
from bot.telegram.redaction import install_redaction
from bot.telegram.retry import RetryingRateLimiter
from index.analyzer import keep_dictionary_on_disk

log = logging.getLogger(__name__)

SWITCH_INTERVAL = 0.001

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
# Every message is Telegram HTML without link previews, unless a call says otherwise.
DEFAULTS = Defaults(
    parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
)


def file_url_for(api_url: str) -> str:
    """The file download base for a Bot API base URL: .../bot -> .../file/bot."""
    if api_url.endswith("/bot"):
        return api_url[: -len("/bot")] + "/file/bot"
    return api_url.rstrip("/") + "/file/bot"


def build_application(settings: Settings, service: QAService) -> Application:
    """The PTB Application with qabot's handlers, Telegram's rate limits and concurrency."""
    if settings.telegram_token is None:
        raise ValueError("QABOT_TELEGRAM_TOKEN is not set")
    qabot = QABot(settings, service)
    api_url = settings.telegram_api_url
    bot_settings = {
        "token": settings.telegram_token.get_secret_value(),
        "base_url": api_url,
        "base_file_url": settings.telegram_file_url or file_url_for(api_url),
        "defaults": DEFAULTS,
        "rate_limiter": RetryingRateLimiter(max_retries=3),
    }
    journal = None if settings.webhook_url else _open_journal(settings.update_journal_path)
    builder = ApplicationBuilder().application_class(JournalingApplication)
    if journal is not None:  # polling: each batch written down before Telegram forgets it
        builder = builder.bot(
            JournalingBot(
                **bot_settings,
                request=HTTPXRequest(connection_pool_size=256),
                get_updates_request=HTTPXRequest(connection_pool_size=1),
                journal=journal,
            )
        )
    else:
        builder = (
            builder.token(bot_settings["token"])
            .base_url(api_url)
            .base_file_url(bot_settings["base_file_url"])
            .defaults(DEFAULTS)
            .rate_limiter(bot_settings["rate_limiter"])
        )
    app = (
        builder.concurrent_updates(True)
        .post_init(qabot.post_init)
        .post_shutdown(qabot.post_shutdown)
        .build()
    )
    qabot.register(app)
    app.bot_data["qabot"] = qabot
    return app


def _open_journal(path: Path) -> UpdateJournal | None:
    try:
        return UpdateJournal.open(path)
    except UpdateJournalUnavailable as exc:  # answering matters more than durability
        log.warning("%s: questions in flight at a crash will not be answered after it", exc)
        return None


def run_bot(settings: Settings) -> None:
    """`qabot serve`: answer on Telegram until SIGINT/SIGTERM (polling, or a webhook if set).

    Problems are raised as `CliError`: the CLI reports them in one line, exit status 2.
    """
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else ""
    webhook_secret = (
        settings.webhook_secret.get_secret_value()
        if settings.webhook_secret
        else secrets.token_urlsafe(32)
    )
    redactor = install_redaction([token, webhook_secret])
    logging.getLogger("httpx").setLevel(logging.WARNING)

    keep_dictionary_on_disk()  # a bot runs for months: jieba's dictionary stays in its file
    # the event loop (sending replies, writing down what was answered) takes the GIL back
    # from the answering threads every millisecond instead of every 5
    sys.setswitchinterval(SWITCH_INTERVAL)
    service = QAService(settings.data_dir, settings.index_path)
    service.load(verify=True)  # a missing or corrupt index is reported before connecting
    app = build_application(settings, service)
    try:
        if settings.webhook_url:
            app.run_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=urlparse(settings.webhook_url).path.lstrip("/"),
                webhook_url=settings.webhook_url,
                secret_token=webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
                bootstrap_retries=3,
            )
        else:
            app.run_polling(allowed_updates=ALLOWED_UPDATES, bootstrap_retries=3)
    except InvalidToken:
        raise CliError(
            "Telegram rejected the bot token (QABOT_TELEGRAM_TOKEN): check it with @BotFather"
        ) from None
    except (TelegramError, OSError) as exc:
        raise CliError(
            f"cannot run the bot at {settings.telegram_api_url}: {redactor.redact(str(exc))}"
        ) from None
