"""A passage read once for answering: normalised text, tagged words, sentences, clauses, figures.

Offsets into `text` are offsets into the passage as the article writes it (normalisation keeps
the length), so every span found here is a verbatim span of the citation.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache

from index.analyzer import normalize, pos_tokenizer
from index.figures import Figure, find_figures

SENTENCE_END_RE = re.compile(r"[。！？!?；;…]+[”」』\"’）)]*|\n+")
CLAUSE_END_RE = re.compile(r"[，,、：:（(）)“”「」]")


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


@lru_cache(maxsize=8192)
def read_passage(original: str) -> ReadPassage:
    """Read a passage (cached by its text: the same passage is read once per process)."""
    text = normalize(original)
    words: list[Word] = []
    position = 0
    for token in pos_tokenizer().cut(text):
        size = len(token.word)
        words.append(Word(position, position + size, token.word, token.flag))
        position += size
    return ReadPassage(
        original=original,
        text=text,
        words=words,
        figures=find_figures(text),
        sentence_ends=[m.end() for m in SENTENCE_END_RE.finditer(text)],
        clause_ends=[m.end() for m in CLAUSE_END_RE.finditer(text)],
    )
