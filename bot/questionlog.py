"""The question log: what people asked and what the bot answered, in one SQLite file, so an
operator can see what the articles do not answer (`qabot report`) and turn it into eval questions.

Chat and user ids are never stored: a record keeps an HMAC-SHA256 of them under a random salt
kept in the log itself. Every failure (a corrupt, unwritable or foreign file) is raised as
`QuestionLogUnavailable`, which the bot catches so that a broken log never stops an answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

FORMAT = "qabot-question-log"
VERSION = "1"
TOP_UNANSWERED = 10
RECENT_THUMBS_DOWN = 10

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    asked_at TEXT NOT NULL,            -- UTC, ISO 8601 to the second
    channel TEXT NOT NULL,             -- "telegram", "inline", ...
    chat_key TEXT NOT NULL,            -- HMAC-SHA256(salt, chat id + user id), hex
    question TEXT NOT NULL,            -- as asked
    understood TEXT NOT NULL,          -- as answered (a follow-up rewritten); often the same
    answer TEXT,                       -- the sure answer or the likely guess; NULL: neither
    confidence REAL NOT NULL,
    article TEXT,                      -- the cited article's title
    feedback INTEGER CHECK (feedback IN (-1, 1)),
    feedback_at TEXT,
    tier TEXT                          -- sure, likely, evidence, none (NULL: logged before tiers)
);
CREATE INDEX IF NOT EXISTS questions_asked_at ON questions (asked_at);
"""


class QuestionLogUnavailable(Exception):
    """The question log cannot be opened, read or written (missing, corrupt, unwritable, not a
    question log, closed). Callers log it once and go on answering without the log."""


@dataclass(frozen=True)
class AskedQuestion:
    """A question as the report groups it: one original wording and how often it was asked."""

    question: str
    count: int


@dataclass(frozen=True)
class RatedAnswer:
    """A logged question with its answer, as the report lists thumbs-down ratings."""

    id: int
    asked_at: str
    question: str
    answer: str | None
    confidence: float
    article: str | None


@dataclass(frozen=True)
class LogStats:
    """What `QuestionLog.stats` sums up over the last `days` days (UTC dates, today included)."""

    days: int
    per_day: dict[date, int]  # every day of the window, oldest first, 0 for a quiet day
    total: int
    answered: int
    unanswered_top: list[AskedQuestion] = field(default_factory=list)  # most asked first
    thumbs_up: int = 0
    thumbs_down: int = 0
    recent_thumbs_down: list[RatedAnswer] = field(default_factory=list)  # newest rating first

    @property
    def answered_share(self) -> float:
        """Share of the window's questions the bot stated an answer to (0.0 when none)."""
        return self.answered / self.total if self.total else 0.0


