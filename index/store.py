"""The index on disk: one SQLite file, written atomically, opened in constant time, never pickled.

`save_index` writes a `CorpusIndex` (the in-memory index a build makes); `load_index` opens the
file as a `StoredIndex`, which reads what a question needs when it needs it: the BM25
contributions of the question's terms, the passages that ranked, their articles. Opening costs
the same at a thousand passages as at a million, and processes that open one index share its
pages through the operating system's file cache.

Tables (``meta`` holds ``format`` = ``qabot-index`` and ``version`` = `INDEX_VERSION`)::

    meta(key, value)              format, version, analyzer, created, byte order, counts, max_idf
    articles(number, path, sha256, title, date, source, author, url, first_passage, passages,
             normalized_title)    url: the article's address (absolute http(s)) or NULL;
                                  normalized_title: title and source, width, script and case folded
    passages(id, article, position, text, heading, normalized, tags, tokens)
                                  normalized: the text width, script and case folded; tags:
                                  its words' part-of-speech tags (`index.analyzer.word_tags`);
                                  tokens: a JSON list, read only by the next incremental build
    terms(id, term, idf, docs, scores)
                                  BM25 per term, precomputed (`index.bm25`): the passages
                                  holding it (int32) and its contribution to each (float64)
    title_terms(term)             tokens of titles and sources (a place only a title names)
    name_readings(word, reading)  toneless pinyin of name words (哈密 -> hami)
    word_readings(word, reading)  toneless pinyin of every 2-4 character word (高考 -> gaokao)

Version 3 added ``articles.url``; an index of another version is refused with the fix
(`qabot index build`, which then reads every file again).

``path`` is relative to the data directory; ``sha256`` is of the file's bytes, so a rebuild
re-reads only files whose bytes changed. A write goes to a temporary file that replaces the
old index only when complete, so a killed rebuild leaves the old index whole (its temporary
file is deleted by a later save), and a reader that opened the old file keeps reading it.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import sqlite3
import sys
import tempfile
import threading
import time
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, overload

from index.passages import Passage

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

T = TypeVar("T")
INDEX_FORMAT = "qabot-index"
INDEX_VERSION = 3  # 3: articles.url
REBUILD_HINT = "run `qabot index build` to rebuild it"
LEFTOVER_AGE = 60.0  # seconds before an unlocked temporary index file counts as abandoned
SQLITE_HEADER = b"SQLite format 3\x00"
CACHED_PASSAGES = 4096  # passages a StoredIndex keeps in memory (the most recently read)
CACHED_TERMS = 1024  # terms' postings kept in memory
CACHED_ARTICLES = 16384  # articles' metadata kept in memory
OPEN_ATTEMPTS = 5  # a file replaced while it is opened is opened again, this many times
TEXT, OPTIONAL_TEXT, NUMBER = (str,), (str, type(None)), (int,)
ARTICLE_TYPES = (
    *(TEXT, TEXT, TEXT),  # path, sha256, title
    *(OPTIONAL_TEXT, OPTIONAL_TEXT, OPTIONAL_TEXT, OPTIONAL_TEXT),  # date, source, author, url
    *(NUMBER, NUMBER),  # first passage, passage count
)
RECORD_FIELDS = 7  # of ARTICLE_TYPES, those of an ArticleRecord
PASSAGE_TYPES = (NUMBER, NUMBER, TEXT, OPTIONAL_TEXT)
TAGGED_TYPES = (*PASSAGE_TYPES, TEXT)
READ_TYPES = (*TAGGED_TYPES, TEXT)  # with the normalised text: what the answerer reads
TABLES = {"meta", "articles", "passages", "terms", "title_terms", "name_readings", "word_readings"}


class IndexUnavailable(Exception):
    """The index cannot be used; the message names the problem and the fix."""


class IndexNotSaved(IndexUnavailable, OSError):
    """The index could not be written; the message names the path, the cause and the fix."""


@dataclass
class ArticleRecord:
    """An indexed article's metadata; its passages live in the index's `passages`."""

    path: str
    sha256: str
    title: str
    date: str | None = None
    source: str | None = None
    author: str | None = None
    url: str | None = None  # where people can read it (`index.urls.web_url`)


class IndexReader(Protocol):
    """What answering reads of an index, in memory (`CorpusIndex`) or on disk (`StoredIndex`)."""

    analyzer: str
    created: str

    @property
    def articles(self) -> Sequence[ArticleRecord]: ...

    @property
    def passages(self) -> Sequence[Passage]: ...

    @property
    def name_readings(self) -> dict[str, str]: ...

    def passages_of(self, article: int) -> range: ...

    def passage_counts(self) -> list[int]: ...

    def article_starts(self) -> list[int]: ...

    def vocabulary(self) -> set[str]: ...

    def articles_writing(self, forms: Iterable[str], titles_only: bool = False) -> set[int]: ...

    def folded_article(self, number: int) -> tuple[str, str]: ...


@dataclass
class CorpusIndex:
    """Articles, their passages in reading order, and each passage's tokens, in memory: what a
    build makes and `save_index` writes."""

    articles: list[ArticleRecord] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    tokens: list[list[str]] = field(default_factory=list)
    analyzer: str = ""
    created: str = ""
    # toneless pinyin of the index's name words (哈密 -> hami), for English questions
    name_readings: dict[str, str] = field(default_factory=dict)
    # toneless pinyin of every word of 2-4 characters (高考 -> gaokao), for English questions
    word_readings: dict[str, str] = field(default_factory=dict)
    _starts: list[int] = field(default_factory=list, repr=False, compare=False)
    _normalized: dict[int, tuple[str, str]] = field(default_factory=dict, repr=False, compare=False)
    _term_articles: dict[str, set[int]] | None = field(default=None, repr=False, compare=False)

    def passages_of(self, article: int) -> range:
        """Numbers of an article's passages (they are stored together, in reading order)."""
        starts = self._bounds()
        return range(starts[article], starts[article + 1])

    def passage_counts(self) -> list[int]:
        starts = self._bounds()
        return [end - start for start, end in zip(starts, starts[1:])]  # noqa: B905

    def article_starts(self) -> list[int]:
        """Each article's first passage number, in article order."""
        return self._bounds()[:-1]

    def _bounds(self) -> list[int]:
        """Each article's first passage number, then the number of passages."""
        if len(self._starts) != len(self.articles) + 1 or self._starts[-1] != len(self.passages):
            starts = [0] * (len(self.articles) + 1)
            for passage in self.passages:
                starts[passage.article + 1] += 1
            for number in range(len(self.articles)):
                starts[number + 1] += starts[number]
            self._starts = starts
        return self._starts

    def vocabulary(self) -> set[str]:
        """Every token of the passages, and of the titles and sources."""
        return {t for tokens in self.tokens for t in tokens} | set(title_terms(self.articles))

    def articles_writing(self, forms: Iterable[str], titles_only: bool = False) -> set[int]:
        """The articles whose title or source writes one of `forms` (compared width, script and
        case folded), or, unless `titles_only`, one of whose passages has one as a token."""
        forms = {f for f in forms if f}
        found = {
            n
            for n in range(len(self.articles))
            if any(f in self.folded_article(n)[0] for f in forms)
        }
        if not titles_only:
            if self._term_articles is None:
                self._term_articles = {}
                for passage, tokens in zip(self.passages, self.tokens, strict=True):
                    for token in tokens:
                        self._term_articles.setdefault(token, set()).add(passage.article)
            for form in forms:
                found |= self._term_articles.get(form, set())
        return found

    def folded_article(self, number: int) -> tuple[str, str]:
        """An article's title and source, and its passages one per line, width, script and
        case folded (`index.analyzer.normalize`)."""
        if number not in self._normalized:
            from index.analyzer import normalize

            record = self.articles[number]
            text = "\n".join(normalize(self.passages[i].text) for i in self.passages_of(number))
            self._normalized[number] = (normalized_title(record), text)
        return self._normalized[number]


