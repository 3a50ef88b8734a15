"""The Telegram bot (python-telegram-bot 22): questions in, answers with their source out.

Handlers stay thin: they decide whether a message is addressed to the bot, call `QAService`
(in a worker thread, since answering is CPU work) and `bot.render`, and send the result in
Telegram's HTML, split under the 4,096-character limit with tags kept balanced.

- private chats: any text is a question; a "more" button under an answer shows the next
  passages (its callback data is a short key into a bounded LRU of questions);
- groups: only messages that mention the bot, reply to it, or use /ask;
- /start, /help, /sources, /ask QUESTION for everyone; /reindex, article files and links for
  administrators (`QABOT_ADMIN_IDS`), swapped in by `QAService.rebuild()` without dropping
  questions in flight; `QABOT_ALLOWED_CHAT_IDS` makes a private bot;
- a per-user rate limit, Telegram's own limits (AIORateLimiter, retrying 429 and 5xx), one
  error handler, and the token kept out of every log line and message.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import sys
import time
from collections import OrderedDict, deque
from html import escape
from pathlib import Path
from urllib.parse import urlparse

import httpx
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, MessageLimit, ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.qa.result import Answer
from bot.render import labels, render_html, source_line
from bot.service import QAService
from bot.settings import Settings
from index.add import AddError, add_bytes, fetch_url
from index.analyzer import keep_dictionary_on_disk
from index.build import BuildReport
from index.ingest import ARTICLE_SUFFIXES

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
MAX_MESSAGE = MessageLimit.MAX_TEXT_LENGTH  # 4096
MORE_PAGE = 3  # passages per "more" page
MORE_LIMIT = 15  # passages reachable through "more"
QUESTION_CACHE_SIZE = 4096
NETWORK_RETRIES = 2  # extra attempts after a 5xx or a dropped connection
UNSENT_PATIENCE = 60.0  # seconds to keep retrying a request that could not be sent at all
UNSENT_BACKOFF_MAX = 5.0  # longest pause between those retries
BOOTSTRAP_ENDPOINTS = {"getMe", "deleteWebhook", "setWebhook"}
URL_RE = re.compile(r"https?://\S+", re.IGNORECASE)
MORE_RE = re.compile(r"more:([A-Za-z0-9_-]{1,16}):(\d{1,3})")

TEXTS = {
    "zh": {
        "help": (
            "<b>你好！我回答关于新闻文章的事实问题。</b>\n"
            "我会给出简短的答案，引用原文段落，并注明文章标题、日期和来源；文章里没有的，我会直说。\n\n"
            "目前收录 {articles} 篇文章、{passages} 个段落（/sources 查看列表）。\n\n"
            "可以这样问：\n{examples}\n\n"
            "私聊时直接发送问题即可；在群组里请 @{username} 提问、回复我的消息，或使用 /ask 问题。\n"
            "命令：/help 帮助 · /sources 文章列表 · /ask 提问"
        ),
        "help_admin": (
            "\n\n<b>管理员</b>：/reindex 重建索引；发送 .txt、.md 或 .html 文件，"
            "或只含一个 http(s) 链接的消息，即可添加文章。"
        ),
        "sources_head": "<b>收录的文章（{count} 篇）</b>",
        "sources_none": "目前还没有收录任何文章。",
        "passages": "{count} 段",
        "more": "更多段落 ▸",
        "more_head": "<b>{label} {first}–{last}</b>　问题：{question}",
        "more_none": "没有更多相关段落了。",
        "expired": "这个按钮已过期，请重新提问。",
        "slow_down": "你提问太快了，请稍等一分钟再问。",
        "private_bot": "抱歉，这是一个私人机器人，只在指定的聊天里回答问题。",
        "admins_only": "抱歉，只有管理员可以{action}。你可以直接提问，或发送 /help 查看用法。",
        "action_reindex": "重建索引",
        "action_add": "添加文章",
        "reindexing": "正在重建索引……（其间照常回答问题）",
        "reindexed": "索引已更新：{summary}",
        "reindex_failed": "重建索引失败：{error}",
        "skipped": "跳过 {path}：{reason}",
        "adding": "正在添加 {name} 并更新索引……",
        "added": "已添加《{title}》（{passages} 段），现在可以就它提问了。\n索引：{summary}",
        "added_unreadable": "无法添加 {name}：{reason}",
        "add_failed": "无法添加 {name}：{error}",
        "bad_suffix": "只能添加 .txt、.md 或 .html 文件（收到的是 {name}）。",
        "too_large": "文件太大（{size} 字节，上限 {limit} 字节）。",
        "unknown_command": "不认识这个命令。发送 /help 查看用法。",
        "error": "抱歉，处理你的消息时出了点问题，请稍后再试。",
    },
    "en": {
        "help": (
            "<b>Hello! I answer factual questions about a set of news articles.</b>\n"
            "You get a short answer, the passage it comes from and the article (title, date, "
            "source); when the articles do not say, I say so.\n\n"
            "I know {articles} articles, {passages} passages (/sources lists them).\n\n"
            "Try:\n{examples}\n\n"
            "In a private chat just send a question; in a group mention @{username}, reply to "
            "me, or use /ask QUESTION.\n"
            "Commands: /help · /sources · /ask"
        ),
        "help_admin": (
            "\n\n<b>Administrators</b>: /reindex rebuilds the index; send a .txt, .md or .html "
            "file, or a message that is just an http(s) link, to add an article."
        ),
        "sources_head": "<b>Indexed articles ({count})</b>",
        "sources_none": "No articles are indexed yet.",
        "passages": "{count} passages",
        "more": "More passages ▸",
        "more_head": "<b>{label} {first}–{last}</b> · question: {question}",
        "more_none": "No more related passages.",
        "expired": "This button has expired; please ask again.",
        "slow_down": "You are asking too fast; please wait a minute.",
        "private_bot": "Sorry, this is a private bot that only answers in certain chats.",
        "admins_only": "Sorry, only administrators can {action}. Ask a question, or send /help.",
        "action_reindex": "rebuild the index",
        "action_add": "add articles",
        "reindexing": "Rebuilding the index… (questions are still answered meanwhile)",
        "reindexed": "Index updated: {summary}",
        "reindex_failed": "Rebuilding the index failed: {error}",
        "skipped": "skipped {path}: {reason}",
        "adding": "Adding {name} and updating the index…",
        "added": "Added “{title}” ({passages} passages); you can ask about it now.\nIndex: {summary}",
        "added_unreadable": "Cannot add {name}: {reason}",
        "add_failed": "Cannot add {name}: {error}",
        "bad_suffix": "Only .txt, .md or .html files can be added (got {name}).",
        "too_large": "The file is too large ({size} bytes, limit {limit}).",
        "unknown_command": "I do not know that command. Send /help.",
        "error": "Sorry, something went wrong with your message; please try again later.",
    },
}
EXAMPLES = {
    "zh": ["哈密有多少个服务站？", "张掖投入了多少资金？", "哈密连续几次荣膺全国双拥模范城？"],
    "en": ["How many service stations does Hami have?", "张掖投入了多少资金？"],
}
COMMANDS = {
    "zh": [
        ("help", "用法和示例问题"),
        ("sources", "收录的文章"),
        ("ask", "提问（群组中使用）：/ask 问题"),
        ("start", "开始"),
    ],
    "en": [
        ("help", "how to ask, with examples"),
        ("sources", "the indexed articles"),
        ("ask", "ask a question (in groups): /ask QUESTION"),
        ("start", "start"),
    ],
}


# ---------------------------------------------------------------------- helpers (pure)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


_TOKEN_RE = re.compile(
    r"(<(/?)([a-zA-Z][\w-]*)[^<>]*>)|(&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);)|(.)", re.DOTALL
)
_EMPTY_ELEMENT_RE = re.compile(r"<([a-zA-Z][\w-]*)(?:\s[^<>]*)?></\1>")
_SENTENCE_ENDS = set("。！？!?；;")
_SOFT_BREAKS = set(" ，,、：:")


def split_html(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split Telegram HTML into messages of at most `limit` characters, tags kept balanced.

    Breaks fall at a line end when one is in the second half of a message, else at a sentence
    end, else at a space or comma, else anywhere between characters (never inside a tag or an
    entity such as `&amp;`). Tags open at a break are closed there and reopened in the next
    message. Messages with no visible text are dropped.
    """
    if utf16_len(text) <= limit:
        return [text] if _visible(text).strip() else []
    tokens: list[tuple[str, str, str]] = []  # (kind, tag name, raw); kind: open/close/text
    for match in _TOKEN_RE.finditer(text):
        raw = match.group(0)
        if match.group(1):
            tokens.append(("close" if match.group(2) else "open", match.group(3).lower(), raw))
        else:
            tokens.append(("text", "", raw))

    def apply(stack: list[tuple[str, str]], token: tuple[str, str, str]) -> list[tuple[str, str]]:
        kind, name, raw = token
        if kind == "open":
            return [*stack, (name, raw)]
        if kind == "close" and stack and stack[-1][0] == name:
            return stack[:-1]
        return stack

    def closing(stack: list[tuple[str, str]]) -> str:
        return "".join(f"</{name}>" for name, _ in reversed(stack))

    chunks: list[str] = []
    start_stack: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        stack = start_stack
        size = sum(utf16_len(raw) for _, raw in stack)
        breaks: dict[str, tuple[int, list[tuple[str, str]]]] = {}
        j = i
        while j < len(tokens):
            token = tokens[j]
            new_stack = apply(stack, token)
            new_size = size + utf16_len(token[2])
            if new_size + utf16_len(closing(new_stack)) > limit and j > i:
                break
            stack, size, j = new_stack, new_size, j + 1
            char = token[2] if token[0] == "text" else ""
            if char == "\n":
                breaks["line"] = (j, stack)
            elif char in _SENTENCE_ENDS:
                breaks["sentence"] = (j, stack)
            elif char in _SOFT_BREAKS:
                breaks["soft"] = (j, stack)
        if j >= len(tokens):
            end, end_stack = j, stack
        else:
            half = i + (j - i) // 2
            end, end_stack = j, stack
            for kind in ("line", "sentence", "soft"):
                if kind in breaks and breaks[kind][0] > half:
                    end, end_stack = breaks[kind]
                    break
        body = "".join(raw for _, raw in start_stack)
        body += "".join(token[2] for token in tokens[i:end]) + closing(end_stack)
        previous = None
        while previous != body:
            previous, body = body, _EMPTY_ELEMENT_RE.sub("", body)
        if _visible(body).strip():
            chunks.append(body)
        start_stack, i = end_stack, end
    return chunks


