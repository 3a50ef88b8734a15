"""Answering in chats, mixed into `QABot`: questions with their follow-ups, the question log,
👍/👎 buttons, and "more" paging through the other passages by editing the answer in place."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import messages
from bot.qa.result import Answer
from bot.questionlog import QuestionLog, QuestionLogUnavailable
from bot.render import render_html
from bot.telegram.formatting import (
    MORE_PAGE,
    language,
    more_data,
    other_passages,
    parse_more,
    render_more,
    split_html,
)

if TYPE_CHECKING:
    from bot.service import QAService
    from bot.settings import Settings
    from bot.telegram.limits import QuestionCache, RateLimit

log = logging.getLogger(__name__)

FEEDBACK_RE = re.compile(r"fb:(\d{1,12}):([+-])")
ANSWER_RE = re.compile(r"ans:([A-Za-z0-9_-]{1,16})")  # back from the pages to the answer
ANSWER_PAGE = -1


def conversation_key(update: Update) -> Hashable:
    """Whose follow-ups these are: the chat in a private chat, each user in a group."""
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or chat.type == ChatType.PRIVATE or user is None:
        return ("chat", chat.id if chat else None)
    return ("member", chat.id, user.id)


def feedback_data(record: int, value: int) -> str:
    return f"fb:{record}:{'+' if value > 0 else '-'}"


def parse_feedback(data: str | None) -> tuple[int, int] | None:
    match = FEEDBACK_RE.fullmatch(data or "")
    return (int(match.group(1)), 1 if match.group(2) == "+" else -1) if match else None


class AnsweringHandlers:
    """Questions, feedback and "more"; needs `QABot`'s `settings`, `service`, `rate`,
    `questions`, `question_log`, `admit`, `reply` and `_ready`."""

    settings: Settings
    service: QAService
    rate: RateLimit
    questions: QuestionCache
    question_log: QuestionLog | None
    _ready: asyncio.Event
    answering: Callable[..., Awaitable[Any]]  # runs answering work on the answering thread

    async def answer_question(self, update: Update, question: str) -> None:
        if not await self.admit(update):
            return
        await self._ready.wait()
        answer = await self.answering(
            self.service.ask_in, conversation_key(update), question, self.settings.top_k
        )
        record = await asyncio.to_thread(self.log_question, update, "telegram", question, answer)
        key = self.questions.put(answer.understood or question)
        markup = self.answer_buttons(answer, key, record)
        await self.reply(update.effective_message, render_html(answer), markup)

    def log_question(self, update: Update, channel: str, question: str, answer: Answer):
        """Write the question to the log (unless the operator opted out); its record id."""
        if self.question_log is None or answer.reason in {"empty", "small_talk"}:
            return None
        chat, user = update.effective_chat, update.effective_user
        try:
            return self.question_log.record(
                channel,
                chat.id if chat else None,
                user.id if user else None,
                question,
                answer.understood,
                answer.offered,
                answer.confidence,
                answer.citation.title if answer.citation and answer.quotes else None,
                tier=answer.tier,
            )
        except QuestionLogUnavailable as exc:
            log.warning("the question log failed: %s", exc)
            return None

    def answer_buttons(
        self, answer: Answer, key: str, record: int | None
    ) -> InlineKeyboardMarkup | None:
        """👍 👎 under a reply that quotes a passage (sure, likely, evidence; when it is logged),
        and "more" when other passages fit."""
        rows = []
        if answer.quotes and record is not None:
            rows.append(
                [
                    InlineKeyboardButton("👍", callback_data=feedback_data(record, 1)),
                    InlineKeyboardButton("👎", callback_data=feedback_data(record, -1)),
                ]
            )
        if answer.quotes and other_passages(answer):
            label = messages.text("more", answer.lang)
            rows.append([InlineKeyboardButton(label, callback_data=more_data(key, 0))])
        return InlineKeyboardMarkup(rows) if rows else None

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button under an answer: 👍/👎, or a page of "more"."""
        query = update.callback_query
        feedback = parse_feedback(query.data)
        if feedback is not None:
            await self.on_feedback(update, *feedback)
            return
        lang = language(update)
        back = ANSWER_RE.fullmatch(query.data or "")
        parsed = (back.group(1), ANSWER_PAGE) if back else parse_more(query.data)
        question = self.questions.get(parsed[0]) if parsed else None
        if question is None or query.message is None:
            await query.answer(messages.text("expired", lang))
            return
        allowed, _ = self.rate.check(query.from_user.id)
        if not allowed:
            await query.answer(messages.text("slow_down", lang))
            return
        await query.answer()
        key, offset = parsed
        top_k = min(50, max(self.settings.top_k, offset + MORE_PAGE + 2))

        await self._ready.wait()
        answer = await self.answering(self.service.ask, question, top_k)
        if offset == ANSWER_PAGE:
            markup = self.answer_buttons(answer, key, None)
            await self._edit_page(query, render_html(answer), markup)
            return
        html_text, following = render_more(answer, question, offset)
        await self._edit_page(query, html_text, self._page_buttons(key, offset, following, lang))

    def _page_buttons(
        self, key: str, offset: int, following: int | None, lang: str
    ) -> InlineKeyboardMarkup:
        """◂ (the previous page, or the answer) and ▸ (the next page, if any)."""
        back = more_data(key, offset - MORE_PAGE) if offset > 0 else f"ans:{key}"
        row = [InlineKeyboardButton(messages.text("back", lang), callback_data=back)]
        if following is not None:
            label = messages.text("more", lang)
            row.append(InlineKeyboardButton(label, callback_data=more_data(key, following)))
        return InlineKeyboardMarkup([row])

    async def _edit_page(self, query, html_text: str, markup: InlineKeyboardMarkup | None) -> None:
        """Show a page in the answer's own message (one page: its first part if very long)."""
        pages = split_html(html_text)
        if not pages:  # nothing visible to show (render_html and render_more always have text)
            return
        try:
            await query.message.edit_text(pages[0], reply_markup=markup)
        except BadRequest as exc:  # "message is not modified" (a double tap) and the like
            log.info("could not show the page: %s", exc)

    async def on_feedback(self, update: Update, record: int, value: int) -> None:
        query = update.callback_query
        lang = language(update)
        chat, user = update.effective_chat, update.effective_user
        recorded = False
        if self.question_log is not None:
            try:
                recorded = await asyncio.to_thread(
                    self.question_log.feedback,
                    record,
                    chat.id if chat else None,
                    user.id if user else None,
                    value,
                )
            except QuestionLogUnavailable as exc:
                log.warning("the question log failed: %s", exc)
        await query.answer(messages.text("feedback_thanks" if recorded else "expired", lang))
        if recorded and query.message is not None:
            kept = [
                row
                for row in (
                    query.message.reply_markup.inline_keyboard if query.message.reply_markup else ()
                )
                if not any(parse_feedback(b.callback_data) for b in row)
            ]
            try:
                await query.message.edit_reply_markup(InlineKeyboardMarkup(kept) if kept else None)
            except BadRequest as exc:
                log.info("could not remove the feedback buttons: %s", exc)
