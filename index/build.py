"""Build or update the index from the data directory, re-reading only articles whose bytes changed."""

from __future__ import annotations

import errno
import hashlib
import logging
import multiprocessing
import os
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from index import figures as figures_module
from index import ingest as ingest_module
from index import passages as passages_module
from index import urls as urls_module
from index.analyzer import (
    analyzer_version,
    name_readings,
    normalize,
    tokenize,
    word_readings,
    word_tags,
)
from index.ingest import (
    ARTICLE_SUFFIXES,
    MAX_FILE_BYTES,
    UnreadableFile,
    iter_article_files,
    read_article,
)
from index.passages import Passage, split_article
from index.store import (
    ArticleRecord,
    CorpusIndex,
    IndexUnavailable,
    StoredIndex,
    load_index,
    save_index,
)

log = logging.getLogger(__name__)
PARALLEL_FROM_FILES = 64  # fewer new files are read in this process (no pool to start)
MAX_WORKERS = 4
CHUNK_FILES = 8
PARENT_CHECK_SECONDS = 0.5  # how often a worker checks that its build still runs


@dataclass
class BuildReport:
    """What a build did: counts for the user and the files it skipped, with reasons."""

    articles: int = 0
    passages: int = 0
    reused: int = 0
    read: int = 0
    removed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.articles} articles, {self.passages} passages "
            f"({self.read} read, {self.reused} unchanged, {self.removed} removed), "
            f"{len(self.skipped)} skipped"
        )


def _previous(index_path: Path) -> tuple[dict[tuple[str, str], int], StoredIndex | None]:
    """The existing index, when this pipeline built it, with its articles' numbers by
    (path, sha256)."""
    try:
        old = load_index(index_path)
    except IndexUnavailable:
        return {}, None
    if old.analyzer != pipeline_version():
        old.close()
        return {}, None
    return {(record.path, record.sha256): n for n, record in enumerate(old.articles)}, old


def _unusable(path: Path, data_dir: Path) -> str | None:
    """Why a file is not worth reading (checked before its bytes are read), or None."""
    if path.is_symlink():
        target = path.resolve()
        if not target.exists():
            return "broken symbolic link"
        if not target.is_relative_to(data_dir.resolve()):
            return "symbolic link to outside the data folder"
    if not path.is_file():
        return "not a regular file"
    suffix = path.suffix.lower()
    if suffix not in ARTICLE_SUFFIXES:
        return f"not an article file ({suffix or 'no extension'})"
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    if size > MAX_FILE_BYTES:
        return f"too large ({size // (1024 * 1024)} MB, limit {MAX_FILE_BYTES // (1024 * 1024)} MB)"
    return None


def _printable(relative: str) -> str:
    """A path as UTF-8 text: bytes of a file name that are not UTF-8 shown as U+FFFD."""
    return relative.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _shown(name: str) -> str:
    """A file name with control and invisible format characters (line breaks, escape
    sequences, right-to-left overrides) written as escapes."""
    return "".join(
        c if unicodedata.category(c) not in {"Cc", "Cf"} else ascii(c)[1:-1] for c in name
    )


@lru_cache(maxsize=1)
def pipeline_version() -> str:
    """Changes when the passages or tokens of an unchanged file could change: the analyzer's
    version and the code that reads, cleans and splits articles. A stored index built by
    another pipeline is re-read in full."""
    digest = hashlib.sha256(analyzer_version().encode())
    for module in (ingest_module, passages_module, figures_module, urls_module):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


def passage_tokens(passage: Passage) -> list[str]:
    """What BM25 sees of a passage: its section heading and its text."""
    return tokenize(f"{passage.heading}\n{passage.text}" if passage.heading else passage.text)


@dataclass(frozen=True)
class ReadFile:
    """A new article file read, split and tokenised (in a worker process for large builds)."""

    # title, date, source, author, url (the ArticleRecord's fields after path and sha256)
    metadata: tuple[str, str | None, str | None, str | None, str | None]
    passages: list[tuple[str, str | None, str]]  # (text, heading, tags) in reading order
    tokens: list[list[str]]


def _read_file(path: Path, data_dir: Path) -> ReadFile | str:
    """One file read into passages and tokens, or why it cannot be (one line)."""
    try:
        article = read_article(path, data_dir)
        passages = split_article(article, 0)
        tokens = [passage_tokens(p) for p in passages]
    except UnreadableFile as exc:
        return str(exc)
    except Exception as exc:  # a parser bug, deep recursion: skip the file, go on
        log.warning("cannot index %s", path.name, exc_info=True)
        return f"cannot read ({type(exc).__name__})"
    return ReadFile(
        (article.title, article.date, article.source, article.author, article.url),
        [(p.text, p.heading, word_tags(normalize(p.text))) for p in passages],
        tokens,
    )


