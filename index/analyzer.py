"""Text normalisation and tokenisation shared by passages and questions.

`normalize` folds full-width forms (NFKC), traditional script (OpenCC t2s) and case, one
character for one character, so offsets in the normalised text are offsets in the original.
`tokenize` keeps figures whole (`285个`, `1.6亿元`) and adds their parts (`285`, `1.6亿`, the
unit, Arabic digits for Chinese numerals) so that a question writing `1.6亿`, `285` or `六次`
finds them; the rest is cut by jieba in search mode (compounds and their parts) with the
domain dictionary in `userdict.txt`.

Cold start. Loading jieba's dictionary (350,000 words and their prefixes, then again for the
part-of-speech tags) costs more than a second, while a question needs a few hundred of its
entries. After the first full load, the exact dictionary the tokenizers use (frequencies with
the domain words added, tags, total) is written once to an SQLite file in a cache directory
(`$QABOT_CACHE_DIR`, default `~/.cache/qabot`; `QABOT_CACHE_DIR=off` disables it). Later
processes read only the entries they look up, so a one-off `qabot ask` starts in a fraction
of the time; tokens are identical by construction (same entries, same jieba code), and a
process that looks up many entries (an index build) loads the whole dictionary into memory.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import json
import logging
import os
import re
import sqlite3
import sys
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from opencc import OpenCC

from index.figures import ASKED_UNIT_RE, find_figures


def _import_jieba() -> Any:
    """`import jieba` without pkg_resources, which jieba only uses to open its own files.

    pkg_resources is deprecated and costs ~70 ms to import; without it jieba opens the same
    files by path (its own fallback), so everything it reads is the same.
    """
    blocked = "pkg_resources" not in sys.modules
    if blocked:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # ImportError for jieba
    try:
        import jieba
    finally:
        if blocked and sys.modules.get("pkg_resources", 0) is None:
            del sys.modules["pkg_resources"]
    return jieba


jieba = _import_jieba()

USER_DICT = "userdict.txt"
STOPWORDS = frozenset(
    """
    的 地 得 了 着 过 和 与 及 以及 或 并 而 且 在 于 是 为 为了 把 被 将 对 从 向 给 由 等 等等 也 都 就
    还 又 再 更 很 最 有 有的 这 那 这个 那个 这些 那些 其 之 所 以 中 上 下 里 个 各 该 此 其中 我 我们
    你 你们 他 他们 她 它 谁 吗 呢 吧 啊 呀 哦 么 什么 怎么 怎样 怎么样 如何 多少 几 哪 哪里 哪些 哪个
    为什么 是否 请问 请 一下 多 少 共 共有 一共 总共 总计 到底 究竟 是不是 有没有 能 可以 会 要 已
    已经 曾 被 让 使 经过 通过 进行 目前 现在 今天
    the a an of in on at to for by with is are was were be been do does did how what which who
    whom when where why many much there has have had and or it its this that from as
    """.split()
)
_TOKEN_CHARS = re.compile(r"[\w\u4e00-\u9fff%]", re.UNICODE)
_jieba_lock = threading.RLock()
_tokenizer: jieba.Tokenizer | None = None
_pos_tokenizer: jieba.posseg.POSTokenizer | None = None
log = logging.getLogger(__name__)

jieba.setLogLevel(logging.WARNING)


@lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    return OpenCC("t2s")


def user_dict_text() -> str:
    return resources.files("index").joinpath(USER_DICT).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def analyzer_version() -> str:
    """Changes whenever tokens could change: stored indexes with another version are re-tokenised."""
    digest = hashlib.sha256()
    digest.update(b"analyzer-1|")
    digest.update(jieba.__version__.encode())
    digest.update(user_dict_text().encode("utf-8"))
    return digest.hexdigest()[:16]


def _fold_char(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char)
    if len(folded) != 1:
        return char
    return folded.lower()


def normalize(text: str) -> str:
    """Fold width, script and case; the result has exactly the length of `text`."""
    folded = "".join(_fold_char(c) for c in text)
    simplified = _t2s().convert(folded)
    if len(simplified) != len(folded):
        simplified = "".join(
            converted if len(converted := _t2s().convert(c)) == 1 else c for c in folded
        )
    return simplified


def has_english_word(normalized: str, word: str) -> bool:
    """Whether `normalized` (lower-case) holds `word` as a whole word: no Latin letter just
    before or after it (so "up" is found in "went up." but not in "support")."""
    start = normalized.find(word)
    while start >= 0:
        end = start + len(word)
        if not _is_latin_at(normalized, start - 1) and not _is_latin_at(normalized, end):
            return True
        start = normalized.find(word, start + 1)
    return False


def _is_latin_at(text: str, position: int) -> bool:
    return 0 <= position < len(text) and "a" <= text[position] <= "z"


# ---------------------------------------------------------------- jieba, loaded fast

DICTIONARY_SCHEMA = "qabot-jieba-dictionary-1"
PROMOTE_AFTER = 20_000  # dictionary reads after which the whole dictionary is loaded
ON_DISK_ROWS = 50_000  # entries kept in memory by a process that keeps the dictionary on disk
_keep_on_disk = False


def keep_dictionary_on_disk() -> None:
    """For a long-running process (the bot): never load jieba's whole dictionary (~56 MB),
    keep at most `ON_DISK_ROWS` entries read from the cache file. Its questions come a few
    hundred entries at a time, so reading them on demand keeps the process small."""
    global _keep_on_disk
    _keep_on_disk = True


_MISSING: Any = object()


def _user_dict_entries() -> list[tuple[str, int | None, str | None]]:
    entries = []
    for line in user_dict_text().splitlines():
        parts = line.split()
        if parts and not line.startswith("#"):
            freq = int(parts[1]) if len(parts) > 1 else None
            entries.append((parts[0], freq, parts[2] if len(parts) > 2 else None))
    return entries


def _import_posseg() -> Any:
    """`import jieba.posseg` without its module-level tokenizer reading jieba's dictionary.

    jieba.posseg builds a default `POSTokenizer` at import, which reads all of dict.txt for
    its tags (~250 ms) although qabot never uses it. Its table is read on first use instead.
    """
    if "jieba.posseg" in sys.modules:
        return sys.modules["jieba.posseg"]
    jieba.dt.get_dict_file = lambda: io.BytesIO(b"")  # shadows the method during the import
    try:
        import jieba.posseg as posseg
    finally:
        del jieba.dt.get_dict_file
    posseg.dt.word_tag_tab = _DeferredWordTags(posseg.dt)
    return posseg


class _DeferredWordTags:
    """The default POS tokenizer's tag table, read from jieba's dictionary when first used."""

    def __init__(self, pos: Any):
        self._pos = pos

    def _table(self) -> dict:
        with _jieba_lock:
            if self._pos.word_tag_tab is self:
                self._pos.load_word_tag(self._pos.tokenizer.get_dict_file())
        return self._pos.word_tag_tab

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table(), name)

    def __contains__(self, key: object) -> bool:
        return key in self._table()

    def __getitem__(self, key: str) -> Any:
        return self._table()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


def cache_dir() -> Path | None:
    """Where the dictionary cache lives; None when `QABOT_CACHE_DIR` turns it off."""
    configured = os.environ.get("QABOT_CACHE_DIR")
    if configured is not None:
        if configured.strip().lower() in {"", "0", "off", "no", "false", "none"}:
            return None
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "qabot"


def _jieba_dict_path() -> Path:
    return Path(jieba.__file__).resolve().parent / jieba.DEFAULT_DICT_NAME


@lru_cache(maxsize=1)
def dictionary_key() -> str:
    """What the cached dictionary was made from: jieba and its dictionary file, userdict.txt."""
    stat = _jieba_dict_path().stat()
    digest = hashlib.sha256()
    for part in (
        DICTIONARY_SCHEMA,
        jieba.__version__,
        str(_jieba_dict_path()),
        str(stat.st_size),
        str(stat.st_mtime_ns),
        user_dict_text(),
    ):
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()[:20]


def dictionary_cache_path() -> Path | None:
    directory = cache_dir()
    return None if directory is None else directory / f"jieba-{dictionary_key()}.sqlite"


class _CachedDictionary:
    """jieba's dictionary read entry by entry from the SQLite cache, each entry once."""

    def __init__(self, connection: sqlite3.Connection, path: Path):
        self._db = connection
        self._path = path
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._rows: dict[str, tuple[Any, Any]] = {}
        self.reads = 0
        self.full: tuple[dict, dict] | None = None
        self.freq = _CachedColumn(self, 0)
        self.tags = _CachedColumn(self, 1)
        self.on_full: Any = None  # called with (freq, tags) when everything has been loaded

    def row(self, word: str) -> tuple[Any, Any]:
        row = self._rows.get(word)
        if row is None:
            with self._lock:
                if self._pid != os.getpid():  # a forked child: never share the connection
                    self._db = _connect(self._path)
                    self._pid = os.getpid()
                found = self._db.execute(
                    "SELECT freq, tag FROM words WHERE word = ?", (word,)
                ).fetchone()
            if found is None:
                row = (_MISSING, _MISSING)
            else:
                row = (
                    _MISSING if found[0] is None else found[0],
                    _MISSING if found[1] is None else found[1],
                )
            if _keep_on_disk and len(self._rows) >= ON_DISK_ROWS:
                self._rows.clear()  # a long-running process: the cache stays small
            self._rows[word] = row
            self.reads += 1
            if self.reads >= PROMOTE_AFTER and self.full is None and not _keep_on_disk:
                self.load_all()
        return row

    def load_all(self) -> tuple[dict, dict]:
        """Every entry in memory (plain dicts, with what was written to the columns since)."""
        if self.full is None:
            with self._lock:
                if self._pid != os.getpid():
                    self._db = _connect(self._path)
                    self._pid = os.getpid()
                rows = self._db.execute("SELECT word, freq, tag FROM words").fetchall()
            freq = {w: f for w, f, _ in rows if f is not None}
            tags = {w: t for w, _, t in rows if t is not None}
            freq.update(self.freq.overlay)
            tags.update(self.tags.overlay)
            self.full = (freq, tags)
            if self.on_full is not None:
                self.on_full(freq, tags)
        return self.full