def _visible(html_text: str) -> str:
    return re.sub(r"<[^<>]*>", "", html_text)


class RateLimit:
    """At most `per_minute` actions per user in any 60 seconds (sliding window).

    `check` answers (allowed, warn): `warn` is True for the first refusal in a window, so the
    user is told once instead of being answered with a flood of refusals.
    """

    def __init__(self, per_minute: int, window: float = 60.0, max_users: int = 10_000):
        self.per_minute = per_minute
        self.window = window
        self.max_users = max_users
        self._hits: OrderedDict[int, deque[float]] = OrderedDict()
        self._warned: dict[int, float] = {}

    def check(self, user_id: int, now: float | None = None) -> tuple[bool, bool]:
        now = time.monotonic() if now is None else now
        hits = self._hits.pop(user_id, None) or deque()
        self._hits[user_id] = hits  # most recent last
        while len(self._hits) > self.max_users:
            old, _ = self._hits.popitem(last=False)
            self._warned.pop(old, None)
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if len(hits) < self.per_minute:
            hits.append(now)
            return True, False
        warned = self._warned.get(user_id)
        if warned is not None and now - warned < self.window:
            return False, False
        self._warned[user_id] = now
        return False, True


class QuestionCache:
    """A bounded LRU of questions under short random keys, for "more" buttons.

    Keys are random, so a button from before a restart is reported as expired instead of
    showing another question's passages.
    """

    def __init__(self, size: int = QUESTION_CACHE_SIZE):
        self.size = size
        self._items: OrderedDict[str, str] = OrderedDict()

    def put(self, question: str) -> str:
        key = secrets.token_urlsafe(6)
        while key in self._items:
            key = secrets.token_urlsafe(6)
        self._items[key] = question
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return key

    def get(self, key: str) -> str | None:
        question = self._items.get(key)
        if question is not None:
            self._items.move_to_end(key)
        return question

    def __len__(self) -> int:
        return len(self._items)


