"""Inline mode, mixed into `QABot`: `@bot 哈密服务站` in any chat offers the answer, with its
source, as an inline result to send."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.ext import ContextTypes

from bot.messages import text as message
from bot.render import abstention_text, render_html
from bot.telegram.formatting import split_html

if TYPE_CHECKING:
    from bot.qa.result import Answer
    from bot.service import QAService
    from bot.settings import Settings
    from bot.telegram.limits import RateLimit

log = logging.getLogger(__name__)

INLINE_CACHE_SECONDS = 300  # Telegram may reuse an inline answer this long
MIN_INLINE_CHARS = 2  # "哈" alone is still being typed


class InlineHandlers:
    """Answers inline queries; needs `QABot`'s `settings`, `service`, `rate`, `log_question`
    and `_ready`."""

    settings: Settings
    service: QAService
    rate: RateLimit
    _ready: asyncio.Event
    answering: Callable[..., Awaitable[Any]]  # runs answering work on the answering thread

    async def on_inline_query(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.inline_query
        text = " ".join((query.query or "").split())
        if len(text) < MIN_INLINE_CHARS:
            await query.answer([], cache_time=INLINE_CACHE_SECONDS)
            return
        allowed, _ = self.rate.check(query.from_user.id)
        if not allowed:
            await query.answer([], cache_time=0, is_personal=True)
            return
        await self._ready.wait()
        answer = await self.answering(self.service.ask, text, self.settings.top_k)
        await asyncio.to_thread(self.log_question, update, "inline", text, answer)
        title = inline_title(answer)
        description = f"《{answer.citation.title}》" if answer.quotes and answer.citation else text
        result = InlineQueryResultArticle(
            id=hashlib.sha1(text.encode()).hexdigest()[:32],
            title=title[:120],
            description=description[:200],
            input_message_content=InputTextMessageContent(split_html(render_html(answer))[0]),
        )
        await query.answer([result], cache_time=INLINE_CACHE_SECONDS)


def inline_title(answer: Answer) -> str:
    """The result's title: the sure answer, `可能是: …` for a likely one, the closest-passage
    line for evidence, else the abstention."""
    if answer.tier == "sure" and answer.answer:
        return answer.answer
    if answer.guess is not None:
        return f"{message('likely', answer.lang)}: {answer.guess.answer}"
    if answer.tier == "evidence":
        return message("evidence", answer.lang)
    return abstention_text(answer)