class _CachedColumn:
    """`Tokenizer.FREQ` or `POSTokenizer.word_tag_tab` as the dict jieba uses, read lazily."""

    __slots__ = ("_source", "_column", "overlay")

    def __init__(self, source: _CachedDictionary, column: int):
        self._source = source
        self._column = column
        self.overlay: dict[str, Any] = {}  # add_word, user tags: written over the cache

    def _value(self, key: str) -> Any:
        full = self._source.full
        if full is not None:
            return full[self._column].get(key, _MISSING)
        value = self.overlay.get(key, _MISSING)
        if value is _MISSING:
            value = self._source.row(key)[self._column]
        return value

    def __contains__(self, key: str) -> bool:
        return self._value(key) is not _MISSING

    def __getitem__(self, key: str) -> Any:
        value = self._value(key)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        value = self._value(key)
        return default if value is _MISSING else value

    def __setitem__(self, key: str, value: Any) -> None:
        full = self._source.full
        if full is not None:
            full[self._column][key] = value
        else:
            self.overlay[key] = value

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __getattr__(self, name: str) -> Any:  # items(), keys(), len(): the whole table
        return getattr(self._source.load_all()[self._column], name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._source.load_all()[self._column])

    def __len__(self) -> int:
        return len(self._source.load_all()[self._column])