def normalized_title(record: ArticleRecord) -> str:
    from index.analyzer import normalize

    return normalize(record.title + " " + (record.source or ""))


def title_terms(articles: Iterable[ArticleRecord]) -> set[str]:
    """The tokens of the titles and sources (a place only a title or a source names: 芜湖日报)."""
    from index.analyzer import tokenize

    terms: set[str] = set()
    for record in articles:
        terms.update(tokenize(record.title + " " + (record.source or "")))
    return terms


def index_vocabulary(index: IndexReader) -> set[str]:
    """Every token of the passages, and of the titles and sources."""
    return index.vocabulary()


# ------------------------------------------------------------------ reading


class StoredIndex:
    """An index file opened for reading: metadata now, everything else on demand.

    `articles` and `passages` are sequences read from the file (the most recently used kept
    in memory); `postings(term)` gives a term's precomputed BM25 contributions. A file found
    damaged while it is read raises `IndexUnavailable`, naming the fix.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._connection = _open_read_only(self.path)
        meta = dict(self._rows("SELECT key, value FROM meta"))
        self.analyzer = meta.get("analyzer", "")
        self.created = meta.get("created", "")
        try:
            self.corpus_size = int(meta["passages"])
            self.max_idf = float(meta["max_idf"])
            self._article_count = int(meta["articles"])
        except (TypeError, ValueError) as exc:
            self._connection.close()
            raise IndexUnavailable(
                f"the index at {self.path} is corrupt (its counts are unreadable): {REBUILD_HINT}"
            ) from exc
        self._name_readings: dict[str, str] | None = None
        self._vocabulary: set[str] | None = None
        self._starts: list[int] | None = None
        self._terms: _Recent[str, tuple[float, Any, Any] | None] = _Recent(CACHED_TERMS)
        self._passages: _Recent[int, Passage] = _Recent(CACHED_PASSAGES)
        self._articles: _Recent[int, tuple[ArticleRecord, int, int]] = _Recent(CACHED_ARTICLES)
        self.articles: Sequence[ArticleRecord] = _Rows(
            self._article_count,
            lambda n: self.article_entry(n)[0],
            lambda: iter(self.all_articles()),
        )
        self.passages: Sequence[Passage] = _Rows(self.corpus_size, self.passage, self._all_passages)

    def close(self) -> None:
        self._connection.close()

    def _rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple]:
        try:
            with self._lock:
                return self._connection.execute(sql, parameters).fetchall()
        except sqlite3.Error as exc:
            raise IndexUnavailable(
                f"the index at {self.path} is unreadable or corrupt ({exc}): {REBUILD_HINT}"
            ) from exc

    def _checked(self, row: Sequence[Any], types: tuple[tuple[type, ...], ...]) -> Sequence[Any]:
        """`row` when each field has its type: a damaged or hand-edited file is a corrupt
        index, not a crash when an answer is rendered."""
        if len(row) != len(types) or not all(
            isinstance(value, allowed)
            for value, allowed in zip(row, types)  # noqa: B905
        ):
            raise IndexUnavailable(
                f"the index at {self.path} is corrupt (a field of the wrong type): {REBUILD_HINT}"
            )
        return row

    def verify(self) -> None:
        """Read every article and passage row once and check its fields' types: a damaged
        or hand-edited file raises `IndexUnavailable` now rather than at some question (for
        long-running processes; a one-off question checks only the rows it reads)."""
        (bad,) = self._rows(VERIFY_SQL)[0]
        if bad:
            raise IndexUnavailable(
                f"the index at {self.path} is corrupt ({bad} rows with a field of the wrong "
                f"type): {REBUILD_HINT}"
            )

    # articles and passages

    def article_entry(self, number: int) -> tuple[ArticleRecord, int, int]:
        """An article's record, its first passage's number and its passage count."""
        entry = self._articles.get(number)
        if entry is None:
            rows = self._rows(
                "SELECT path, sha256, title, date, source, author, url, first_passage, "
                "passages FROM articles WHERE number = ?",
                (number,),
            )
            if not rows:
                raise IndexError(number)
            *fields, first, count = self._checked(rows[0], ARTICLE_TYPES)
            entry = (ArticleRecord(*fields), first, count)
            self._articles.put(number, entry)
        return entry

    def passage(self, number: int) -> Passage:
        return self.passages_at([number])[0]

    def passages_at(self, numbers: Sequence[int]) -> list[Passage]:
        """The passages with these numbers, read in one query."""
        found = {number: self._passages.get(number, _MISSING) for number in numbers}
        wanted = sorted(n for n, passage in found.items() if passage is _MISSING)
        if wanted:
            marks = ", ".join("?" * len(wanted))
            rows = self._rows(
                "SELECT id, article, position, text, heading, tags, normalized FROM passages "
                f"WHERE id IN ({marks})",
                wanted,
            )
            for number, *fields in rows:
                found[number] = Passage(*self._checked(fields, READ_TYPES))
                self._passages.put(number, found[number])
        missing = [n for n in numbers if found[n] is _MISSING]
        if missing:
            raise IndexError(missing[0])
        return [found[n] for n in numbers]

    def passages_of(self, article: int) -> range:
        _, first, count = self.article_entry(article)
        return range(first, first + count)

    def passage_counts(self) -> list[int]:
        return [count for (count,) in self._rows("SELECT passages FROM articles ORDER BY number")]

    def article_starts(self) -> list[int]:
        """Each article's first passage number, in article order."""
        if self._starts is None:
            rows = self._rows("SELECT first_passage FROM articles ORDER BY number")
            self._starts = [first for (first,) in rows]
        return self._starts

    def _all_passages(self) -> Iterator[Passage]:
        rows = self._rows("SELECT article, position, text, heading FROM passages ORDER BY id")
        return (Passage(*self._checked(row, PASSAGE_TYPES)) for row in rows)

    def all_articles(self) -> list[ArticleRecord]:
        rows = self._rows(
            "SELECT path, sha256, title, date, source, author, url FROM articles ORDER BY number"
        )
        return [ArticleRecord(*self._checked(row, ARTICLE_TYPES[:RECORD_FIELDS])) for row in rows]

    def article_passages(self, article: int) -> list[tuple[Passage, list[str]]]:
        """An article's passages with their tokens (what an incremental build reuses)."""
        ids = self.passages_of(article)
        rows = self._rows(
            "SELECT article, position, text, heading, tags, tokens FROM passages "
            "WHERE id >= ? AND id < ? ORDER BY id",
            (ids.start, ids.stop),
        )
        return [
            (Passage(*self._checked(row[:5], TAGGED_TYPES)), json.loads(row[5])) for row in rows
        ]

    def in_memory(self) -> CorpusIndex:
        """The whole index read into memory (for the engines that compute BM25 from tokens)."""
        index = CorpusIndex(
            self.all_articles(),
            analyzer=self.analyzer,
            created=self.created,
            name_readings=dict(self.name_readings),
            word_readings=self.word_readings(),
        )
        rows = self._rows(
            "SELECT article, position, text, heading, tags, tokens FROM passages ORDER BY id"
        )
        for *passage, tokens in rows:
            index.passages.append(Passage(*self._checked(passage, TAGGED_TYPES)))
            index.tokens.append(json.loads(tokens))
        return index

    def articles_writing(self, forms: Iterable[str], titles_only: bool = False) -> set[int]:
        """The articles whose title or source writes one of `forms` (compared width, script and
        case folded), or, unless `titles_only`, one of whose passages has one as a token."""
        found: set[int] = set()
        starts = None if titles_only else self.article_starts()
        for form in {f for f in forms if f}:
            rows = self._rows(
                "SELECT number FROM articles WHERE instr(normalized_title, ?) > 0", (form,)
            )
            found.update(n for (n,) in rows)
            postings = None if starts is None else self.postings(form)
            if postings is not None:
                found.update(bisect_right(starts, passage) - 1 for passage in postings[1])
        return found

    def folded_article(self, number: int) -> tuple[str, str]:
        """An article's title and source, and its passages one per line, width, script and
        case folded (computed at build time)."""
        ids = self.passages_of(number)
        (title,) = self._rows("SELECT normalized_title FROM articles WHERE number = ?", (number,))[
            0
        ]
        rows = self._rows(
            "SELECT normalized FROM passages WHERE id >= ? AND id < ? ORDER BY id",
            (ids.start, ids.stop),
        )
        return title, "\n".join(text for (text,) in rows)

    def word_readings(self) -> dict[str, str]:
        """Every 2-4 character word's toneless pinyin (what the next build reuses)."""
        return dict(self._rows("SELECT word, reading FROM word_readings"))

    @property
    def name_readings(self) -> dict[str, str]:
        if self._name_readings is None:
            self._name_readings = dict(self._rows("SELECT word, reading FROM name_readings"))
        return self._name_readings

    def terms(self) -> StoredTerms:
        """The vocabulary, looked up in the file term by term (`bot.qa.lexicon.Terms`)."""
        return StoredTerms(self)

    def vocabulary(self) -> set[str]:
        if self._vocabulary is None:
            rows = self._rows("SELECT term FROM terms UNION SELECT term FROM title_terms")
            self._vocabulary = {term for (term,) in rows}
        return self._vocabulary

    # BM25

    def postings(self, term: str) -> tuple[float, Any, Any] | None:
        """The term's IDF, the passages holding it (int32s, ascending) and its contribution
        to each (float64s, rank-bm25's bit for bit); None for a term no passage has."""
        return self.postings_of([term])[0]

    def postings_of(self, terms: Sequence[str]) -> list[tuple[float, Any, Any] | None]:
        """`postings` of each term, read in one query."""
        found = {term: self._terms.get(term, _MISSING) for term in terms}
        wanted = sorted(term for term, entry in found.items() if entry is _MISSING)
        if wanted:
            marks = ", ".join("?" * len(wanted))
            rows = self._rows(
                f"SELECT term, idf, docs, scores FROM terms WHERE term IN ({marks})", wanted
            )
            read = {
                term: (idf, memoryview(docs).cast("i"), memoryview(scores).cast("d"))
                for term, idf, docs, scores in rows
            }
            for term in wanted:
                found[term] = read.get(term)
                self._terms.put(term, found[term])
        return [found[term] for term in terms]

    def idf_of(self, term: str) -> float | None:
        found = self.postings(term)
        return None if found is None else found[0]


