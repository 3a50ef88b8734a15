"""Running the bot: `build_application` (PTB Application, defaults, limits, handlers) and
`run_bot` (`qabot serve`: redaction, index loading, polling or a webhook)."""

from __future__ import annotations

import logging
import secrets
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import Conflict, InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    ContextTypes,
    Defaults,
)
from telegram.request import HTTPXRequest

from bot.errors import CliError
from bot.service import QAService
from bot.settings import Settings
from bot.telegram.handlers import QABot
from bot.telegram.health import HealthServer
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
# what escapes PTB when a Bot API answer does not parse (a missing field, a wrong type)
UNEXPECTED_ANSWER = (KeyError, TypeError, ValueError, AttributeError, IndexError)

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
    proxy = settings.proxy_url  # QABOT_PROXY_URL: every Bot API call, long polls included
    journal = None if settings.webhook_url else _open_journal(settings.update_journal_path)
    builder = ApplicationBuilder().application_class(JournalingApplication)
    if journal is not None:  # polling: each batch written down before Telegram forgets it
        builder = builder.bot(
            JournalingBot(
                **bot_settings,
                request=HTTPXRequest(connection_pool_size=256, proxy=proxy),
                get_updates_request=HTTPXRequest(connection_pool_size=1, proxy=proxy),
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
        if proxy:
            builder = builder.proxy(proxy).get_updates_proxy(proxy)
    health = _health_server(settings, service, qabot.mode)

    async def post_init(app: Application) -> None:
        await qabot.post_init(app)
        if health is not None:
            try:
                await health.start()
            except OSError as exc:  # the port is taken: one line, exit status 2
                raise CliError(
                    f"cannot serve the health check on {health.host}:{health.port} "
                    f"(QABOT_HEALTH_PORT): {exc.strerror or exc}"
                ) from None

    async def post_shutdown(app: Application) -> None:
        if health is not None:
            await health.stop()
        await qabot.post_shutdown(app)

    app = builder.concurrent_updates(True).post_init(post_init).post_shutdown(post_shutdown).build()
    # before qabot's own error handler, which would log a 409 with a traceback each retry
    app.add_error_handler(_conflict_reporter(api_url))
    qabot.register(app)
    app.bot_data["qabot"] = qabot
    app.bot_data["health"] = health
    return app


def _health_server(settings: Settings, service: QAService, mode: str) -> HealthServer | None:
    """`GET /healthz` on QABOT_HEALTH_PORT (if set): what the index holds, and the uptime."""
    if settings.health_port is None:
        return None

    def status() -> dict[str, Any]:
        index = service.answerer.index  # the current one: /reindex swaps it in place
        return {"mode": mode, "articles": len(index.articles), "passages": len(index.passages)}

    host = settings.health_listen or settings.webhook_listen
    return HealthServer(host, settings.health_port, status)


def _conflict_reporter(api_url: str):
    """An error handler that says "409 Conflict" in one line: two processes polling with one
    token (PTB retries, backing off up to 30 s; the line comes back while the other runs)."""

    async def report(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if isinstance(context.error, Conflict):
            log.error(
                "the Bot API at %s answered 409 Conflict (%s): another process is polling with "
                "this bot token, and only one may: stop the other one (or use a webhook)",
                api_url,
                context.error.message,
            )
            raise ApplicationHandlerStop

    return report


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
    except UNEXPECTED_ANSWER as exc:
        # PTB parses getMe, setWebhook... into objects: a server that is not quite the Bot API
        # (e.g. the npm telegram-test-api, whose getMe has no is_bot) fails deep inside it
        log.debug("unexpected answer at start-up", exc_info=exc)  # QABOT_LOG_LEVEL=DEBUG
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())
        raise CliError(
            f"the Bot API at {settings.telegram_api_url} answered something unexpected at "
            f"start-up ({redactor.redact(detail)}): is it a Telegram Bot API server?"
        ) from None