def _full_tokenizers() -> tuple[Any, Any]:
    """jieba's own loading: the whole dictionary, the domain words, all tags."""
    posseg = _import_posseg()
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word, freq, tag in _user_dict_entries():
        tokenizer.add_word(word, freq, tag)
    return tokenizer, posseg.POSTokenizer(tokenizer)


def _connect(path: Path) -> sqlite3.Connection:
    """Read-only; shared by the threads of one process (reads are serialised by a lock)."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)


def _cached_tokenizers(path: Path) -> tuple[Any, Any] | None:
    """Tokenizers reading the dictionary cache at `path`; None if it is missing or stale."""
    try:
        connection = _connect(path)
    except (sqlite3.Error, ValueError):
        return None
    try:
        meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        if json.loads(meta.get("key", "null")) != dictionary_key():
            connection.close()
            return None
        total = json.loads(meta["total"])
        user_tags = json.loads(meta["user_tags"])
    except (sqlite3.Error, KeyError, ValueError):
        connection.close()
        return None
    posseg = _import_posseg()
    dictionary = _CachedDictionary(connection, path)
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = dictionary.freq
    tokenizer.total = total
    tokenizer.user_word_tag_tab = user_tags
    tokenizer.initialized = True
    for word, freq, _ in _user_dict_entries():
        if freq == 0:  # what add_word does besides the tables
            jieba.finalseg.add_force_split(word)
    pos = posseg.POSTokenizer.__new__(posseg.POSTokenizer)
    pos.tokenizer = tokenizer
    pos.word_tag_tab = dictionary.tags

    def swap_in(freq: dict, tags: dict) -> None:  # from then on, plain dicts as jieba has them
        tokenizer.FREQ = freq
        pos.word_tag_tab = tags

    dictionary.on_full = swap_in
    return tokenizer, pos


def write_dictionary_cache(tokenizer: Any, pos: Any, path: Path) -> bool:
    """Save the tokenizers' dictionary (freshly loaded, before any cut) to `path` atomically."""
    tags = pos.word_tag_tab
    freq = tokenizer.FREQ
    rows = sorted(
        [(w, f, tags.get(w)) for w, f in freq.items()]
        + [(w, None, t) for w, t in tags.items() if w not in freq]
    )
    meta = {
        "key": dictionary_key(),
        "total": tokenizer.total,
        "user_tags": tokenizer.user_word_tag_tab,
        "jieba": jieba.__version__,
    }

    def fill(connection: sqlite3.Connection) -> None:
        connection.execute(
            "CREATE TABLE words (word TEXT PRIMARY KEY, freq INTEGER, tag TEXT) WITHOUT ROWID"
        )
        connection.executemany("INSERT INTO words VALUES (?, ?, ?)", rows)
        connection.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        connection.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [(k, json.dumps(v, ensure_ascii=False)) for k, v in meta.items()],
        )

    return write_cache_file(path, fill)