class StoredTerms:
    """An index file's vocabulary (passage and title terms), asked about term by term."""

    def __init__(self, index: StoredIndex):
        self._index = index
        self._known: _Recent[tuple[str, str], bool] = _Recent(CACHED_TERMS * 8)

    def _exists(self, low: str, high: str, kind: str) -> bool:
        known = self._known.get((kind, low))
        if known is None:
            rows = self._index._rows(TERM_RANGE_SQL, (low, high, low, high))
            known = bool(rows[0][0])
            self._known.put((kind, low), known)
        return known

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self._exists(term, term + "\0", "term")

    def opens_a_word(self, two: str) -> bool:
        return self._exists(two, two + "\U0010ffff", "prefix")

    def latin_words(self) -> Iterable[str]:
        rows = self._index._rows(
            "SELECT term FROM terms WHERE term >= 'a' AND term < '{' "
            "UNION SELECT term FROM title_terms WHERE term >= 'a' AND term < '{'"
        )
        return (term for (term,) in rows)

    def __iter__(self) -> Iterator[str]:
        return iter(self._index.vocabulary())

    def written_as(self, pinyin: str) -> str | None:
        rows = self._index._rows("SELECT min(word) FROM word_readings WHERE reading = ?", (pinyin,))
        return rows[0][0]


