"""Updates written down before Telegram is told they arrived, so a crash loses no question.

Long polling confirms a batch of updates when it asks for the next one, before they are
answered; Telegram never sends a confirmed update again. The journal records each batch as it
arrives (SQLite, committed before the batch is handed on) and marks each update done once it
has been handled: on the next start the bot handles whatever was received and not done, and
a batch Telegram sends again after a crash is recognised by its update ids and not handled
twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
import time
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, ExtBot

logger = logging.getLogger(__name__)

KEEP_DONE_SECONDS = 24 * 3600  # done updates are kept this long (ids to recognise), then pruned
MAX_REPLAYED = 10_000  # on start, at most this many unanswered updates are handled again


# the journal and update id of the update the current task is handling, if journaled
_HANDLING: ContextVar[tuple[UpdateJournal, int] | None] = ContextVar("handling", default=None)


class UpdateJournalUnavailable(Exception):
    """The journal file cannot be opened or written."""


class UpdateJournal:
    """update_id -> the update's JSON, when it arrived, and whether it has been handled."""

    def __init__(self, connection: sqlite3.Connection, path: Path):
        self._db = connection
        self.path = path
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: Path) -> UpdateJournal:
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # a killed process loses nothing committed
            db.execute(
                "CREATE TABLE IF NOT EXISTS updates (update_id INTEGER PRIMARY KEY, "
                "body TEXT NOT NULL, received REAL NOT NULL, done REAL)"
            )
            db.execute("CREATE INDEX IF NOT EXISTS updates_pending ON updates(done)")
        except sqlite3.Error as exc:
            raise UpdateJournalUnavailable(f"update journal {path}: {exc}") from exc
        return cls(db, path)

    def receive(self, updates: list[dict]) -> set[int]:
        """Write a batch down; returns the ids seen before (done or waiting), not to hand on."""
        if not updates:
            return set()
        ids = [int(u["update_id"]) for u in updates]
        now = time.time()
        with self._lock:
            marks = ",".join("?" * len(ids))
            known = {
                row[0]
                for row in self._db.execute(
                    f"SELECT update_id FROM updates WHERE update_id IN ({marks})", ids
                )
            }
            fresh = [
                (i, json.dumps(u, ensure_ascii=False), now)
                for i, u in zip(ids, updates, strict=True)
                if i not in known
            ]
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "INSERT INTO updates (update_id, body, received) VALUES (?, ?, ?)", fresh
                )
        return known

    def done(self, update_id: int) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE updates SET done = ? WHERE update_id = ? AND done IS NULL",
                (time.time(), update_id),
            )

    def unanswered(self) -> list[dict]:
        """Updates received and never handled, oldest first (to handle on start)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM updates WHERE done IS NULL ORDER BY update_id LIMIT ?",
                (MAX_REPLAYED,),
            ).fetchall()
        return [json.loads(body) for (body,) in rows]

    def prune(self, now: float | None = None) -> int:
        """Forget updates handled more than a day ago; returns how many."""
        cutoff = (time.time() if now is None else now) - KEEP_DONE_SECONDS
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM updates WHERE done IS NOT NULL AND done < ?", (cutoff,)
            )
        return cursor.rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()


class JournalingBot(ExtBot):
    """An ExtBot whose getUpdates writes each batch to the journal before handing it on (the
    next getUpdates confirms the batch to Telegram), and remembers which ids it had seen."""

    def __init__(self, *args: Any, journal: UpdateJournal, **kwargs: Any):
        super().__init__(*args, **kwargs)
        with self._unfrozen():  # PTB freezes its objects after __init__
            self.journal = journal
            self.repeated: set[int] = set()  # ids sent again: handled, or being replayed

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        updates = await super().get_updates(*args, **kwargs)
        if updates:
            try:
                batch = [u.to_dict() for u in updates]
                self.repeated.update(self.journal.receive(batch))  # ~1 ms: not queued behind
                # the answers the worker threads are computing
            except (sqlite3.Error, UpdateJournalUnavailable) as exc:  # answer anyway
                logger.warning("could not write updates to the journal: %s", exc)
        return updates


class JournalingApplication(Application):
    """Handles each update once: replays the journal's unanswered updates on start, skips the
    copies Telegram sends again, and marks every update done when its handlers are through."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._replaying: set[int] = set()

    async def replay_unanswered(self) -> int:
        """Queue what a previous run received and did not answer (call before polling)."""
        bot = self.bot
        if not isinstance(bot, JournalingBot):
            return 0
        bodies = await asyncio.to_thread(bot.journal.unanswered)
        for body in bodies:
            update = Update.de_json(body, bot)
            self._replaying.add(update.update_id)
            await self.update_queue.put(update)
        await asyncio.to_thread(bot.journal.prune)
        if bodies:
            logger.info("answering %d updates received before a restart", len(bodies))
        return len(bodies)

    async def process_update(self, update: object) -> None:
        bot = self.bot
        if not isinstance(update, Update) or not isinstance(bot, JournalingBot):
            await super().process_update(update)
            return
        number = update.update_id
        if number in self._replaying:
            self._replaying.discard(number)  # its copy from Telegram, if any, stays skipped
        elif number in bot.repeated:
            bot.repeated.discard(number)  # handled already, or queued from the journal
            return
        token = _HANDLING.set((bot.journal, number))
        try:
            await super().process_update(update)
        finally:
            _HANDLING.reset(token)
            mark_answered((bot.journal, number))


def mark_answered(handling: tuple[UpdateJournal, int] | None = None) -> None:
    """Write down that the update being handled has been answered: called by the handlers
    the moment their reply is sent (a reply sent and not written down is sent again after a
    crash, so the gap is kept as short as it can be), and once more when handling ends."""
    handling = handling or _HANDLING.get()
    if handling is None:
        return
    journal, number = handling
    try:
        journal.done(number)
    except sqlite3.Error as exc:
        logger.warning("could not mark update %s answered: %s", number, exc)