def _exit_with_parent(parent: int) -> None:
    """In a worker: exit as soon as the build that started it is gone (killed with SIGKILL,
    it cannot stop its workers, which would otherwise wait for work forever)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _read_files(paths: list[Path], data_dir: Path) -> Iterator[ReadFile | str]:
    """`_read_file` of each path, in order; on every core (up to MAX_WORKERS) when many."""
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    # Forked workers inherit every lock as it stands: only a process with one thread (the
    # CLI) forks; the bot, answering in other threads while it rebuilds, reads in-process.
    if (
        len(paths) < PARALLEL_FROM_FILES
        or workers < 2
        or os.name != "posix"
        or threading.active_count() > 1
    ):
        for path in paths:
            yield _read_file(path, data_dir)
        return
    tokenize("预热")  # jieba's dictionary loaded once, before the workers are forked
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_exit_with_parent,
        initargs=(os.getpid(),),
    )
    try:
        yield from pool.map(_read_file, paths, [data_dir] * len(paths), chunksize=CHUNK_FILES)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class BuildProgress:
    """How far a build is: new files read so far, reported after each and before saving."""

    files_done: int
    files_total: int
    passages: int
    elapsed: float  # seconds since the build started
    saving: bool = False


class MissingDataDirectory(FileNotFoundError):
    """The articles folder is not there (`filename` names it, for messages in any language)."""

    def __str__(self) -> str:
        return f"data directory {self.filename} does not exist"


def build_index(
    data_dir: Path,
    index_path: Path,
    progress: Callable[[BuildProgress], None] | None = None,
) -> tuple[CorpusIndex, BuildReport]:
    """Index every readable article under `data_dir` and save it to `index_path`;
    `progress`, if given, hears how far the build is after every file."""
    data_dir, index_path = Path(data_dir), Path(index_path)
    if not data_dir.is_dir():
        raise MissingDataDirectory(errno.ENOENT, "data directory does not exist", str(data_dir))
    started = time.monotonic()
    previous, old = _previous(index_path)
    try:
        return _build(data_dir, index_path, previous, old, progress, started)
    finally:
        if old is not None:
            old.close()


def _build(
    data_dir: Path,
    index_path: Path,
    previous: dict[tuple[str, str], int],
    old: StoredIndex | None,
    progress: Callable[[BuildProgress], None] | None,
    started: float,
) -> tuple[CorpusIndex, BuildReport]:
    index = CorpusIndex(analyzer=pipeline_version())
    report = BuildReport()
    seen_digests: dict[str, str] = {}
    resolved_index = index_path.resolve()
    files: list[tuple[Path, str, str]] = []
    for path in iter_article_files(data_dir):
        relative = path.relative_to(data_dir).as_posix()
        printable = _printable(relative)
        if printable != relative:  # the index and the report are UTF-8 text
            report.skipped.append((printable, "file name is not valid UTF-8 (rename the file)"))
            continue
        try:
            if path.resolve() == resolved_index:
                continue
        except (OSError, RuntimeError):  # RuntimeError: a symbolic link loop (Python 3.11)
            report.skipped.append((relative, "symbolic link loop"))
            continue
        reason = _unusable(path, data_dir)
        if reason:
            report.skipped.append((relative, reason))
            continue
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            report.skipped.append((relative, f"cannot read: {exc.strerror or exc}"))
            continue
        files.append((path, relative, digest))
    # Of several files with the same bytes, the one already indexed stays indexed (a new copy
    # is the duplicate, whatever its name); otherwise the first in path order.
    present = {(relative, digest) for _, relative, digest in files}
    for key in previous:
        if key in present:
            seen_digests.setdefault(key[1], key[0])
    fresh: dict[str, Path] = {}  # digest -> the file read for it (no unchanged entry has it)
    for path, relative, digest in files:
        if seen_digests.get(digest, relative) == relative and (relative, digest) not in previous:
            fresh.setdefault(digest, path)
    read: dict[str, ReadFile | str] = {}
    passages_read = 0
    results = _read_files(list(fresh.values()), data_dir)
    for done, (digest, result) in enumerate(zip(fresh, results, strict=True), start=1):
        read[digest] = result
        passages_read += 0 if isinstance(result, str) else len(result.passages)
        if progress is not None:
            elapsed = time.monotonic() - started
            progress(BuildProgress(done, len(fresh), passages_read, elapsed))
    for _, relative, digest in files:
        owner = seen_digests.get(digest)
        if owner is not None and owner != relative:
            report.skipped.append((relative, f"same content as {owner}"))
            continue
        number = len(index.articles)
        kept = previous.get((relative, digest))
        if kept is not None and old is not None:
            record = old.articles[kept]
            stored = old.article_passages(kept)
            passages = [Passage(number, p.position, p.text, p.heading, p.tags) for p, _ in stored]
            tokens = [t for _, t in stored]
            report.reused += 1
        else:
            result = read[digest]
            if isinstance(result, str):
                report.skipped.append((relative, result))
                continue
            record = ArticleRecord(relative, digest, *result.metadata)
            passages = [
                Passage(number, position, text, heading, tags)
                for position, (text, heading, tags) in enumerate(result.passages)
            ]
            tokens = result.tokens
            report.read += 1
        if not passages:
            report.skipped.append((relative, "no article text found"))
            continue
        seen_digests[digest] = relative
        index.articles.append(record)
        index.passages.extend(passages)
        index.tokens.extend(tokens)
    vocabulary = index.vocabulary()
    known = old.name_readings if old is not None else None
    index.name_readings = name_readings(vocabulary, known=known)
    known = old.word_readings() if old is not None else None
    index.word_readings = word_readings(vocabulary, known=known)
    report.articles = len(index.articles)
    report.passages = len(index.passages)
    current = {(a.path, a.sha256) for a in index.articles}
    report.removed = sum(1 for key in previous if key not in current)
    # names as they can be shown on one line, without a terminal obeying them
    report.skipped = sorted((_shown(relative), reason) for relative, reason in report.skipped)
    for relative, reason in report.skipped:
        log.info("skipped %s: %s", relative, reason)
    if progress is not None:
        elapsed = time.monotonic() - started
        progress(BuildProgress(len(fresh), len(fresh), passages_read, elapsed, saving=True))
    save_index(index, index_path)
    return index, report