def more_data(key: str, offset: int) -> str:
    """Callback data of a "more" button (well within Telegram's 64 bytes)."""
    return f"more:{key}:{offset}"


def parse_more(data: str | None) -> tuple[str, int] | None:
    match = MORE_RE.fullmatch(data or "")
    return (match.group(1), int(match.group(2))) if match else None


def other_passages(answer: Answer) -> list:
    """The ranked passages other than the one the answer cites."""
    cited = answer.citation.text if answer.citation else None
    return [p for p in answer.passages if p.text != cited]


def render_more(answer: Answer, question: str, offset: int) -> tuple[str, int | None]:
    """HTML of passages offset+1 .. offset+MORE_PAGE, and the next offset (None at the end)."""
    texts = TEXTS["en" if answer.lang == "en" else "zh"]
    passages = other_passages(answer)[:MORE_LIMIT]
    page = passages[offset : offset + MORE_PAGE]
    if not page:
        return escape(texts["more_none"]), None
    head = texts["more_head"].format(
        label=escape(labels(answer.lang)["related"]),
        first=offset + 1,
        last=offset + len(page),
        question=escape(question if len(question) <= 200 else question[:200] + "…"),
    )
    parts = [head]
    for passage in page:
        parts.append(
            f"<blockquote>{escape(passage.text)}</blockquote>\n— {escape(source_line(passage.citation))}"
        )
    following = offset + len(page)
    return "\n".join(parts), following if following < len(passages) else None