_MISSING: Any = object()
K = TypeVar("K")
V = TypeVar("V")


class _Recent(Generic[K, V]):
    """The most recently used values, up to `size`, safe to share between threads."""

    def __init__(self, size: int):
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, default: Any = None) -> Any:
        with self._lock:
            if key not in self._items:
                return default
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class _Rows(Sequence[T]):
    """A read-only sequence whose items are read from the index file when asked for."""

    def __init__(self, size: int, fetch: Callable[[int], T], iterate: Callable[[], Iterator[T]]):
        self._size, self._fetch, self._iterate = size, fetch, iterate

    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, number: int) -> T: ...
    @overload
    def __getitem__(self, number: slice) -> list[T]: ...
    def __getitem__(self, number):
        if isinstance(number, slice):
            return [self[i] for i in range(*number.indices(len(self)))]
        if number < 0:
            number += len(self)
        if not 0 <= number < len(self):
            raise IndexError(number)
        return self._fetch(number)

    def __iter__(self) -> Iterator[T]:
        return self._iterate()


def _open_read_only(path: Path) -> sqlite3.Connection:
    """Open and check the file: a missing, foreign, old, truncated or damaged one raises
    `IndexUnavailable` naming the fix. A file replaced by a new index while it is being
    opened is opened again: the reader gets the old index or the new one, whole."""
    for _ in range(OPEN_ATTEMPTS):
        before = _identity(path)
        try:
            connection = _open_checked(path, before[2])
        except IndexUnavailable:
            if _identity(path) == before:
                raise
            continue
        if _identity(path) == before:
            return connection
        connection.close()
    raise IndexUnavailable(f"the index at {path} is being replaced again and again: try again")


