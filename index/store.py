"""The index on disk: one versioned JSON document, written atomically, never pickled.

Layout (``format`` = ``qabot-index``, ``version`` = `INDEX_VERSION`)::

    {"format": "qabot-index", "version": 1, "analyzer": "<analyzer_version()>",
     "created": "2026-11-22T10:00:00+00:00", "name_readings": {"哈密": "hami", ...},
     "articles": [{"path": "hami.txt", "sha256": "...", "title": "...", "date": "2024-08-01"|null,
                   "source": str|null, "author": str|null,
                   "passages": [{"text": "...", "heading": str|null, "tokens": ["哈密", ...]}]}]}

``path`` is relative to the data directory; ``sha256`` is of the file's bytes, so a rebuild
re-reads only files whose bytes changed. A write goes to a temporary file that replaces the
old index only when complete, so a killed rebuild leaves the old index whole (its temporary
file is deleted by a later save).
"""

from __future__ import annotations

import contextlib
import gc
import glob
import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from index.passages import Passage

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

INDEX_FORMAT = "qabot-index"
INDEX_VERSION = 1
REBUILD_HINT = "run `qabot index build` to rebuild it"
LEFTOVER_AGE = 60.0  # seconds before an unlocked temporary index file counts as abandoned


class IndexUnavailable(Exception):
    """The index cannot be used; the message names the problem and the fix."""


class IndexNotSaved(IndexUnavailable, OSError):
    """The index could not be written; the message names the path, the cause and the fix."""


@dataclass
class ArticleRecord:
    """An indexed article's metadata; its passages live in `CorpusIndex.passages`."""

    path: str
    sha256: str
    title: str
    date: str | None = None
    source: str | None = None
    author: str | None = None


@dataclass
class CorpusIndex:
    """Articles, their passages in reading order, and each passage's tokens."""

    articles: list[ArticleRecord] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    tokens: list[list[str]] = field(default_factory=list)
    analyzer: str = ""
    created: str = ""
    # toneless pinyin of the index's name words (哈密 -> hami), for English questions
    name_readings: dict[str, str] = field(default_factory=dict)
    _starts: list[int] = field(default_factory=list, repr=False, compare=False)

    def passages_of(self, article: int) -> range:
        """Numbers of an article's passages (they are stored together, in reading order)."""
        if len(self._starts) != len(self.articles) + 1:
            starts = [0] * (len(self.articles) + 1)
            for passage in self.passages:
                starts[passage.article + 1] += 1
            for number in range(len(self.articles)):
                starts[number + 1] += starts[number]
            self._starts = starts
        return range(self._starts[article], self._starts[article + 1])

    def to_json(self) -> dict:
        by_article: list[list[dict]] = [[] for _ in self.articles]
        for passage, tokens in zip(self.passages, self.tokens, strict=True):
            by_article[passage.article].append(
                {"text": passage.text, "heading": passage.heading, "tokens": tokens}
            )
        return {
            "format": INDEX_FORMAT,
            "version": INDEX_VERSION,
            "analyzer": self.analyzer,
            "created": self.created or datetime.now(UTC).isoformat(timespec="seconds"),
            "name_readings": self.name_readings,
            "articles": [
                {
                    "path": a.path,
                    "sha256": a.sha256,
                    "title": a.title,
                    "date": a.date,
                    "source": a.source,
                    "author": a.author,
                    "passages": by_article[i],
                }
                for i, a in enumerate(self.articles)
            ],
        }

    @classmethod
    def from_json(cls, document: dict) -> CorpusIndex:
        """Read the JSON document; a field of the wrong type is a ValueError (a corrupt index),
        not a crash later on when an answer is rendered."""
        index = cls(
            analyzer=_text(document["analyzer"], "analyzer"),
            created=_text(document.get("created", ""), "created"),
        )
        readings = document.get("name_readings", {})  # absent from indexes built before
        if not isinstance(readings, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in readings.items()
        ):
            raise ValueError("name readings must map text to text")
        index.name_readings = readings
        shared: dict[str, str] = {}  # one object per distinct token: less memory, faster BM25
        for number, entry in enumerate(document["articles"]):
            index.articles.append(
                ArticleRecord(
                    path=_text(entry["path"], "an article's path"),
                    sha256=_text(entry["sha256"], "an article's sha256"),
                    title=_text(entry["title"], "an article's title"),
                    date=_text(entry.get("date"), "an article's date", optional=True),
                    source=_text(entry.get("source"), "an article's source", optional=True),
                    author=_text(entry.get("author"), "an article's author", optional=True),
                )
            )
            for position, passage in enumerate(entry["passages"]):
                text = _text(passage["text"], "a passage's text")
                heading = _text(passage.get("heading"), "a passage's heading", optional=True)
                index.passages.append(Passage(number, position, text, heading))
                tokens = passage["tokens"]
                if not isinstance(tokens, list):
                    raise ValueError("passage tokens must be a list of strings")
                index.tokens.append(list(map(shared.setdefault, tokens, tokens)))
        if not all(isinstance(t, str) for t in shared):
            raise ValueError("passage tokens must be a list of strings")
        return index


def index_vocabulary(index: CorpusIndex) -> set[str]:
    """Every token of the passages, and of the titles and sources (a place only a title or
    a source names: 芜湖日报)."""
    from index.analyzer import tokenize

    vocabulary = {token for tokens in index.tokens for token in tokens}
    for record in index.articles:
        vocabulary.update(tokenize(record.title + " " + (record.source or "")))
    return vocabulary


def _text(value: object, what: str, optional: bool = False) -> str | None:
    """`value` when it is a string (or None, when optional); else a ValueError naming the field."""
    if isinstance(value, str) or (optional and value is None):
        return value
    raise ValueError(f"{what} must be {'text or null' if optional else 'text'}")


def save_index(index: CorpusIndex, path: Path) -> None:
    """Write `index` to `path` atomically (temporary file, fsync, rename).

    Raises `IndexNotSaved` (an `IndexUnavailable` and an `OSError`) when the file cannot be
    written; an index already at `path` is then left as it was.
    """
    path = Path(path)
    try:
        _write_atomically(index, path)
    except OSError as exc:
        raise IndexNotSaved(
            f"cannot write the index at {path} ({exc.strerror or exc}): "
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
    payload = json.dumps(index.to_json(), ensure_ascii=False, separators=(",", ":"))
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if fcntl is not None:
            with contextlib.suppress(OSError):  # a file system without locks: no clean-up
                fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
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


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Reading makes millions of small lists; the cyclic collector would rescan them again and again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_index(path: Path) -> CorpusIndex:
    """Read an index, or raise `IndexUnavailable` saying what is wrong and how to fix it."""
    path = Path(path)
    if not path.exists():
        raise IndexUnavailable(f"no index at {path}: {REBUILD_HINT}")
    try:
        with _gc_paused():
            document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexUnavailable(
            f"the index at {path} is unreadable or corrupt ({exc.__class__.__name__}): {REBUILD_HINT}"
        ) from exc
    if not isinstance(document, dict) or document.get("format") != INDEX_FORMAT:
        raise IndexUnavailable(f"{path} is not a qabot index: {REBUILD_HINT}")
    version = document.get("version")
    if version != INDEX_VERSION:
        raise IndexUnavailable(
            f"the index at {path} is format version {version}, this qabot reads version {INDEX_VERSION}: {REBUILD_HINT}"
        )
    try:
        with _gc_paused():
            return CorpusIndex.from_json(document)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise IndexUnavailable(f"the index at {path} is corrupt ({exc}): {REBUILD_HINT}") from exc