def file_url_for(api_url: str) -> str:
    """The file download base for a Bot API base URL: .../bot -> .../file/bot."""
    if api_url.endswith("/bot"):
        return api_url[: -len("/bot")] + "/file/bot"
    return api_url.rstrip("/") + "/file/bot"


def language(update: Update | None) -> str:
    user = update.effective_user if isinstance(update, Update) else None
    code = (user.language_code or "") if user else ""
    return "en" if code.lower().startswith("en") else "zh"


# ---------------------------------------------------------------------- secrets in logs


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


# ---------------------------------------------------------------------- Telegram's limits


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter (Telegram's flood limits, 429 retried after retry_after) that also retries
    a request failing with a 5xx answer or a dropped connection, with a short back-off.

    A request that could not be sent at all (no connection to the Bot API: a network drop, a
    restarting proxy) is retried for up to `UNSENT_PATIENCE` seconds, since sending it again
    cannot duplicate anything; an answer is then delivered once the API is back instead of
    being lost. A time-out after sending is not retried: the request may have reached
    Telegram, and a duplicate answer is worse than a late error in the log. Start-up calls are
    left to PTB's own bootstrap retries.
    """

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):  # type: ignore[override]
        failures = 0  # failures after which the request may have been sent
        unsent = 0
        started = time.monotonic()
        while True:
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except NetworkError as exc:
                if endpoint in BOOTSTRAP_ENDPOINTS:
                    raise
                if not_sent(exc):
                    if time.monotonic() - started >= UNSENT_PATIENCE:
                        raise
                    delay = min(UNSENT_BACKOFF_MAX, 0.5 * 2**unsent)
                    unsent += 1
                elif type(exc) is NetworkError and failures < NETWORK_RETRIES:
                    delay = 0.5 * 2**failures
                    failures += 1
                else:
                    raise
                log.warning("Bot API %s failed (%s); retrying", endpoint, exc)
                await asyncio.sleep(delay)


def not_sent(exc: BaseException) -> bool:
    """True when a Bot API request failed before it could be sent (no connection was made)."""
    return isinstance(exc.__cause__, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


# ---------------------------------------------------------------------- the bot


class QABot:
    """The handlers, sharing one `QAService`; `register()` adds them to an Application."""

    def __init__(self, settings: Settings, service: QAService):
        self.settings = settings
        self.service = service
        self.admins = set(settings.admin_ids)
        self.allowed = set(settings.allowed_chat_ids)
        self.rate = RateLimit(settings.rate_limit_per_minute)
        self.questions = QuestionCache()
        self.mode = "webhook" if settings.webhook_url else "polling"
        self._background: set[asyncio.Task] = set()
        # Questions wait for the warm-up: answered concurrently before it, each would load the
        # English lexicon again (hundreds of MB that the process then keeps).
        self._ready = asyncio.Event()

    def register(self, app: Application) -> None:
        if self.allowed:
            app.add_handler(TypeHandler(Update, self.gate), group=-1)
        app.add_handler(CommandHandler(["start", "help"], self.cmd_help))
        app.add_handler(CommandHandler("sources", self.cmd_sources))
        app.add_handler(CommandHandler("ask", self.cmd_ask))
        app.add_handler(CommandHandler("reindex", self.cmd_reindex))
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

    async def _warm_up_then_ready(self) -> None:
        try:
            await asyncio.to_thread(self._warm_up)
        finally:
            self._ready.set()

    def _warm_up(self) -> None:
        """Load the tokenizer and the English lexicon before the first question needs them."""
        try:
            for question in (EXAMPLES["zh"][0], EXAMPLES["en"][0]):
                self.service.ask(question, top_k=1)
        except Exception:  # a warm-up failure shows again, handled, on a real question
            log.exception("warm-up failed")

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
        texts = TEXTS[language(update)]
        try:
            if update.callback_query:
                await update.callback_query.answer(texts["private_bot"])
            elif chat.type == ChatType.PRIVATE and update.effective_message:
                user = update.effective_user
                allowed, warn = self.rate.check(user.id) if user else (True, False)
                if allowed or warn:
                    await self.reply(update.effective_message, escape(texts["private_bot"]))
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
            await self.reply(update.effective_message, escape(TEXTS[language(update)]["slow_down"]))
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
        """Send HTML to the message's chat, split under the limit; in groups as a reply."""
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
                parse_mode=ParseMode.HTML,
                message_thread_id=thread,
                reply_parameters=(
                    ReplyParameters(message.message_id, allow_sending_without_reply=True)
                    if quote and number == 0
                    else None
                ),
                reply_markup=markup if number == len(chunks) - 1 else None,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        return sent

    async def edit_or_reply(self, status: Message | None, message: Message, html_text: str) -> None:
        """Replace a status message ("working…") with the outcome, or send the outcome."""
        chunks = split_html(html_text)
        if status is not None and len(chunks) == 1:
            try:
                await status.edit_text(chunks[0], parse_mode=ParseMode.HTML)
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

    async def answer_question(self, update: Update, question: str) -> None:
        if not await self.admit(update):
            return
        await self._ready.wait()
        answer = await asyncio.to_thread(self.service.ask, question, self.settings.top_k)
        markup = None
        if answer.answer is not None and other_passages(answer):
            key = self.questions.put(question)
            markup = self._more_button(key, 0, answer.lang)
        await self.reply(update.effective_message, render_html(answer), markup)

    @staticmethod
    def _more_button(key: str, offset: int, lang: str) -> InlineKeyboardMarkup:
        label = TEXTS["en" if lang == "en" else "zh"]["more"]
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(label, callback_data=more_data(key, offset))]]
        )

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A "more" button: answer the query (always), then send the next passages."""
        query = update.callback_query
        texts = TEXTS[language(update)]
        parsed = parse_more(query.data)
        question = self.questions.get(parsed[0]) if parsed else None
        if question is None or query.message is None:
            await query.answer(texts["expired"])
            return
        allowed, _ = self.rate.check(query.from_user.id)
        if not allowed:
            await query.answer(texts["slow_down"])
            return
        await query.answer()
        key, offset = parsed
        top_k = min(50, max(self.settings.top_k, offset + MORE_PAGE + 2))
        await self._ready.wait()
        answer = await asyncio.to_thread(self.service.ask, question, top_k)
        html_text, following = render_more(answer, question, offset)
        markup = self._more_button(key, following, answer.lang) if following is not None else None
        await self.reply(query.message, html_text, markup)

    # ------------------------------------------------------------------ commands

    async def cmd_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        lang = language(update)
        texts = TEXTS[lang]
        sources = await asyncio.to_thread(self.service.sources)
        text = texts["help"].format(
            articles=len(sources),
            passages=sum(s.passages for s in sources),
            examples="\n".join(f"• {escape(q)}" for q in EXAMPLES[lang]),
            username=escape(context.bot.username or "bot"),
        )
        if self.is_admin(update):
            text += texts["help_admin"]
        await self.reply(update.effective_message, text)

    async def cmd_sources(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        texts = TEXTS[language(update)]
        sources = await asyncio.to_thread(self.service.sources)
        if not sources:
            await self.reply(update.effective_message, escape(texts["sources_none"]))
            return
        lines = [texts["sources_head"].format(count=len(sources))]
        for number, source in enumerate(sources, 1):
            details = " · ".join(p for p in (source.date, source.source) if p)
            count = texts["passages"].format(count=source.passages)
            line = f"{number}. <b>{escape(source.title)}</b>"
            line += (
                f"\n    {escape(details)} · {escape(count)}" if details else f" · {escape(count)}"
            )
            lines.append(line)
        await self.reply(update.effective_message, "\n".join(lines))

    async def cmd_unknown(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.reply(
            update.effective_message, escape(TEXTS[language(update)]["unknown_command"])
        )

    # ------------------------------------------------------------------ administration

    async def refuse(self, update: Update, action: str) -> None:
        texts = TEXTS[language(update)]
        text = texts["admins_only"].format(action=texts[action])
        await self.reply(update.effective_message, escape(text))

    async def cmd_reindex(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not self.is_admin(update):
            await self.refuse(update, "action_reindex")
            return
        texts = TEXTS[language(update)]
        message = update.effective_message
        status = await self.reply(message, escape(texts["reindexing"]))
        try:
            report = await asyncio.to_thread(self.service.rebuild)
        except Exception as exc:
            if isinstance(exc, OSError):  # a missing data folder, a full disk: one line
                log.error("reindex failed: %s", exc)
            else:
                log.exception("reindex failed")
            await self.edit_or_reply(
                status, message, escape(texts["reindex_failed"].format(error=exc))
            )
            return
        log.info("reindexed: %s", report.summary())
        lines = [texts["reindexed"].format(summary=report.summary())]
        lines += [texts["skipped"].format(path=p, reason=r) for p, r in report.skipped]
        await self.edit_or_reply(status, message, escape("\n".join(lines)))

    async def on_document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if not self.is_admin(update):
            await self.refuse(update, "action_add")
            return
        texts = TEXTS[language(update)]
        document = message.document
        name = document.file_name or "article.txt"
        if Path(name).suffix.lower() not in ARTICLE_SUFFIXES:
            await self.reply(message, escape(texts["bad_suffix"].format(name=name)))
            return
        limit = self.settings.max_upload_bytes
        if document.file_size and document.file_size > limit:
            text = texts["too_large"].format(size=document.file_size, limit=limit)
            await self.reply(message, escape(text))
            return
        status = await self.reply(message, escape(texts["adding"].format(name=name)))
        try:
            file = await document.get_file()
            data = bytes(await file.download_as_bytearray())
        except TelegramError as exc:
            log.warning("could not download %s: %s", name, exc)
            text = texts["add_failed"].format(name=name, error=exc)
            await self.edit_or_reply(status, message, escape(text))
            return

        def add() -> Path:
            return add_bytes(name, data, self.settings.data_dir, max_bytes=limit)

        await self._add_article(update, status, name, add)

    async def add_link(self, update: Update, url: str) -> None:
        if not self.is_admin(update):
            await self.refuse(update, "action_add")
            return
        texts = TEXTS[language(update)]
        status = await self.reply(
            update.effective_message, escape(texts["adding"].format(name=url))
        )

        def add() -> Path:
            return fetch_url(
                url,
                self.settings.data_dir,
                timeout=self.settings.fetch_timeout,
                allow_private=self.settings.allow_private_fetch,
            )

        await self._add_article(update, status, url, add)

    async def _add_article(self, update: Update, status: Message | None, name: str, add) -> None:
        """Save the article (`add`), rebuild and swap the index in a thread, report the result."""
        texts = TEXTS[language(update)]
        message = update.effective_message

        def add_and_rebuild() -> tuple[Path, BuildReport]:
            saved = add()
            return saved, self.service.rebuild()

        try:
            saved, report = await asyncio.to_thread(add_and_rebuild)
        except (AddError, OSError) as exc:
            text = texts["add_failed"].format(name=name, error=exc)
            await self.edit_or_reply(status, message, escape(text))
            return
        relative = saved.resolve().relative_to(self.settings.data_dir.resolve()).as_posix()
        reason = next((r for p, r in report.skipped if p == relative), None)
        source = next((s for s in self.service.sources() if s.path == relative), None)
        if reason is not None or source is None:
            saved.unlink(missing_ok=True)  # keep unusable files out of the data folder
            reason = reason or "no article text"
            log.info("not added %s: %s", relative, reason)
            text = texts["added_unreadable"].format(name=name, reason=reason)
        else:
            log.info("added article %s: %s", relative, report.summary())
            text = texts["added"].format(
                title=source.title, passages=source.passages, summary=report.summary()
            )
        await self.edit_or_reply(status, message, escape(text))

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
        text = TEXTS[language(update)]["error"]
        try:
            if update.callback_query:
                await update.callback_query.answer(text)
            elif update.effective_chat:
                await context.bot.send_message(update.effective_chat.id, text)
        except TelegramError as exc:
            log.info("%s: could not tell the user about the error: %s", where, exc)


# ---------------------------------------------------------------------- running


def build_application(settings: Settings, service: QAService) -> Application:
    """The PTB Application with qabot's handlers, Telegram's rate limits and concurrency."""
    if settings.telegram_token is None:
        raise ValueError("QABOT_TELEGRAM_TOKEN is not set")
    qabot = QABot(settings, service)
    api_url = settings.telegram_api_url
    app = (
        ApplicationBuilder()
        .token(settings.telegram_token.get_secret_value())
        .base_url(api_url)
        .base_file_url(settings.telegram_file_url or file_url_for(api_url))
        .rate_limiter(RetryingRateLimiter(max_retries=3))
        .concurrent_updates(True)
        .post_init(qabot.post_init)
        .post_shutdown(qabot.post_shutdown)
        .build()
    )
    qabot.register(app)
    app.bot_data["qabot"] = qabot
    return app


def run_bot(settings: Settings) -> None:
    """`qabot serve`: answer on Telegram until SIGINT/SIGTERM (polling, or a webhook if set)."""
    from bot.cli import CliError  # the CLI reports these in one line, exit status 2

    token = settings.telegram_token.get_secret_value() if settings.telegram_token else ""
    webhook_secret = (
        settings.webhook_secret.get_secret_value()
        if settings.webhook_secret
        else secrets.token_urlsafe(32)
    )
    redactor = install_redaction([token, webhook_secret])
    logging.getLogger("httpx").setLevel(logging.WARNING)

    keep_dictionary_on_disk()  # a bot runs for months: jieba's dictionary stays in its file
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


__all__ = ["QABot", "build_application", "run_bot", "split_html"]
