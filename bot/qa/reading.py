"""A passage read once for answering: normalised text, tagged words, sentences, clauses, figures.

Offsets into `text` are offsets into the passage as the article writes it (normalisation keeps
the length), so every span found here is a verbatim span of the citation.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from index.analyzer import normalize, parse_word_tags, word_tags
from index.figures import Figure, find_figures

SENTENCE_END_RE = re.compile(r"[。！？!?；;…]+[”」』\"’）)]*|\n+")
CLAUSE_END_RE = re.compile(r"[，,、：:（(）)“”「」]")
CACHED_PASSAGES = 8192
_READ: OrderedDict[str, ReadPassage] = OrderedDict()  # passages read, by text
_READ_LOCK = threading.Lock()  # the bot answers in several threads


@dataclass(frozen=True)
class Word:
    """A word of a passage with jieba's part-of-speech tag and its offsets."""

    start: int
    end: int
    text: str
    tag: str


@dataclass
class ReadPassage:
    """What the answerer reads of one passage, computed once per passage text."""

    original: str
    text: str
    words: list[Word]
    figures: list[Figure]
    sentence_ends: list[int] = field(default_factory=list)
    clause_ends: list[int] = field(default_factory=list)

    def sentence_of(self, start: int, end: int) -> tuple[int, int]:
        """The bounds of the sentence holding the span `start:end`."""
        return _bounds(self.sentence_ends, start, end, len(self.text))

    def clause_of(self, start: int, end: int) -> tuple[int, int]:
        """The bounds of the clause (between commas, colons, brackets) holding the span."""
        return _bounds(self.clause_ends, start, end, len(self.text))


def _bounds(ends: list[int], start: int, end: int, size: int) -> tuple[int, int]:
    before = bisect.bisect_right(ends, start) - 1
    left = ends[before] if before >= 0 else 0
    after = bisect.bisect_left(ends, end)
    right = ends[after] if after < len(ends) else size
    return left, max(right, end)


def read_passage(
    original: str, tags: str | None = None, normalized: str | None = None
) -> ReadPassage:
    """Read a passage, once per process (the most recently read are kept, by text). `tags`
    and `normalized`: its words' tags and its normalised text as the index stores them
    (`index.analyzer.word_tags`, `normalize`), which spares computing them again."""
    with _READ_LOCK:
        cached = _READ.get(original)
        if cached is not None:
            _READ.move_to_end(original)
            return cached
    text = normalized if normalized is not None else normalize(original)
    if tags is None:
        tags = word_tags(text)
    words = [Word(start, end, text[start:end], tag) for start, end, tag in parse_word_tags(tags)]
    read = ReadPassage(
        original=original,
        text=text,
        words=words,
        figures=find_figures(text),
        sentence_ends=[m.end() for m in SENTENCE_END_RE.finditer(text)],
        clause_ends=[m.end() for m in CLAUSE_END_RE.finditer(text)],
    )
    with _READ_LOCK:
        _READ[original] = read
        if len(_READ) > CACHED_PASSAGES:
            _READ.popitem(last=False)
    return read
