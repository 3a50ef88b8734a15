"""The bot's handlers (`QABot`): who may ask, questions and "more" pages, /help and /sources,
sending HTML replies, and the one error handler; administrators' handlers come from `admin`."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from html import escape
from typing import Any, TypeVar

from telegram import (
    BotCommand,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import messages
from bot.messages import COMMANDS, EXAMPLES
from bot.questionlog import QuestionLog, QuestionLogUnavailable
from bot.service import QAService
from bot.settings import Settings
from bot.telegram.admin import AdminHandlers
from bot.telegram.answering import AnsweringHandlers
from bot.telegram.formatting import (
    language,
    split_html,
)
from bot.telegram.inline import InlineHandlers
from bot.telegram.journal import JournalingApplication, mark_answered
from bot.telegram.limits import QuestionCache, RateLimit

log = logging.getLogger(__name__)
T = TypeVar("T")

URL_RE = re.compile(r"https?://\S+", re.IGNORECASE)


class QABot(AnsweringHandlers, InlineHandlers, AdminHandlers):
    """The handlers, sharing one `QAService`; `register()` adds them to an Application.

    Handlers stay thin: they decide whether a message is addressed to the bot, call
    `QAService` (in a worker thread, since answering is CPU work) and `bot.render`, and send the
    result in Telegram's HTML, split under the 4,096-character limit with tags kept balanced.

    - private chats: any text is a question; a "more" button under an answer shows the next
      passages (its callback data is a short key into a bounded LRU of questions);
    - groups: only messages that mention the bot, reply to it, or use /ask;
    - /start, /help, /sources, /ask QUESTION for everyone; /reindex, article files and links
      for administrators (`QABOT_ADMIN_IDS`, see `AdminHandlers`), swapped in by
      `QAService.rebuild()` without dropping questions in flight; `QABOT_ALLOWED_CHAT_IDS`
      makes a private bot;
    - a per-user rate limit, Telegram's own limits (`RetryingRateLimiter`), one error handler,
      and the token kept out of every log line and message (`install_redaction`).
    """

    def __init__(self, settings: Settings, service: QAService):
        self.settings = settings
        self.service = service
        self.admins = set(settings.admin_ids)
        self.allowed = set(settings.allowed_chat_ids)
        self.rate = RateLimit(settings.rate_limit_per_minute)
        self.questions = QuestionCache()
        self.question_log = open_question_log(settings)
        self._answering = ThreadPoolExecutor(max_workers=1, thread_name_prefix="answering")
        self.mode = "webhook" if settings.webhook_url else "polling"
        self._background: set[asyncio.Task] = set()
        # Questions wait for the warm-up: answered concurrently before it, each would load the
        # English lexicon again (hundreds of MB that the process then keeps).
        self._ready = asyncio.Event()

    def register(self, app: Application) -> None:
        if self.allowed:
            app.add_handler(TypeHandler(Update, self.gate), group=-1)
        app.add_handler(CommandHandler("start", self.cmd_start))
        app.add_handler(CommandHandler("help", self.cmd_help))
        app.add_handler(CommandHandler("stats", self.cmd_stats))
        app.add_handler(InlineQueryHandler(self.on_inline_query))
        app.add_handler(CommandHandler("sources", self.cmd_sources))
        app.add_handler(CommandHandler("ask", self.cmd_ask))
        app.add_handler(CommandHandler("reindex", self.cmd_reindex))
        app.add_handler(CommandHandler("remove", self.cmd_remove))
        app.add_handler(
            MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, self.cmd_unknown)
        )
        app.add_handler(
            MessageHandler(filters.Document.ALL & filters.ChatType.PRIVATE, self.on_document)
        )
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, self.on_text))
        app.add_handler(CallbackQueryHandler(self.on_callback))
        app.add_error_handler(self.on_error)

    # ------------------------------------------------------------------ start-up

    async def post_init(self, app: Application) -> None:
        """Register the command menu, warm the answerer up, and say that the bot runs."""
        for lang, code in (("zh", None), ("en", "en")):
            commands = [BotCommand(name, text) for name, text in COMMANDS[lang]]
            try:
                await app.bot.set_my_commands(commands, language_code=code)
            except TelegramError as exc:
                log.warning("could not register the command menu: %s", exc)
        if isinstance(app, JournalingApplication):  # what a crash interrupted, answered first
            await app.replay_unanswered()
        task = asyncio.create_task(self._warm_up_then_ready())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        print(
            f"qabot: @{app.bot.username} is answering ({self.mode}); Ctrl-C or SIGTERM stops it",
            file=sys.stderr,
            flush=True,
        )

    async def post_shutdown(self, app: Application) -> None:
        """Stop waiting for background work (the warm-up) so shutdown is clean."""
        tasks = list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._answering.shutdown(wait=False, cancel_futures=True)

    async def _warm_up_then_ready(self) -> None:
        try:
            await self.answering(self._warm_up)
        finally:
            self._ready.set()

    def _warm_up(self) -> None:
        """Load the tokenizer and the English lexicon before the first question needs them."""
        try:
            for question in (EXAMPLES["zh"][0], EXAMPLES["en"][0]):
                self.service.ask(question, top_k=1)
        except Exception:  # a warm-up failure shows again, handled, on a real question
            log.exception("warm-up failed")

    async def answering(self, function: Callable[..., T], *args: Any) -> T:
        """Run answering work (CPU-bound, holding the GIL) on the one answering thread: more
        threads would not answer faster, and would starve the event loop that sends replies
        and writes down which updates were answered."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._answering, functools.partial(function, *args))

    # ------------------------------------------------------------------ who may do what

    def is_admin(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and user.id in self.admins

    async def gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """With an allow-list, only its chats (and admins' private chats) get through."""
        chat = update.effective_chat
        if chat is None or chat.id in self.allowed:
            return
        if chat.type == ChatType.PRIVATE and self.is_admin(update):
            return
        lang = language(update)
        try:
            if update.callback_query:
                await update.callback_query.answer(messages.text("private_bot", lang))
            elif chat.type == ChatType.PRIVATE and update.effective_message:
                user = update.effective_user
                allowed, warn = self.rate.check(user.id) if user else (True, False)
                if allowed or warn:
                    await self.reply(
                        update.effective_message, escape(messages.text("private_bot", lang))
                    )
        except TelegramError as exc:  # the update stays stopped whatever happens
            log.info("could not tell chat %s that the bot is private: %s", chat.id, exc)
        raise ApplicationHandlerStop

    async def admit(self, update: Update) -> bool:
        """The per-user rate limit: True to go on; tells the user once when refused."""
        user = update.effective_user
        if user is None:
            return True
        allowed, warn = self.rate.check(user.id)
        if not allowed and warn and update.effective_message:
            await self.reply(
                update.effective_message, escape(messages.text("slow_down", language(update)))
            )
        return allowed

    def addressed_text(self, message: Message, bot_id: int, username: str | None) -> str | None:
        """The question in a message, or None when a group message is not for the bot.

        In groups a message is for the bot when it mentions @username or replies to the bot;
        the mention itself is removed from the question.
        """
        text = message.text or ""
        mentioned = False
        spans = []
        for entity, value in message.parse_entities(
            [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
        ).items():
            if (
                entity.type == MessageEntity.MENTION
                and username
                and value.lower() == f"@{username.lower()}"
            ) or (
                entity.type == MessageEntity.TEXT_MENTION
                and entity.user
                and entity.user.id == bot_id
            ):
                mentioned = True
                if entity.type == MessageEntity.MENTION:
                    spans.append(value)
        for value in spans:
            text = text.replace(value, " ")
        text = " ".join(text.split())
        if message.chat.type == ChatType.PRIVATE:
            return text
        replied = message.reply_to_message
        if mentioned or (replied and replied.from_user and replied.from_user.id == bot_id):
            return text
        return None

    # ------------------------------------------------------------------ sending

    async def reply(
        self,
        message: Message,
        html_text: str,
        markup: InlineKeyboardMarkup | None = None,
    ) -> Message | None:
        """Send HTML to the message's chat, split under the limit; in groups as a reply.

        Parse mode (HTML) and link previews (off) come from the Application's `Defaults`.
        """
        chunks = split_html(html_text)
        quote = message.chat.type != ChatType.PRIVATE
        thread = (
            getattr(message, "message_thread_id", None)
            if getattr(message, "is_topic_message", False)
            else None
        )
        sent = None
        for number, chunk in enumerate(chunks):
            sent = await message.get_bot().send_message(
                chat_id=message.chat.id,
                text=chunk,
                message_thread_id=thread,
                reply_parameters=(
                    ReplyParameters(message.message_id, allow_sending_without_reply=True)
                    if quote and number == 0
                    else None
                ),
                reply_markup=markup if number == len(chunks) - 1 else None,
            )
        mark_answered()  # a restart after a crash must not send this again
        return sent

    async def edit_or_reply(self, status: Message | None, message: Message, html_text: str) -> None:
        """Replace a status message ("working…") with the outcome, or send the outcome."""
        chunks = split_html(html_text)
        if status is not None and len(chunks) == 1:
            try:
                # HTML from the Defaults; no link_preview_options sent (Telegram decides)
                await status.edit_text(chunks[0], link_preview_options=None)
                return
            except BadRequest as exc:
                log.info("could not edit the status message (%s); sending instead", exc)
        await self.reply(message, html_text)

    # ------------------------------------------------------------------ questions

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        text = self.addressed_text(message, context.bot.id, context.bot.username)
        if text is None:
            return
        if URL_RE.fullmatch(text):
            await self.add_link(update, text)
            return
        await self.answer_question(update, text)

    async def cmd_ask(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        parts = (message.text or "").split(maxsplit=1)
        await self.answer_question(update, parts[1] if len(parts) > 1 else "")

    # ------------------------------------------------------------------ commands

    async def cmd_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A greeting with one example; /help explains the rest."""
        lang = language(update)
        user = update.effective_user
        name = user.first_name if user and user.first_name else ""
        text = messages.text("start", lang, name=name, example=EXAMPLES[lang][0])
        await self.reply(update.effective_message, escape(text))

    async def cmd_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        lang = language(update)
        sources = await asyncio.to_thread(self.service.sources)
        text = messages.text(
            "help",
            lang,
            articles=len(sources),
            passages=sum(s.passages for s in sources),
            examples="\n".join(f"• {escape(q)}" for q in EXAMPLES[lang]),
            username=escape(context.bot.username or "bot"),
        )
        if self.is_admin(update):
            text += messages.text("help_admin", lang)
        await self.reply(update.effective_message, text)

    async def cmd_sources(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        lang = language(update)
        sources = await asyncio.to_thread(self.service.sources)
        if not sources:
            await self.reply(update.effective_message, escape(messages.text("sources_none", lang)))
            return
        lines = [messages.text("sources_head", lang, count=len(sources))]
        for number, source in enumerate(sources, 1):
            details = " · ".join(p for p in (source.date, source.source) if p)
            count = messages.text("passages", lang, count=source.passages)
            line = f"{number}. <b>{escape(source.title)}</b>"
            line += (
                f"\n    {escape(details)} · {escape(count)}" if details else f" · {escape(count)}"
            )
            lines.append(line)
        await self.reply(update.effective_message, "\n".join(lines))

    async def cmd_unknown(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.reply(
            update.effective_message, escape(messages.text("unknown_command", language(update)))
        )

    # ------------------------------------------------------------------ errors

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The one place errors end up: log them (without secrets) and tell the user if we can."""
        error = context.error
        where = f"update {update.update_id}" if isinstance(update, Update) else "background"
        if isinstance(error, Forbidden):
            chat = (
                update.effective_chat.id
                if isinstance(update, Update) and update.effective_chat
                else "?"
            )
            log.info("%s: cannot write to chat %s: %s", where, chat, error)
            return
        if isinstance(error, (RetryAfter, TimedOut)) or type(error) is NetworkError:
            log.warning("%s: the Bot API failed: %s", where, error)
            return
        log.error("%s: %s: %s", where, type(error).__name__, error, exc_info=error)
        if not isinstance(update, Update):
            return
        text = messages.text("error", language(update))
        try:
            if update.callback_query:
                await update.callback_query.answer(text)
            elif update.effective_chat:
                await context.bot.send_message(
                    update.effective_chat.id,
                    text,
                    parse_mode=None,  # plain text
                )
        except TelegramError as exc:
            log.info("%s: could not tell the user about the error: %s", where, exc)


def open_question_log(settings: Settings) -> QuestionLog | None:
    """The question log, unless the operator opted out or it cannot be opened (said once)."""
    if not settings.question_log:
        return None
    try:
        return QuestionLog.open(settings.question_log_path)
    except QuestionLogUnavailable as exc:
        log.warning("questions will not be logged: %s", exc)
        return None