def normalized_question(text: str) -> str:
    """The grouping key of a question: NFKC, case folded, without white space or punctuation
    (so 哈密有几个服务站 and 哈密有几个服务站？ are one question)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(
        c for c in folded if not c.isspace() and unicodedata.category(c)[0] not in "PSZC"
    )


def question_lang(text: str) -> str:
    """`en` when every letter of the question is Latin, else `zh`."""
    letters = [c for c in text if c.isalpha()]
    if letters and all("LATIN" in unicodedata.name(c, "") for c in letters):
        return "en"
    return "zh"


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _stamp(moment: datetime | None) -> str:
    return _utc(moment).isoformat(timespec="seconds")


class QuestionLog:
    """One SQLite file in WAL mode; one connection shared by threads under a lock."""

    def __init__(self, path: Path, connection: sqlite3.Connection, salt: bytes):
        self.path = path
        self._connection: sqlite3.Connection | None = connection
        self._salt = salt
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: Path | str, *, create: bool = True) -> QuestionLog:
        """Open the log at `path`, creating it (and its folder) when `create` and it is missing.

        Raises `QuestionLogUnavailable` when the file is missing (and not `create`), cannot be
        created, is not an SQLite file, or is another program's database (never altered then).
        """
        path = Path(path)
        if not create and not path.is_file():
            raise QuestionLogUnavailable(f"no question log at {path}")
        connection = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                path, timeout=10.0, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA busy_timeout = 10000")
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if tables and not _is_question_log(connection, tables):
                raise QuestionLogUnavailable(f"{path} is not a question log")
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise QuestionLogUnavailable(f"{path}: cannot use write-ahead logging ({mode})")
            connection.execute("PRAGMA synchronous = NORMAL")
            if not tables:
                # IF NOT EXISTS and OR IGNORE: two processes creating the log at once agree
                connection.executescript(SCHEMA)
                for key, value in (
                    ("format", FORMAT),
                    ("version", VERSION),
                    ("salt", secrets.token_hex(32)),
                    ("created", _stamp(None)),
                ):
                    connection.execute(
                        "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, value)
                    )
            columns = {row[1] for row in connection.execute("PRAGMA table_info(questions)")}
            if "tier" not in columns:  # a log written before the reply tiers: one column more
                connection.execute("ALTER TABLE questions ADD COLUMN tier TEXT")
            meta = dict(connection.execute("SELECT key, value FROM meta"))
            if meta.get("version") != VERSION:
                raise QuestionLogUnavailable(
                    f"{path}: question log version {meta.get('version')!r}, expected {VERSION}"
                )
            salt = bytes.fromhex(meta["salt"])
        except QuestionLogUnavailable:
            if connection is not None:
                connection.close()
            raise
        except (sqlite3.Error, OSError, KeyError, ValueError) as exc:
            if connection is not None:
                connection.close()
            raise QuestionLogUnavailable(f"cannot open the question log {path}: {exc}") from exc
        return cls(path, connection, salt)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __enter__(self) -> QuestionLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """The connection, held under the lock; SQLite errors become `QuestionLogUnavailable`."""
        with self._lock:
            if self._connection is None:
                raise QuestionLogUnavailable(f"the question log {self.path} is closed")
            try:
                yield self._connection
            except sqlite3.Error as exc:
                raise QuestionLogUnavailable(f"question log {self.path}: {exc}") from exc

    def chat_key(self, chat_id: int | str | None, user_id: int | str | None) -> str:
        """The salted hash a record keeps instead of the chat and user ids."""
        message = (
            f"{chat_id if chat_id is not None else ''}:{user_id if user_id is not None else ''}"
        )
        return hmac.new(self._salt, message.encode("utf-8"), hashlib.sha256).hexdigest()

    # ------------------------------------------------------------------ writing

    def record(
        self,
        channel: str,
        chat_id: int | str | None,
        user_id: int | str | None,
        question: str,
        understood: str | None,
        answer: str | None,
        confidence: float,
        article: str | None,
        *,
        tier: str | None = None,
        at: datetime | None = None,
    ) -> int:
        """Log one question and the bot's reply; returns its id.

        `answer` is the sure answer or the likely guess (None: neither); `tier` the reply's tier
        (sure, likely, evidence, none; by default sure when there is an answer, else none);
        `understood` is the question as answered (a follow-up rewritten), None for the same;
        `article` the quoted article's title; `at` the time (default now, naive = UTC).
        """
        row = (
            _stamp(at),
            channel,
            self.chat_key(chat_id, user_id),
            question,
            understood if understood is not None else question,
            answer,
            float(confidence),
            article,
            tier or ("sure" if answer is not None else "none"),
        )
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO questions (asked_at, channel, chat_key, question, understood,"
                " answer, confidence, article, tier) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return int(cursor.lastrowid)

    def feedback(
        self,
        record_id: int,
        chat_id: int | str | None,
        user_id: int | str | None,
        value: int,
        *,
        at: datetime | None = None,
    ) -> bool:
        """Rate a logged answer +1 or -1; a new rating replaces the old one. Only the chat and
        user who asked may rate: False for an unknown id or someone else's question."""
        if value not in (1, -1):
            raise ValueError(f"feedback is +1 or -1, not {value!r}")
        with self._db() as db:
            cursor = db.execute(
                "UPDATE questions SET feedback = ?, feedback_at = ? WHERE id = ? AND chat_key = ?",
                (value, _stamp(at), int(record_id), self.chat_key(chat_id, user_id)),
            )
            return cursor.rowcount == 1

    # ------------------------------------------------------------------ reading

    def stats(self, days: int = 7, now: datetime | None = None) -> LogStats:
        """Questions of the last `days` UTC days (today included): per day, answered share, the
        most asked unanswered questions, thumbs up and down, the latest thumbs-down answers."""
        if days < 1:
            raise ValueError(f"days must be at least 1, not {days}")
        today = _utc(now).date()
        first = today - timedelta(days=days - 1)
        since = datetime(first.year, first.month, first.day, tzinfo=UTC).isoformat()
        with self._db() as db:
            rows = db.execute(
                "SELECT id, asked_at, question, understood, answer, confidence, article,"
                " feedback, feedback_at FROM questions WHERE asked_at >= ? ORDER BY id",
                (since,),
            ).fetchall()
        per_day = {first + timedelta(days=n): 0 for n in range(days)}
        answered = up = down = 0
        groups: dict[str, Counter[str]] = {}
        rated_down = []
        for (
            id_,
            asked_at,
            _question,
            understood,
            answer,
            confidence,
            article,
            rating,
            rated_at,
        ) in rows:
            day = date.fromisoformat(asked_at[:10])
            if day not in per_day:  # logged "in the future" (a clock set back): not in the window
                continue
            per_day[day] += 1
            if answer is not None:
                answered += 1
            else:
                groups.setdefault(normalized_question(understood), Counter())[understood] += 1
            if rating == 1:
                up += 1
            elif rating == -1:
                down += 1
                rated_down.append(
                    (
                        rated_at or asked_at,
                        RatedAnswer(id_, asked_at, understood, answer, confidence, article),
                    )
                )
        top = sorted(
            (
                AskedQuestion(wordings.most_common(1)[0][0], wordings.total())
                for wordings in groups.values()
            ),
            key=lambda asked: -asked.count,  # stable: equally asked, the first asked first
        )[:TOP_UNANSWERED]
        rated_down.sort(key=lambda item: item[0], reverse=True)
        return LogStats(
            days=days,
            per_day=per_day,
            total=sum(per_day.values()),
            answered=answered,
            unanswered_top=top,
            thumbs_up=up,
            thumbs_down=down,
            recent_thumbs_down=[rated for _, rated in rated_down[:RECENT_THUMBS_DOWN]],
        )

    def export(self, path: Path | str) -> int:
        """Write every logged question, once per normalized question, as an unlabelled
        evaluation set (`data/eval/README.md`, one JSON object a line); returns how many.

        `answers` holds the bot's answer when it was sure, or a likely guess someone rated 👍,
        and nobody gave that question a thumbs-down, else is empty (and `answerable` follows
        it); `labelled` is false, and `bot_answer`, `bot_tier`, `bot_confidence`,
        `bot_article`, `feedback` (the latest asking's rating), `thumbs_down` and
        `times_asked` are there for whoever labels it.
        """
        with self._db() as db:
            rows = db.execute(
                "SELECT id, asked_at, question, understood, answer, confidence, article, feedback,"
                " COALESCE(tier, CASE WHEN answer IS NULL THEN 'none' ELSE 'sure' END)"
                " FROM questions ORDER BY id"
            ).fetchall()
        groups: dict[str, list[tuple]] = {}
        for row in rows:
            groups.setdefault(normalized_question(row[3]), []).append(row)
        lines = []
        for key, records in groups.items():
            if not key:  # nothing but punctuation or white space
                continue
            latest = records[-1]
            id_, asked_at, asked, understood, answer, confidence, article, rating, tier = latest
            thumbs_down = sum(1 for r in records if r[7] == -1)
            vouched = tier == "sure" or (tier == "likely" and rating == 1)
            answers = [answer] if answer and vouched and not thumbs_down else []
            item = {
                "id": f"log-{id_}",
                "question": understood,
                "answers": answers,
                "article": None,
                "evidence": None,
                "lang": question_lang(understood),
                "answerable": bool(answers),
                "kind": None,
                "labelled": False,
                "asked": asked,
                "asked_at": asked_at,
                "times_asked": len(records),
                "bot_answer": answer,
                "bot_tier": tier,
                "bot_confidence": round(confidence, 4),
                "bot_article": article,
                "feedback": rating,
                "thumbs_down": thumbs_down,
            }
            lines.append(json.dumps(item, ensure_ascii=False))
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return len(lines)


def _is_question_log(connection: sqlite3.Connection, tables: set[str]) -> bool:
    if not {"meta", "questions"} <= tables:
        return False
    row = connection.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
    return row is not None and row[0] == FORMAT
