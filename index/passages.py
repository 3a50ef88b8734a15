"""Split an `Article` into passages short enough to quote in a chat reply (one to three sentences)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.ingest import Article

MAX_PASSAGE_CHARS = 160
MAX_SENTENCES = 3
LONG_SENTENCE_CHARS = 240
# A sentence ends at 。！？!?; (and …), together with any closing quotes or brackets after it.
SENTENCE_RE = re.compile(r"[^。！？!?；;…]*(?:[。！？!?；;…]+[”」』\"’）)]*|$)")
CLAUSE_RE = re.compile(r"[^，,、：:]*(?:[，,、：:]|$)")


@dataclass(frozen=True)
class Passage:
    """A citable piece of an article: verbatim text, where it sits, and its section heading."""

    article: int  # index of the article in the index's article list
    position: int  # order of the passage inside its article
    text: str
    heading: str | None = None
    # its words' part-of-speech tags (`index.analyzer.word_tags`), when read from a saved index
    tags: str | None = field(default=None, compare=False, repr=False)
    # its text width, script and case folded (`index.analyzer.normalize`), when read from a saved index
    normalized: str | None = field(default=None, compare=False, repr=False)


def split_sentences(paragraph: str) -> list[str]:
    sentences = [s for s in SENTENCE_RE.findall(paragraph) if s.strip()]
    pieces: list[str] = []
    for sentence in sentences:
        if len(sentence) <= LONG_SENTENCE_CHARS:
            pieces.append(sentence)
            continue
        # An overlong sentence is cut between clauses, near the passage size.
        current = ""
        for clause in (c for c in CLAUSE_RE.findall(sentence) if c):
            if current and len(current) + len(clause) > MAX_PASSAGE_CHARS:
                pieces.append(current)
                current = ""
            current += clause
        if current:
            pieces.append(current)
    return pieces


def group_sentences(sentences: list[str]) -> list[str]:
    """Consecutive sentences joined up to MAX_SENTENCES and MAX_PASSAGE_CHARS."""
    groups: list[str] = []
    current: list[str] = []
    for sentence in sentences:
        too_long = sum(map(len, current)) + len(sentence) > MAX_PASSAGE_CHARS
        if current and (too_long or len(current) >= MAX_SENTENCES):
            groups.append("".join(current))
            current = []
        current.append(sentence)
    if current:
        groups.append("".join(current))
    return [g.strip() for g in groups if g.strip()]


def split_article(article: Article, article_index: int) -> list[Passage]:
    """Passages of one article in reading order; headings are context, not passages. A
    sentence the article repeats word for word is kept once, where it first appears: a page
    repeating one sentence 100,000 times is one passage, and does not outweigh its neighbours."""
    passages: list[Passage] = []
    said: set[str] = set()
    heading: str | None = None
    for block in article.blocks:
        if block.heading:
            heading = block.text
            continue
        sentences = []
        for sentence in split_sentences(block.text):
            if sentence.strip() not in said:
                said.add(sentence.strip())
                sentences.append(sentence)
        for text in group_sentences(sentences):
            passages.append(Passage(article_index, len(passages), text, heading))
    return passages