def _identity(path: Path) -> tuple[int, int, int, int]:
    """Which file is at `path` (device, inode, size, modification time)."""
    try:
        status = path.stat()
    except FileNotFoundError:
        raise IndexUnavailable(f"no index at {path}: {REBUILD_HINT}") from None
    except OSError as exc:
        raise IndexUnavailable(
            f"the index at {path} is unreadable ({exc.strerror or exc}): {REBUILD_HINT}"
        ) from exc
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns


def _open_checked(path: Path, size: int) -> sqlite3.Connection:
    corrupt = f"the index at {path} is unreadable or corrupt"
    try:
        with open(path, "rb") as stream:
            head = stream.read(100)
    except OSError as exc:
        raise IndexUnavailable(f"{corrupt} ({exc.strerror or exc}): {REBUILD_HINT}") from exc
    if not head.startswith(SQLITE_HEADER):
        if b'"format"' in head and INDEX_FORMAT.encode() in head:
            raise IndexUnavailable(
                f"the index at {path} is format version 1, "
                f"this qabot reads version {INDEX_VERSION}: {REBUILD_HINT}"
            )
        if not head:
            raise IndexUnavailable(f"{corrupt} (empty file): {REBUILD_HINT}")
        raise IndexUnavailable(f"{path} is not a qabot index: {REBUILD_HINT}")
    try:
        connection = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise IndexUnavailable(f"{corrupt} ({exc}): {REBUILD_HINT}") from exc
    try:
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        if pages * page_size != size:
            raise IndexUnavailable(f"{corrupt} (truncated): {REBUILD_HINT}")
        tables = {
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        meta = dict(connection.execute("SELECT key, value FROM meta")) if "meta" in tables else {}
    except sqlite3.Error as exc:
        connection.close()
        raise IndexUnavailable(f"{corrupt} ({exc}): {REBUILD_HINT}") from exc
    except IndexUnavailable:
        connection.close()
        raise
    problem = None
    if meta.get("format") != INDEX_FORMAT:
        problem = f"{path} is not a qabot index: {REBUILD_HINT}"
    elif meta.get("version") != str(INDEX_VERSION):
        problem = (
            f"the index at {path} is format version {meta.get('version')}, "
            f"this qabot reads version {INDEX_VERSION}: {REBUILD_HINT}"
        )
    elif not TABLES <= tables or not {"passages", "articles", "max_idf"} <= meta.keys():
        problem = f"{corrupt} (tables missing): {REBUILD_HINT}"
    elif meta.get("byteorder") != sys.byteorder:
        problem = f"the index at {path} was built on a {meta.get('byteorder')}-endian machine: {REBUILD_HINT}"
    if problem:
        connection.close()
        raise IndexUnavailable(problem)
    return connection


def load_index(path: Path) -> StoredIndex:
    """Open an index, or raise `IndexUnavailable` saying what is wrong and how to fix it."""
    return StoredIndex(Path(path))


# ------------------------------------------------------------------ writing


def save_index(index: CorpusIndex, path: Path) -> None:
    """Write `index` to `path` atomically (temporary file, fsync, rename).

    Raises `IndexNotSaved` (an `IndexUnavailable` and an `OSError`) when the file cannot be
    written; an index already at `path` is then left as it was.
    """
    path = Path(path)
    try:
        _write_atomically(index, path)
    except (OSError, sqlite3.Error) as exc:
        cause = getattr(exc, "strerror", None) or exc
        raise IndexNotSaved(
            f"cannot write the index at {path} ({cause}): "
            "choose a writable index path (--index or QABOT_INDEX_PATH)"
        ) from exc


def _remove_leftovers(path: Path) -> None:
    """Delete the temporary files of earlier writes that were killed midway.

    A writer holds a lock on its temporary file until it is complete; a file nobody holds and
    untouched for `LEFTOVER_AGE` seconds belongs to a build that died (SIGKILL, power loss).
    """
    if fcntl is None:  # Windows: left-overs stay (they are hidden files)
        return
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        try:
            if time.time() - leftover.stat().st_mtime < LEFTOVER_AGE:
                continue
            descriptor = os.open(leftover, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            leftover.unlink(missing_ok=True)
        except OSError:
            continue  # being written right now
        finally:
            os.close(descriptor)


def _write_atomically(index: CorpusIndex, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if fcntl is not None:
            with contextlib.suppress(OSError):  # a file system without locks: no clean-up
                fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        _write_tables(index, Path(temporary))
        os.fsync(handle)
        os.close(handle)
        handle = -1
        os.replace(temporary, path)
    except BaseException:
        if handle >= 0:
            os.close(handle)
        Path(temporary).unlink(missing_ok=True)
        raise
    try:
        directory = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _write_tables(index: CorpusIndex, temporary: Path) -> None:
    """Fill the (empty) temporary file with the index's tables."""
    from index.analyzer import name_readings, normalize, word_readings, word_tags
    from index.bm25 import term_postings

    connection = sqlite3.connect(temporary)
    try:
        connection.execute("PRAGMA journal_mode = OFF")  # the file is new: nothing to roll back
        connection.execute("PRAGMA synchronous = OFF")  # fsync'd once, complete, by the caller
        connection.executescript(SCHEMA)
        counts = index.passage_counts()
        starts = [0]
        for count in counts:
            starts.append(starts[-1] + count)
        connection.executemany(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    n,
                    a.path,
                    a.sha256,
                    a.title,
                    a.date,
                    a.source,
                    a.author,
                    a.url,
                    starts[n],
                    counts[n],
                    normalized_title(a),
                )
                for n, a in enumerate(index.articles)
            ),
        )
        connection.executemany(
            "INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    n,
                    p.article,
                    p.position,
                    p.text,
                    p.heading,
                    normalized,
                    p.tags if p.tags is not None else word_tags(normalized),
                    json.dumps(tokens, ensure_ascii=False),
                )
                for n, (p, tokens) in enumerate(zip(index.passages, index.tokens, strict=True))
                for normalized in [normalize(p.text)]
            ),
        )
        idfs = [1.0]  # the largest IDF of an empty index
        if any(index.tokens):
            _, terms = term_postings(index.tokens)
            idfs = []

            def term_rows() -> Iterator[tuple[int, str, float, bytes, bytes]]:
                for number, (term, idf, docs, scores) in enumerate(terms):
                    idfs.append(idf)
                    yield number, term, idf, docs, scores

            connection.executemany("INSERT INTO terms VALUES (?, ?, ?, ?, ?)", term_rows())
        connection.executemany(
            "INSERT INTO title_terms VALUES (?)",
            ((t,) for t in sorted(title_terms(index.articles))),
        )
        vocabulary = None if index.name_readings and index.word_readings else index.vocabulary()
        names = index.name_readings or name_readings(vocabulary or ())
        readings = index.word_readings or word_readings(vocabulary or ())
        connection.executemany("INSERT INTO name_readings VALUES (?, ?)", sorted(names.items()))
        connection.executemany("INSERT INTO word_readings VALUES (?, ?)", sorted(readings.items()))
        meta = {
            "format": INDEX_FORMAT,
            "version": str(INDEX_VERSION),
            "analyzer": index.analyzer,
            "created": index.created or datetime.now(UTC).isoformat(timespec="seconds"),
            "byteorder": sys.byteorder,
            "articles": str(len(index.articles)),
            "passages": str(len(index.passages)),
            "max_idf": repr(max(idfs)),
        }
        connection.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        connection.commit()
    finally:
        connection.close()


