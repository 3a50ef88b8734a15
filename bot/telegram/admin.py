"""Administrators' handlers, mixed into `QABot`: /reindex, /remove, and adding articles from
uploaded files or links, each followed by a rebuild that swaps the index in without dropping
questions. Every reply is in the administrator's language (build reports and refusals too)."""

from __future__ import annotations

import asyncio
import errno
import logging
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import messages
from bot.questionlog import QuestionLog, QuestionLogUnavailable
from bot.render import render_stats
from bot.telegram.formatting import language
from index.add import AddError, add_bytes, fetch_url
from index.build import BuildReport
from index.ingest import ARTICLE_SUFFIXES

if TYPE_CHECKING:
    from bot.service import QAService
    from bot.settings import Settings

log = logging.getLogger(__name__)

STATS_DAYS = 7


def report_text(report: BuildReport, lang: str) -> str:
    """A build's counts (`BuildReport.summary()`) in `lang`."""
    return messages.text(
        "build_report",
        lang,
        articles=report.articles,
        passages=report.passages,
        read=report.read,
        reused=report.reused,
        removed=report.removed,
        skipped=len(report.skipped),
    )


def error_text(error: AddError, lang: str) -> str:
    """Why an article cannot be added or removed, in `lang` (English: the CLI's text)."""
    if messages.lang_of(lang) == "en":
        return str(error)
    fields = dict(error.fields)
    if "reason" in fields:
        fields["reason"] = messages.reason(str(fields["reason"]), lang)
    return messages.text(f"add_error_{error.key}", lang, **fields)


def failure_text(error: BaseException, lang: str) -> str:
    """Why a rebuild, a download or a save failed, in `lang` (the details go to the log)."""
    if isinstance(error, AddError):
        return error_text(error, lang)
    if isinstance(error, FileNotFoundError):
        return messages.text("failure_missing", lang, path=error.filename or "")
    if isinstance(error, PermissionError):
        return messages.text("failure_permission", lang, path=error.filename or "")
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return messages.text("failure_disk_full", lang)
    if isinstance(error, TelegramError):
        return messages.text("failure_download", lang)
    return messages.text("failure_internal", lang)