def write_cache_file(path: Path, fill: Callable[[sqlite3.Connection], None]) -> bool:
    """Write an SQLite cache file atomically (a temporary file `fill` writes, then renamed
    over `path`); False, and nothing left behind, when it cannot be written."""
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
        os.close(handle)
        connection = sqlite3.connect(temporary)
        try:
            connection.execute("PRAGMA journal_mode = OFF")
            connection.execute("PRAGMA synchronous = OFF")
            fill(connection)
            connection.commit()
        finally:
            connection.close()
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())  # whole on disk before it replaces anything
        os.replace(temporary, path)
        return True
    except (OSError, sqlite3.Error) as exc:
        log.debug("cannot write the cache file %s: %s", path, exc)
        if temporary:
            Path(temporary).unlink(missing_ok=True)
        return False
    except BaseException:
        if temporary:
            Path(temporary).unlink(missing_ok=True)
        raise


def load_tokenizers(mode: str = "auto") -> tuple[Any, Any]:
    """A (Tokenizer, POSTokenizer) pair with the domain dictionary.

    `"auto"`: from the dictionary cache when it is there and current, else the full load,
    which then writes the cache for next time; `"full"`: jieba's own loading, no cache;
    `"cached"`: from the cache only (ValueError when there is none).
    """
    path = dictionary_cache_path() if mode != "full" else None
    if path is not None and path.exists():
        pair = _cached_tokenizers(path)
        if pair is not None:
            return pair
    if mode == "cached":
        raise ValueError(f"no current jieba dictionary cache at {path}")
    tokenizer, pos = _full_tokenizers()
    if path is not None and mode == "auto":
        write_dictionary_cache(tokenizer, pos, path)
    return tokenizer, pos


def get_tokenizer() -> jieba.Tokenizer:
    """The shared jieba tokenizer with the domain dictionary loaded (loaded once, lazily)."""
    global _tokenizer, _pos_tokenizer
    with _jieba_lock:
        if _tokenizer is None:
            _tokenizer, _pos_tokenizer = load_tokenizers()
    return _tokenizer


def pos_tokenizer() -> jieba.posseg.POSTokenizer:
    get_tokenizer()
    assert _pos_tokenizer is not None
    return _pos_tokenizer


@contextmanager
def using_tokenizers(pair: tuple[Any, Any]) -> Iterator[None]:
    """Make `pair` the shared tokenizers for a while (tests compare loading paths with it)."""
    global _tokenizer, _pos_tokenizer
    with _jieba_lock:
        saved = _tokenizer, _pos_tokenizer
        _tokenizer, _pos_tokenizer = pair
    try:
        yield
    finally:
        with _jieba_lock:
            _tokenizer, _pos_tokenizer = saved


def _is_token(word: str) -> bool:
    return bool(word) and word not in STOPWORDS and bool(_TOKEN_CHARS.search(word))