# whether a passage or title term lies in [low, high) (UTF-8 sorts by code point)
TERM_RANGE_SQL = """
SELECT EXISTS (SELECT 1 FROM terms WHERE term >= ? AND term < ?)
    OR EXISTS (SELECT 1 FROM title_terms WHERE term >= ? AND term < ?)
"""

VERIFY_SQL = """
SELECT (SELECT count(*) FROM articles WHERE typeof(path) != 'text' OR typeof(sha256) != 'text'
        OR typeof(title) != 'text' OR typeof(date) NOT IN ('text', 'null')
        OR typeof(source) NOT IN ('text', 'null') OR typeof(author) NOT IN ('text', 'null')
        OR typeof(url) NOT IN ('text', 'null') OR typeof(first_passage) != 'integer' OR typeof(passages) != 'integer'
        OR typeof(normalized_title) != 'text')
     + (SELECT count(*) FROM passages WHERE typeof(article) != 'integer'
        OR typeof(position) != 'integer' OR typeof(text) != 'text'
        OR typeof(heading) NOT IN ('text', 'null') OR typeof(normalized) != 'text'
        OR typeof(tags) != 'text' OR typeof(tokens) != 'text')
"""

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE articles (
    number INTEGER PRIMARY KEY, path TEXT NOT NULL, sha256 TEXT NOT NULL, title TEXT NOT NULL,
    date TEXT, source TEXT, author TEXT, url TEXT, first_passage INTEGER NOT NULL,
    passages INTEGER NOT NULL, normalized_title TEXT NOT NULL);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY, article INTEGER NOT NULL, position INTEGER NOT NULL,
    text TEXT NOT NULL, heading TEXT, normalized TEXT NOT NULL, tags TEXT NOT NULL,
    tokens TEXT NOT NULL);
CREATE TABLE terms (
    id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE, idf REAL NOT NULL,
    docs BLOB NOT NULL, scores BLOB NOT NULL);
CREATE TABLE title_terms (term TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE name_readings (word TEXT PRIMARY KEY, reading TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE word_readings (word TEXT PRIMARY KEY, reading TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX words_by_reading ON word_readings (reading);
"""