class AdminHandlers:
    """/reindex, documents and links for `QAService.rebuild()`; needs `QABot`'s `settings`,
    `service`, `is_admin`, `reply` and `edit_or_reply`."""

    settings: Settings
    service: QAService
    question_log: QuestionLog | None

    async def refuse(self, update: Update, action: str) -> None:
        lang = language(update)
        text = messages.text("admins_only", lang, action=messages.text(action, lang))
        await self.reply(update.effective_message, escape(text))

    async def cmd_stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """What people asked this week: questions a day, answered share, the most asked
        unanswered questions, thumbs down (from the question log)."""
        if not self.is_admin(update):
            await self.refuse(update, "action_stats")
            return
        lang = language(update)
        if self.question_log is None:
            await self.reply(update.effective_message, escape(messages.text("stats_off", lang)))
            return
        try:
            stats = await asyncio.to_thread(self.question_log.stats, STATS_DAYS)
        except QuestionLogUnavailable as exc:
            log.warning("the question log failed: %s", exc)
            await self.reply(update.effective_message, escape(messages.text("error", lang)))
            return
        await self.reply(update.effective_message, escape(render_stats(stats, lang)))

    async def cmd_reindex(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not self.is_admin(update):
            await self.refuse(update, "action_reindex")
            return
        lang = language(update)
        message = update.effective_message
        status = await self.reply(message, escape(messages.text("reindexing", lang)))
        try:
            report = await asyncio.to_thread(self.service.rebuild)
        except Exception as exc:
            if isinstance(exc, OSError):  # a missing data folder, a full disk: one line
                log.error("reindex failed: %s", exc)
            else:
                log.exception("reindex failed")
            await self.edit_or_reply(
                status,
                message,
                escape(messages.text("reindex_failed", lang, error=failure_text(exc, lang))),
            )
            return
        log.info("reindexed: %s", report.summary())
        lines = [messages.text("reindexed", lang, summary=report_text(report, lang))]
        lines += [
            messages.text("skipped", lang, path=p, reason=messages.reason(r, lang))
            for p, r in report.skipped
        ]
        await self.edit_or_reply(status, message, escape("\n".join(lines)))

    async def cmd_remove(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/remove NAME...: delete articles from the data folder and rebuild (`QAService.remove`)."""
        if not self.is_admin(update):
            await self.refuse(update, "action_remove")
            return
        lang = language(update)
        message = update.effective_message
        names = list(context.args or [])
        if not names:
            await self.reply(message, escape(messages.text("remove_usage", lang)))
            return
        shown = "、".join(names) if lang == "zh" else ", ".join(names)
        status = await self.reply(message, escape(messages.text("removing", lang, names=shown)))
        try:
            removed, report = await asyncio.to_thread(self.service.remove, names)
        except AddError as exc:  # RemoveError: not there, outside the data folder
            text = messages.text("remove_failed", lang, error=error_text(exc, lang))
            await self.edit_or_reply(status, message, escape(text))
            return
        except OSError as exc:
            log.error("remove failed: %s", exc)
            text = messages.text("reindex_failed", lang, error=failure_text(exc, lang))
            await self.edit_or_reply(status, message, escape(text))
            return
        log.info("removed %s: %s", ", ".join(removed), report.summary())
        separator = "、" if lang == "zh" else ", "
        text = messages.text(
            "removed", lang, names=separator.join(removed), summary=report_text(report, lang)
        )
        await self.edit_or_reply(status, message, escape(text))

    async def on_document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if not self.is_admin(update):
            await self.refuse(update, "action_add")
            return
        lang = language(update)
        document = message.document
        name = document.file_name or "article.txt"
        if Path(name).suffix.lower() not in ARTICLE_SUFFIXES:
            await self.reply(message, escape(messages.text("bad_suffix", lang, name=name)))
            return
        limit = self.settings.max_upload_bytes
        if document.file_size and document.file_size > limit:
            text = messages.text("too_large", lang, size=document.file_size, limit=limit)
            await self.reply(message, escape(text))
            return
        status = await self.reply(message, escape(messages.text("adding", lang, name=name)))
        try:
            file = await document.get_file()
            data = bytes(await file.download_as_bytearray())
        except TelegramError as exc:
            log.warning("could not download %s: %s", name, exc)
            text = messages.text("add_failed", lang, name=name, error=failure_text(exc, lang))
            await self.edit_or_reply(status, message, escape(text))
            return

        def add() -> Path:
            return add_bytes(
                name, data, self.settings.data_dir, max_bytes=limit, indexed=self.service.indexed()
            )

        await self._add_article(update, status, name, add)

    async def add_link(self, update: Update, url: str) -> None:
        if not self.is_admin(update):
            await self.refuse(update, "action_add")
            return
        lang = language(update)
        status = await self.reply(
            update.effective_message, escape(messages.text("adding", lang, name=url))
        )

        def add() -> Path:
            return fetch_url(
                url,
                self.settings.data_dir,
                timeout=self.settings.fetch_timeout,
                allow_private=self.settings.allow_private_fetch,
                indexed=self.service.indexed(),
            )

        await self._add_article(update, status, url, add)

    async def _add_article(self, update: Update, status: Message | None, name: str, add) -> None:
        """Save the article (`add`), rebuild and swap the index in a thread, report the result."""
        lang = language(update)
        message = update.effective_message

        def add_and_rebuild() -> tuple[Path, BuildReport]:
            saved = add()
            return saved, self.service.rebuild()

        try:
            saved, report = await asyncio.to_thread(add_and_rebuild)
        except (AddError, OSError) as exc:
            if not isinstance(exc, AddError):
                log.error("adding %s failed: %s", name, exc)
            text = messages.text("add_failed", lang, name=name, error=failure_text(exc, lang))
            await self.edit_or_reply(status, message, escape(text))
            return
        relative = saved.resolve().relative_to(self.settings.data_dir.resolve()).as_posix()
        reason = next((r for p, r in report.skipped if p == relative), None)
        source = next((s for s in self.service.sources() if s.path == relative), None)
        if reason is not None or source is None:
            saved.unlink(missing_ok=True)  # keep unusable files out of the data folder
            reason = reason or "no article text"
            log.info("not added %s: %s", relative, reason)
            text = messages.text(
                "added_unreadable", lang, name=name, reason=messages.reason(reason, lang)
            )
        else:
            log.info("added article %s: %s", relative, report.summary())
            text = messages.text(
                "added",
                lang,
                title=source.title,
                passages=source.passages,
                summary=report_text(report, lang),
            )
        await self.edit_or_reply(status, message, escape(text))