def _figure_tokens(normalized: str) -> Iterator[tuple[int, int, list[str]]]:
    """(start, end, tokens) for every figure and every asked-for unit ("多少个")."""
    spans: list[tuple[int, int, list[str]]] = [
        (asked.start(), asked.end(), [asked.group("unit")])
        for asked in ASKED_UNIT_RE.finditer(normalized)
    ]
    asked_starts = [start for start, _, _ in spans]  # in order, not overlapping
    for figure in find_figures(normalized):
        before = bisect.bisect_right(asked_starts, figure.start) - 1
        if before >= 0 and figure.start < spans[before][1]:
            continue  # inside an asked-for unit
        whole = re.sub(r"\s+", "", normalized[figure.start : figure.end])
        tokens = [whole, figure.number]
        if figure.unit:
            tokens.append(figure.unit)
        if not figure.number[0].isdigit():  # Chinese numeral: also in Arabic digits
            tokens.append(figure.canonical)
            if figure.unit:
                tokens.append(figure.canonical + figure.unit)
        spans.append((figure.start, figure.end, list(dict.fromkeys(tokens))))
    spans.sort()
    yield from spans


def tokenize(text: str) -> list[str]:
    """BM25 tokens of `text`: normalised, figures whole and in parts, stopwords removed."""
    normalized = normalize(text)
    tokenizer = get_tokenizer()
    tokens: list[str] = []
    position = 0
    for start, end, figure_tokens in _figure_tokens(normalized):
        if start < position:
            continue
        tokens.extend(
            w for w in tokenizer.lcut_for_search(normalized[position:start]) if _is_token(w)
        )
        tokens.extend(figure_tokens)
        position = end
    tokens.extend(w for w in tokenizer.lcut_for_search(normalized[position:]) if _is_token(w))
    return [t.strip() for t in tokens if t.strip()]


def word_tags(normalized: str) -> str:
    """jieba's part-of-speech reading of a normalised passage, compactly: each word's tag and
    length, space-separated ("ns 2 v 2 m 4"); the words follow each other without gaps, so
    the lengths give their offsets. Computed when an index is built, so a question does not
    tag its passages again (`parse_word_tags`)."""
    return " ".join(f"{t.flag} {len(t.word)}" for t in pos_tokenizer().cut(normalized))


def parse_word_tags(encoded: str) -> list[tuple[int, int, str]]:
    """(start, end, tag) of each word written by `word_tags`."""
    parts = encoded.split()
    words = []
    position = 0
    for tag, size in zip(parts[::2], parts[1::2]):  # noqa: B905
        end = position + int(size)
        words.append((position, end, tag))
        position = end
    return words


# jieba's proper-name tags, and the endings a place name may be written with or without
NAME_TAGS = frozenset({"ns", "nr", "nrt", "nt", "nz", "nrfg"})
PLACE_SUFFIXES = "市县区省州镇乡村盟旗"
_HANZI_RE = re.compile(r"[\u4e00-\u9fff]+")


def name_readings(vocabulary: Iterable[str], known: dict[str, str] | None = None) -> dict[str, str]:
    """Toneless pinyin of the words jieba tags as names, and of a place name without its
    ending (大理州 -> dali): how an English question writes them (Hami -> 哈密). Computed when
    the index is built, so that answering never imports pypinyin (~0.5 s and ~50 MB);
    `known` readings (the previous build's) are reused rather than read again."""
    known = known or {}
    tags = pos_tokenizer().word_tag_tab
    readings: dict[str, str] = {}
    for term in sorted(vocabulary):
        if not (2 <= len(term) <= 5 and _HANZI_RE.fullmatch(term) and tags.get(term) in NAME_TAGS):
            continue
        words = [term]
        if term[-1] in PLACE_SUFFIXES and len(term) >= 3:
            words.append(term[:-1])
        for word in words:
            if word not in readings:
                readings[word] = known.get(word) or toneless_pinyin(word)
    return readings


def word_readings(vocabulary: Iterable[str], known: dict[str, str] | None = None) -> dict[str, str]:
    """Toneless pinyin of every word of two to four Chinese characters (高考 -> gaokao): an
    English question may borrow one (the gaokao). Computed when the index is built, like
    `name_readings`, so that answering never imports pypinyin."""
    known = known or {}
    return {
        term: known.get(term) or toneless_pinyin(term)
        for term in vocabulary
        if 2 <= len(term) <= 4 and _HANZI_RE.fullmatch(term)
    }


def toneless_pinyin(hanzi: str) -> str:
    """哈密 -> hami (pypinyin reads each character in its word: 区 is qu in 南关区)."""
    from pypinyin import lazy_pinyin  # imported on first use: it costs ~0.5 s and ~50 MB

    return "".join(lazy_pinyin(hanzi)).lower()
